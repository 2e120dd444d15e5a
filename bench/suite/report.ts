/**
 * The benchmark suite's results and what is written from them: `bench/results/<stamp>.json` (the
 * data), `<stamp>.md` (a table per run) and `<stamp>.svg` (latency percentiles per scenario, a
 * hand-written SVG with a log scale). Pure functions of the JSON, so a report can be rewritten from
 * an old run and tested without running anything.
 */

/** Latency of the requests of one scenario, in milliseconds. */
export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** What the API's request log said about one operation of a scenario (one line per request). */
export interface OperationTally {
  count: number;
  /** Mean SQL statements per request (BEGIN and COMMIT not counted, as in the log line). */
  statementsPerOp: number;
  cacheHits: number;
  cacheMisses: number;
}

export interface ScenarioResult {
  name: string;
  description: string;
  /** Requests answered in the measured window (any status). */
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  latencyMs: Latency;
  /** Transport failures, non-2xx answers, top-level GraphQL errors, unexpected userErrors. */
  errors: number;
  /** Expected refusals (a slot another client took first): answered, not errors. */
  refused?: number;
  /** Mean statements per request over the scenario's GraphQL operations; null without log lines. */
  statementsPerOp: number | null;
  operations: Record<string, OperationTally>;
  /**
   * CPU time the API process spent per request (user + system, /proc/<pid>/stat): unlike latency
   * and rate, it barely moves with the load other work puts on a shared machine.
   */
  apiCpuMsPerRequest?: number;
  /** Highest VmRSS of the API process sampled during the scenario. */
  peakRssMb: number;
  /** os.loadavg() when the scenario started and ended (1, 5, 15 minutes). */
  loadAverage: { start: number[]; end: number[] };
  /** Scenario-specific figures (target rate, baseline ratio, subscribers...). */
  extra?: Record<string, number | string>;
}

export interface RssSample {
  seconds: number;
  rssMb: number;
  loadAverage1: number;
}

export interface SuiteResult {
  startedAt: string;
  finishedAt: string;
  /** The database URL without credentials, and what it holds. */
  database: { url: string; counts: Record<string, number> };
  machine: { cpus: number; node: string };
  api: { pid: number; startRssMb: number };
  scenarios: ScenarioResult[];
  /** The nested page against the raw baseline, per round and the median. */
  rawBaseline?: { engine: string; api: number[]; raw: number[]; ratios: number[]; medianRatio: number };
  /** The memory soak's curve: the API's resident memory every few seconds. */
  soak?: { requestsPerSecond: number; minutes: number; samples: RssSample[] };
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' / ');

/** The run as a Markdown document: one row per scenario, then the baseline ratio and the soak curve. */
export function resultMarkdown(result: SuiteResult): string {
  const lines: string[] = [];
  lines.push(`# Benchmark suite, ${result.startedAt}`, '');
  const counts = Object.entries(result.database.counts).map(([k, v]) => `${v.toLocaleString('en-US')} ${k}`).join(', ');
  lines.push(`Database \`${result.database.url}\` (${counts}); ${result.machine.cpus} CPUs, Node ${result.machine.node}; API process ${result.api.pid} started at ${result.api.startRssMb} MB resident.`, '');
  lines.push('| scenario | req/s | p50 ms | p95 ms | p99 ms | errors | SQL/op | API CPU ms/req | peak RSS MB | load avg (start -> end) |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const s of result.scenarios) {
    const errors = s.refused ? `${s.errors} (+${s.refused} refused)` : String(s.errors);
    lines.push(`| ${s.name} | ${fmt(s.requestsPerSecond, 0)} | ${fmt(s.latencyMs.p50)} | ${fmt(s.latencyMs.p95)} | ${fmt(s.latencyMs.p99)} | ${errors} | ${s.statementsPerOp === null ? '-' : fmt(s.statementsPerOp, 2)} | ${s.apiCpuMsPerRequest === undefined ? '-' : fmt(s.apiCpuMsPerRequest, 2)} | ${s.peakRssMb} | ${load(s.loadAverage.start)} -> ${load(s.loadAverage.end)} |`);
  }
  lines.push('');
  for (const s of result.scenarios) {
    const extra = s.extra ? Object.entries(s.extra).map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v, Number.isInteger(v) ? 0 : 2) : v}`).join(', ') : '';
    const ops = Object.entries(s.operations)
      .map(([op, t]) => `${op} ${t.count} x ${fmt(t.statementsPerOp, 2)} statements${t.cacheHits + t.cacheMisses ? `, cache ${t.cacheHits} hits / ${t.cacheMisses} misses` : ''}`)
      .join('; ');
    lines.push(`- **${s.name}**: ${s.description}${extra ? ` (${extra})` : ''}.${ops ? ` Log: ${ops}.` : ''}`);
  }
  if (result.rawBaseline) {
    const b = result.rawBaseline;
    lines.push('', `Nested page against the raw baseline (${b.engine}, rounds alternating): API ${b.api.map((x) => fmt(x, 0)).join(', ')} req/s, raw ${b.raw.map((x) => fmt(x, 0)).join(', ')} req/s, ratios ${b.ratios.map((r) => r.toFixed(3)).join(', ')}, **median ratio ${b.medianRatio.toFixed(3)}**.`);
  }
  if (result.soak) {
    const { samples } = result.soak;
    lines.push('', `Memory soak: the mixed workload at ${result.soak.requestsPerSecond} requests/s for ${result.soak.minutes} minutes, the API's resident memory (MB) over time:`, '');
    lines.push('| minute | RSS MB | load avg |', '| ---: | ---: | ---: |');
    // At most about 20 rows: every n-th sample, and the last.
    const every = Math.max(1, Math.ceil(samples.length / 20));
    samples.forEach((p, i) => {
      if (i % every === 0 || i === samples.length - 1) lines.push(`| ${(p.seconds / 60).toFixed(1)} | ${p.rssMb} | ${p.loadAverage1.toFixed(1)} |`);
    });
  }
  return lines.join('\n') + '\n';
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * p50, p95 and p99 per scenario as grouped bars on a log scale (latencies span 1 ms to seconds),
 * and, when the run has a soak, its RSS curve below. No dependency: the SVG is written by hand.
 */
