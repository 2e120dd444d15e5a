/**
 * Load generators of the suite, each returning every request's latency and outcome:
 * - `closedLoop`: autocannon, N connections each sending its next request when the last answered
 *   (the throughput scenarios);
 * - `closedLoopWith`: the same over node:http, for requests that need an await before them (a cache
 *   invalidation) or come in rounds (many clients on one slot at once);
 * - `openLoop`: a fixed arrival rate over node:http. Requests are sent on schedule whether or not
 *   earlier ones answered, and latency runs from the scheduled instant, so a stall shows up in the
 *   percentiles instead of slowing the sender (autocannon's `overallRate` paces a closed loop);
 * - `wrkRate`: wrk, for the nested page against the raw baseline, as bench/run.sh measured it.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Latency } from './report.js';

export type Outcome = 'ok' | 'error' | 'refused';

/** Decides what an answer was: GraphQL answers 200 with `errors`, and mutations answer refusals as userErrors. */
export type Classify = (status: number, body: string) => Outcome;

export interface LoadResult {
  latencies: number[];
  ok: number;
  errors: number;
  refused: number;
  seconds: number;
  /** The first few distinct error answers, to print when a scenario goes wrong. */
  samples: string[];
}

export function latencyOf(latencies: readonly number[]): Latency {
  if (!latencies.length) return { p50: NaN, p95: NaN, p99: NaN, max: NaN };
  const sorted = Float64Array.from(latencies).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1] };
}

/** A GraphQL answer is clean when it has no top-level errors and every payload's userErrors is empty. */
export const graphqlClassify: Classify = (status, body) => {
  if (status < 200 || status >= 300 || body.includes('"errors":')) return 'error';
  return body.includes('"userErrors":[{') ? 'error' : 'ok';
};

/** As `graphqlClassify`, but userErrors with one of these codes are expected refusals. */
export function refusalsAllowed(...codes: string[]): Classify {
  return (status, body) => {
    const outcome = graphqlClassify(status, body);
    if (outcome === 'error' && status === 200 && !body.includes('"errors":') && codes.some((c) => body.includes(`"code":"${c}"`))) return 'refused';
    return outcome;
  };
}

function tally(): LoadResult {
  return { latencies: [], ok: 0, errors: 0, refused: 0, seconds: 0, samples: [] };
}

function record(result: LoadResult, outcome: Outcome, ms: number, body: string) {
  result.latencies.push(ms);
  result[outcome === 'ok' ? 'ok' : outcome === 'error' ? 'errors' : 'refused']++;
  if (outcome === 'error' && result.samples.length < 3 && !result.samples.includes(body.slice(0, 300))) result.samples.push(body.slice(0, 300));
}

interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
  on(event: 'reqError', listener: (error: Error) => void): void;
}
type Autocannon = (options: Record<string, unknown>, done: (error: Error | null, result: { errors: number; timeouts: number; non2xx: number; duration: number }) => void) => AutocannonInstance;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface Target {
  url: string;
  headers: Record<string, string>;
}

/** `connections` clients for `seconds`, each POSTing `nextBody()` as soon as its last request answered. */
export function closedLoop(target: Target, options: { connections: number; seconds: number; nextBody: () => string; classify: Classify }): Promise<LoadResult> {
  const result = tally();
  // autocannon emits `response` (status, time) and then, in the same tick, calls `verifyBody` with
  // the body: every answer, the first of each connection included (its `onResponse` misses those).
  let last = { status: 0, ms: 0 };
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const instance = autocannon(
      {
        url: target.url,
        connections: options.connections,
        duration: options.seconds,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...target.headers },
        requests: [{ setupRequest: (request: Record<string, unknown>) => ({ ...request, body: options.nextBody() }) }],
        verifyBody: (body: string) => {
          record(result, options.classify(last.status, body), last.ms, body);
          return true;
        },
      },
      (error, summary) => {
        if (error) return reject(error);
        result.seconds = (performance.now() - started) / 1000;
        // Connection errors and timeouts never reach `response`.
        result.errors += summary.errors + summary.timeouts;
        resolve(result);
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => (last = { status, ms }));
  });
}

const agentFor = (sockets: number) => new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });

/** One POST over node:http: status and body, or a transport error as status 0. */
export function post(agent: http.Agent, target: Target, body: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const request = http.request(target.url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...target.headers }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', (e) => resolve({ status: 0, body: String(e) }));
    });
    request.on('timeout', () => request.destroy(new Error(`No answer in ${timeoutMs} ms`)));
    request.on('error', (e) => resolve({ status: 0, body: String(e) }));
    request.end(body);
  });
}

export interface Job {
  body: string;
  classify: Classify;
  /** Runs before the request is sent and is not timed (a cache invalidation). */
  before?: () => Promise<void>;
  /** Sees the answer (a created booking's id). */
  after?: (status: number, body: string) => void;
}

/**
 * `connections` workers for `seconds` (or until `next` returns null), each awaiting `before`, then
 * its request; with `rounds`, all workers start each job list together (`next` gives one list per
 * round) and the round ends when the last answered.
 */
