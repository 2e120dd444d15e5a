import { describe, expect, it } from 'vitest';
import { comparisonMarkdown, resultMarkdown, resultSvg, type ScenarioResult, type SuiteResult } from '../../bench/suite/report.js';

function scenario(name: string, p50: number, overrides: Partial<ScenarioResult> = {}): ScenarioResult {
  return {
    name,
    description: `the ${name} scenario`,
    requests: 1000,
    durationSeconds: 10,
    requestsPerSecond: 100,
    latencyMs: { p50, p95: p50 * 2, p99: p50 * 3, max: p50 * 4 },
    errors: 0,
    statementsPerOp: 4,
    operations: { [name]: { count: 1000, statementsPerOp: 4, cacheHits: 0, cacheMisses: 0 } },
    peakRssMb: 200,
    loadAverage: { start: [1.5, 1, 0.5], end: [2, 1, 0.5] },
    ...overrides,
  };
}

function suiteResult(scenarios: ScenarioResult[], extra: Partial<SuiteResult> = {}): SuiteResult {
  return {
    startedAt: '2026-12-01T18:00:00.000Z',
    finishedAt: '2026-12-01T18:05:00.000Z',
    database: { url: 'postgres://127.0.0.1:5432/bench', counts: { bookings: 10000 } },
    machine: { cpus: 2, node: 'v20.20.2' },
    api: { pid: 42, startRssMb: 150 },
    scenarios,
    ...extra,
  };
}

describe('Benchmark report: JSON to Markdown and SVG', () => {
  it('writes one table row per scenario with its rate, percentiles, errors, refusals, statements and peak RSS', () => {
    const md = resultMarkdown(suiteResult([scenario('dashboard', 12.34, { apiCpuMsPerRequest: 3.456 }), scenario('booking-create-contended', 5, { errors: 1, refused: 19, statementsPerOp: null })]));
    expect(md).toContain('| dashboard | 100 | 12.3 | 24.7 | 37.0 | 0 | 4.00 | 3.46 | 200 | 1.5 / 1.0 / 0.5 -> 2.0 / 1.0 / 0.5 |');
    expect(md).toContain('| booking-create-contended | 100 | 5.0 | 10.0 | 15.0 | 1 (+19 refused) | - | - | 200 |');
    expect(md).toContain('10,000 bookings');
  });

  it('prints the raw-baseline ratio and the soak curve when the run has them', () => {
    const samples = Array.from({ length: 100 }, (_, i) => ({ seconds: i * 6, rssMb: 200 + i, loadAverage1: 3 }));
    const md = resultMarkdown(suiteResult([scenario('nested', 20)], {
      rawBaseline: { engine: 'wrk', api: [300, 310], raw: [700, 690], ratios: [0.4286, 0.4493], medianRatio: 0.4493 },
      soak: { requestsPerSecond: 500, minutes: 10, samples },
    }));
    expect(md).toContain('ratios 0.429, 0.449, **median ratio 0.449**');
    const curveRows = md.split('\n').filter((l) => /^\| \d+\.\d \| \d+ \| 3\.0 \|$/.test(l));
    // Every fifth sample of 100, and the last: a curve that fits a page.
    expect(curveRows.length).toBe(21);
    expect(curveRows.at(-1)).toBe('| 9.9 | 299 | 3.0 |');
  });

  it('draws three bars per scenario on a log scale, taller for slower percentiles, and escapes names', () => {
    const svg = resultSvg(suiteResult([scenario('a<b', 1), scenario('slow', 100)]));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('a&lt;b');
    const heights = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="14" height="([\d.]+)" fill="[^"]+"><title>([^<]+)<\/title>/g)].map((m) => ({ title: m[2], height: Number(m[1]) }));
    expect(heights.map((h) => h.title)).toEqual(['a&lt;b p50 1.0 ms', 'a&lt;b p95 2.0 ms', 'a&lt;b p99 3.0 ms', 'slow p50 100.0 ms', 'slow p95 200.0 ms', 'slow p99 300.0 ms']);
    const [p50a, p95a, , p50slow] = heights.map((h) => h.height);
    expect(p95a).toBeGreaterThan(p50a);
    // Log scale: 1 ms to 100 ms is two decades, 1 to 2 ms less than a third of one.
    expect(p50slow - p50a).toBeGreaterThan(6 * (p95a - p50a));
  });

  it('compares two data sets with the median over runs and flags a ratio over the target', () => {
    const small = { label: '10k', runs: [suiteResult([scenario('node', 10, { apiCpuMsPerRequest: 2 }), scenario('dashboard', 20)]), suiteResult([scenario('node', 12, { apiCpuMsPerRequest: 2 }), scenario('dashboard', 22)])] };
    const large = { label: '1M', runs: [suiteResult([scenario('node', 11, { apiCpuMsPerRequest: 2.2 }), scenario('dashboard', 40)])] };
    const md = comparisonMarkdown(small, large);
    // Medians: 10k node p50 12 (upper middle of 10, 12), 1M 11.
    expect(md).toContain('| node | 12.0 | 11.0 | 0.92x | 24.0 | 22.0 | 0.92x | 100 | 100 | 2.00 -> 2.20 | 1.10x |');
    expect(md).toContain('| dashboard | 22.0 | 40.0 | 1.82x **over** | 44.0 | 80.0 | 1.82x **over** |');
  });
});