export function resultSvg(result: SuiteResult): string {
  const scenarios = result.scenarios;
  const left = 60, top = 40, plotHeight = 260, group = 66, bar = 16;
  const width = Math.max(480, left + 20 + group * scenarios.length);
  const soakHeight = result.soak?.samples.length ? 220 : 0;
  const height = top + plotHeight + 110 + soakHeight;
  const all = scenarios.flatMap((s) => [s.latencyMs.p50, s.latencyMs.p95, s.latencyMs.p99]).filter((x) => x > 0);
  const lo = Math.floor(Math.log10(Math.max(0.1, Math.min(1, ...all))));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(10, ...all))));
  const y = (ms: number) => top + plotHeight - ((Math.log10(Math.max(ms, 10 ** lo)) - lo) / (hi - lo)) * plotHeight;
  const colors = { p50: '#4c78a8', p95: '#f58518', p99: '#e45756' } as const;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="${left}" y="20" font-size="14">Latency percentiles per scenario (ms, log scale), ${escapeXml(result.startedAt)}</text>`);
  for (let e = lo; e <= hi; e++) {
    const gy = y(10 ** e);
    out.push(`<line x1="${left}" x2="${width - 10}" y1="${gy}" y2="${gy}" stroke="#ddd"/><text x="${left - 6}" y="${gy + 4}" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(1)}</text>`);
  }
  scenarios.forEach((s, i) => {
    const x0 = left + 10 + i * group;
    (['p50', 'p95', 'p99'] as const).forEach((p, j) => {
      const v = s.latencyMs[p];
      const by = y(v);
      out.push(`<rect x="${x0 + j * bar}" y="${by.toFixed(1)}" width="${bar - 2}" height="${(top + plotHeight - by).toFixed(1)}" fill="${colors[p]}"><title>${escapeXml(s.name)} ${p} ${v.toFixed(1)} ms</title></rect>`);
    });
    const lx = x0 + bar * 1.5, ly = top + plotHeight + 10;
    out.push(`<text x="${lx}" y="${ly}" transform="rotate(45 ${lx} ${ly})">${escapeXml(s.name)}</text>`);
  });
  (['p50', 'p95', 'p99'] as const).forEach((p, j) => {
    out.push(`<rect x="${width - 150 + j * 46}" y="8" width="10" height="10" fill="${colors[p]}"/><text x="${width - 136 + j * 46}" y="17">${p}</text>`);
  });
  if (soakHeight && result.soak) {
    const samples = result.soak.samples;
    const sTop = top + plotHeight + 120, sHeight = soakHeight - 60, sWidth = width - left - 20;
    const maxS = Math.max(1, ...samples.map((p) => p.seconds));
    const maxMb = Math.max(100, ...samples.map((p) => p.rssMb)) * 1.1;
    const sx = (sec: number) => left + (sec / maxS) * sWidth;
    const sy = (mb: number) => sTop + sHeight - (mb / maxMb) * sHeight;
    out.push(`<text x="${left}" y="${sTop - 10}" font-size="13">API resident memory during the soak (${result.soak.requestsPerSecond} req/s, ${result.soak.minutes} min), MB</text>`);
    for (let mb = 0; mb <= maxMb; mb += maxMb > 600 ? 200 : 100) out.push(`<line x1="${left}" x2="${left + sWidth}" y1="${sy(mb)}" y2="${sy(mb)}" stroke="#ddd"/><text x="${left - 6}" y="${sy(mb) + 4}" text-anchor="end">${mb}</text>`);
    out.push(`<polyline fill="none" stroke="#4c78a8" stroke-width="2" points="${samples.map((p) => `${sx(p.seconds).toFixed(1)},${sy(p.rssMb).toFixed(1)}`).join(' ')}"/>`);
    out.push(`<text x="${left + sWidth}" y="${sTop + sHeight + 16}" text-anchor="end">${(maxS / 60).toFixed(1)} min</text><text x="${left}" y="${sTop + sHeight + 16}">0</text>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Median of the values (the upper middle one for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

/**
 * Two data sets side by side (the 10k and the 1M bookings runs): for each scenario both have, the
 * median of the runs' p50 and of their p95, and the ratio large / small. Several runs of each set
 * may be given; medians are taken over them.
 */
export function comparisonMarkdown(small: { label: string; runs: SuiteResult[] }, large: { label: string; runs: SuiteResult[] }, target = 1.2): string {
  const names = [...new Set(small.runs[0].scenarios.map((s) => s.name))].filter((n) => large.runs.some((r) => r.scenarios.some((s) => s.name === n)));
  const pick = (runs: SuiteResult[], name: string, f: (s: ScenarioResult) => number) =>
    median(runs.flatMap((r) => r.scenarios.filter((s) => s.name === name).map(f)));
  const lines = [
    `| scenario | ${small.label} p50 | ${large.label} p50 | ratio | ${small.label} p95 | ${large.label} p95 | ratio | ${small.label} req/s | ${large.label} req/s | API CPU ms/req ${small.label} -> ${large.label} | ratio |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const mark = (r: number) => `${r.toFixed(2)}x${r > target ? ' **over**' : ''}`;
  for (const name of names) {
    const [s50, l50] = [pick(small.runs, name, (s) => s.latencyMs.p50), pick(large.runs, name, (s) => s.latencyMs.p50)];
    const [s95, l95] = [pick(small.runs, name, (s) => s.latencyMs.p95), pick(large.runs, name, (s) => s.latencyMs.p95)];
    const [sr, lr] = [pick(small.runs, name, (s) => s.requestsPerSecond), pick(large.runs, name, (s) => s.requestsPerSecond)];
    const [sc, lc] = [pick(small.runs, name, (s) => s.apiCpuMsPerRequest ?? NaN), pick(large.runs, name, (s) => s.apiCpuMsPerRequest ?? NaN)];
    const cpu = Number.isFinite(sc) && Number.isFinite(lc) ? `| ${fmt(sc, 2)} -> ${fmt(lc, 2)} | ${mark(lc / sc)} |` : '| - | - |';
    lines.push(`| ${name} | ${fmt(s50)} | ${fmt(l50)} | ${mark(l50 / s50)} | ${fmt(s95)} | ${fmt(l95)} | ${mark(l95 / s95)} | ${fmt(sr, 0)} | ${fmt(lr, 0)} ${cpu}`);
  }
  const loads = (runs: SuiteResult[]) => median(runs.flatMap((r) => r.scenarios.map((s) => s.loadAverage.start[0]))).toFixed(1);
  const count = (runs: SuiteResult[]) => Math.max(...names.map((n) => runs.flatMap((r) => r.scenarios.filter((s) => s.name === n)).length));
  lines.push('', `Medians of ${count(small.runs)} measurement(s) per scenario on ${small.label} and ${count(large.runs)} on ${large.label}; median 1-minute load average at their starts: ${small.label} ${loads(small.runs)}, ${large.label} ${loads(large.runs)}. Target ratio <= ${target}x.`);
  return lines.join('\n') + '\n';
}
