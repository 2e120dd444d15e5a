/**
 * What metrics and tracing cost per answer of the nested benchmark page, in the API process's CPU
 * time (from /proc), which stays readable on a busy machine where requests per second swing with
 * the neighbours. Starts the API as `npm start` does with tracing off and with tracing on (to a
 * collector in this process that accepts and drops the spans), and with BASELINE_DIR also a
 * checkout of another commit (before the telemetry) with its own node_modules; rounds alternate
 * between them. Run bench/run.sh once first (it seeds the database), then:
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/booking_api_bench npx tsx bench/telemetry-cpu.ts
 *   BASELINE_DIR=/tmp/before REQUESTS=2000 ROUNDS=5 CONNECTIONS=10 PORT=4104 ...
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signDevelopmentToken } from '../src/auth/tokens.js';

const REQUESTS = Number(process.env.REQUESTS ?? 2000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10);
const PORT = Number(process.env.PORT ?? 4104);
const BASELINE_DIR = process.env.BASELINE_DIR;
const QUERY = '{ businesses(first: 20) { nodes { name bookings(first: 10) { nodes { id startsAt status service { name } partner { name } customer { name } } } } } }';
if (!process.env.DATABASE_URL) throw new Error('Expected DATABASE_URL of the seeded benchmark database (bench/run.sh seeds booking_api_bench).');

// The collector: answers every export with 200 and counts what arrived.
let exports = 0;
const collector = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    exports++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
const collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;

const secret = 'bench-secret';
interface Variant {
  name: string;
  port: number;
  process: ChildProcess;
}
function startApi(name: string, port: number, cwd: string, env: Record<string, string>): Variant {
  const child = spawn(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', 'src/index.ts'], {
    cwd,
    env: { ...process.env, PORT: String(port), AUTH_JWT_SECRET: secret, AUTH_ADMIN_SUBJECTS: 'bench', NODE_ENV: 'production', DEMO_DATA: 'false', SLOT_GENERATION_INTERVAL_MINUTES: '0', PG_POOL_MAX: '10', RATE_LIMIT_POINTS: '100000000', ...env },
    stdio: 'ignore',
  });
  return { name, port, process: child };
}
const variants: Variant[] = [
  ...(BASELINE_DIR ? [startApi('baseline', PORT + 2, BASELINE_DIR, {})] : []),
  startApi('tracing off', PORT, process.cwd(), { OTEL_EXPORTER_OTLP_ENDPOINT: '' }),
  startApi('tracing on', PORT + 1, process.cwd(), { OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl }),
];
const stop = () => variants.forEach((v) => v.process.kill());
process.on('exit', stop);

/** utime + stime of a process, in milliseconds (USER_HZ is 100 on Linux). */
function cpuMs(variant: Variant): number {
  const fields = readFileSync(`/proc/${variant.process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const token = await signDevelopmentToken(secret, { sub: 'bench' });
const body = JSON.stringify({ query: QUERY });
const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
function post(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`Expected 200, got ${res.statusCode}.`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
async function run(variant: Variant, count: number): Promise<number> {
  let sent = 0;
  const before = cpuMs(variant);
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (sent < count) {
        sent++;
        await post(variant.port);
      }
    }),
  );
  return (cpuMs(variant) - before) / count;
}

for (const variant of variants) {
  for (let i = 0; ; i++) {
    try {
      await post(variant.port);
      break;
    } catch (error) {
      if (i === 240) throw new Error(`The ${variant.name} API did not answer: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
for (const variant of variants) await run(variant, 300); // warm-up: JIT, pools, compiled documents
const results = new Map(variants.map((v) => [v.name, [] as number[]]));
for (let round = 1; round <= ROUNDS; round++) {
  // Each round in another order, so drift does not always favour the same one.
  const order = round % 2 ? variants : [...variants].reverse();
  for (const variant of order) results.get(variant.name)!.push(await run(variant, REQUESTS));
  console.log(`round ${round}: ` + variants.map((v) => `${v.name} ${results.get(v.name)!.at(-1)!.toFixed(3)} ms`).join(', '));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const reference = median(results.get(variants[0].name)!);
console.log(`\nvariant      | server CPU per answer (median, min-max) | vs ${variants[0].name}`);
for (const variant of variants) {
  const xs = results.get(variant.name)!;
  console.log(`${variant.name.padEnd(12)} | ${median(xs).toFixed(3).padStart(8)} ms (${Math.min(...xs).toFixed(3)}-${Math.max(...xs).toFixed(3)}) | ${(median(xs) / reference).toFixed(3)}`);
}
console.log(`collector: ${exports} exports received`);
agent.destroy();
stop();
collector.close();