export async function closedLoopWith(target: Target, options: { connections: number; seconds: number; next: () => Job | null }): Promise<LoadResult> {
  const result = tally();
  const agent = agentFor(options.connections);
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const worker = async () => {
    for (let job = options.next(); job && performance.now() < deadline; job = options.next()) {
      await job.before?.();
      const t = performance.now();
      const answer = await post(agent, target, job.body);
      record(result, answer.status === 0 ? 'error' : job.classify(answer.status, answer.body), performance.now() - t, answer.body);
      job.after?.(answer.status, answer.body);
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  result.seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return result;
}

/** Rounds of simultaneous requests: each round's jobs are sent at once, the next round starts when all answered. */
export async function rounds(target: Target, options: { rounds: number; round: (i: number) => Job[] }): Promise<LoadResult> {
  const result = tally();
  const first = options.round(0);
  const agent = agentFor(first.length);
  const started = performance.now();
  for (let i = 0; i < options.rounds; i++) {
    const jobs = i === 0 ? first : options.round(i);
    await Promise.all(
      jobs.map(async (job) => {
        const t = performance.now();
        const answer = await post(agent, target, job.body);
        record(result, answer.status === 0 ? 'error' : job.classify(answer.status, answer.body), performance.now() - t, answer.body);
        job.after?.(answer.status, answer.body);
      }),
    );
  }
  result.seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return result;
}

/**
 * `rate` requests per second for `seconds`, on schedule. A request is late (client-side queueing)
 * when the sender's loop runs behind; its latency still counts from the scheduled instant. More than
 * `maxInFlight` unanswered requests means the server stopped keeping up: the excess is counted as
 * errors instead of piling up sockets. `onSecond` is called about once a second (RSS sampling).
 */
export async function openLoop(target: Target, options: { rate: number; seconds: number; next: () => Job; maxInFlight?: number; onTick?: (elapsedSeconds: number) => void }): Promise<LoadResult & { late: number; dropped: number }> {
  const result = { ...tally(), late: 0, dropped: 0 };
  const maxInFlight = options.maxInFlight ?? 1000;
  const agent = agentFor(maxInFlight);
  const total = Math.round(options.rate * options.seconds);
  const interval = 1000 / options.rate;
  const started = performance.now();
  let sent = 0, inFlight = 0, lastTick = 0;
  const inFlightDone: Promise<void>[] = [];
  await new Promise<void>((resolve) => {
    const pump = () => {
      const now = performance.now();
      while (sent < total && started + sent * interval <= now) {
        const scheduled = started + sent * interval;
        sent++;
        if (now - scheduled > 50) result.late++;
        if (inFlight >= maxInFlight) {
          result.dropped++;
          record(result, 'error', now - scheduled, 'dropped: too many requests in flight');
          continue;
        }
        const job = options.next();
        inFlight++;
        inFlightDone.push(
          post(agent, target, job.body).then((answer) => {
            inFlight--;
            record(result, answer.status === 0 ? 'error' : job.classify(answer.status, answer.body), performance.now() - scheduled, answer.body);
            job.after?.(answer.status, answer.body);
          }),
        );
      }
      const elapsed = (now - started) / 1000;
      if (options.onTick && elapsed - lastTick >= 1) {
        lastTick = Math.floor(elapsed);
        options.onTick(elapsed);
      }
      if (sent >= total) resolve();
      else setTimeout(pump, Math.max(0, Math.min(5, started + sent * interval - performance.now())));
    };
    pump();
  });
  await Promise.all(inFlightDone);
  result.seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return result;
}

/** wrk for `seconds` at `connections`: requests/s and latency percentiles (a Lua `done` prints them). */
export async function wrkRate(url: string, options: { connections: number; seconds: number; body: string; headers: Record<string, string> }): Promise<{ rate: number; latency: Latency; requests: number; errors: number }> {
  const script = join(tmpdir(), `bench-suite-${process.pid}.lua`);
  const headers = Object.entries({ 'content-type': 'application/json', ...options.headers }).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  writeFileSync(script, [
    'wrk.method = "POST"',
    `wrk.body = ${JSON.stringify(options.body)}`,
    ...headers,
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format("JSON {\\"requests\\":%d,\\"seconds\\":%f,\\"errors\\":%d,\\"p50\\":%f,\\"p95\\":%f,\\"p99\\":%f,\\"max\\":%f}\\n",',
    '    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.status + e.timeout,',
    '    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))',
    'end',
  ].join('\n'));
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile('wrk', ['-t2', `-c${options.connections}`, `-d${options.seconds}s`, '-s', script, url], (error, out) => (error ? reject(error) : resolve(out))),
  );
  const json = JSON.parse(/^JSON (.*)$/m.exec(stdout)![1]);
  return { rate: json.requests / json.seconds, requests: json.requests, errors: json.errors, latency: { p50: json.p50, p95: json.p95, p99: json.p99, max: json.max } };
}
