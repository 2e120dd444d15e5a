/**
 * The server's CPU time per answer of the nested benchmark page, and the bytes it sends, for each
 * Accept-Encoding a client may send. CPU time (from /proc, the API process alone) says what
 * compression costs even on a busy machine, where requests per second swing with the neighbours.
 * Run bench/run.sh once first (it seeds the database), then:
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/booking_api_bench npx tsx bench/compression-cpu.ts
 *   REQUESTS=2000 ROUNDS=3 CONNECTIONS=10 PORT=4103 ...
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { signDevelopmentToken } from '../src/auth/tokens.js';

const REQUESTS = Number(process.env.REQUESTS ?? 2000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10);
const PORT = Number(process.env.PORT ?? 4103);
const VARIANTS = ['', 'gzip', 'br', 'gzip, br'];
const QUERY = '{ businesses(first: 20) { nodes { name bookings(first: 10) { nodes { id startsAt status service { name } partner { name } customer { name } } } } } }';
if (!process.env.DATABASE_URL) throw new Error('Expected DATABASE_URL of the seeded benchmark database (bench/run.sh seeds booking_api_bench).');

const secret = 'bench-secret';
// As `npm start` starts it, like bench/run.sh.
const api = spawn(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', 'src/index.ts'], {
  env: { ...process.env, PORT: String(PORT), AUTH_JWT_SECRET: secret, AUTH_ADMIN_SUBJECTS: 'bench', NODE_ENV: 'production', DEMO_DATA: 'false', SLOT_GENERATION_INTERVAL_MINUTES: '0', PG_POOL_MAX: '10' },
  stdio: 'ignore',
});
const stop = () => api.kill();
process.on('exit', stop);

/** utime + stime of the API process, in milliseconds (USER_HZ is 100 on Linux). */
function cpuMs(): number {
  const fields = readFileSync(`/proc/${api.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const token = await signDevelopmentToken(secret, { sub: 'bench' });
const body = JSON.stringify({ query: QUERY });
const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
function post(acceptEncoding: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    if (acceptEncoding) headers['accept-encoding'] = acceptEncoding;
    const req = request({ host: '127.0.0.1', port: PORT, path: '/graphql', method: 'POST', headers, agent }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`Expected 200, got ${res.statusCode}.`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
async function run(acceptEncoding: string, count: number): Promise<{ cpuPerAnswer: number; bytes: number }> {
  let sent = 0;
  let bytes = 0;
  const before = cpuMs();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (sent < count) {
        sent++;
        bytes = await post(acceptEncoding);
      }
    }),
  );
  return { cpuPerAnswer: (cpuMs() - before) / count, bytes };
}

for (let i = 0; i < 120; i++) {
  try {
    await post('');
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 500));
  }
}
for (const variant of VARIANTS) await run(variant, 300); // warm-up: JIT, pools, compiled documents
const results = new Map(VARIANTS.map((v) => [v, [] as number[]]));
const sizes = new Map<string, number>();
for (let round = 1; round <= ROUNDS; round++) {
  for (const variant of VARIANTS) {
    const { cpuPerAnswer, bytes } = await run(variant, REQUESTS);
    results.get(variant)!.push(cpuPerAnswer);
    sizes.set(variant, bytes);
  }
  console.log(`round ${round}: ` + VARIANTS.map((v) => `${v || 'none'} ${results.get(v)!.at(-1)!.toFixed(3)} ms`).join(', '));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(results.get('')!);
console.log('\naccept-encoding | server CPU per answer (median) | vs none | bytes per answer (body)');
for (const variant of VARIANTS) {
  const m = median(results.get(variant)!);
  console.log(`${(variant || 'none').padEnd(15)} | ${m.toFixed(3).padStart(27)} ms | ${(m / base).toFixed(3)} | ${sizes.get(variant)}`);
}
agent.destroy();
stop();
