/**
 * Where compressing a GraphQL answer starts to pay: for bodies of the nested page's shape at
 * growing sizes, the server's CPU time to compress (gzip and brotli, sync and through the thread
 * pool) against the bytes it saves, priced on loopback (measured here: the CPU and latency of
 * moving a byte through node:http on 127.0.0.1) and on real links (transmission time alone).
 *   npx tsx bench/compression-threshold.ts
 * Timings vary with the machine's load: run it on a quiet machine and read the ratios.
 */
import { createServer, request, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { brotliCompress, brotliCompressSync, constants, gzip, gzipSync } from 'node:zlib';

const STATUSES = ['PENDING', 'CONFIRMED', 'CANCELLED'];
/** A nested page like bench/run.sh's, cut to about `bytes` characters. */
function page(bytes: number): string {
  const businesses: unknown[] = [];
  let text = '';
  for (let b = 1; text.length < bytes; b++) {
    const bookings = Array.from({ length: 10 }, (_, i) => ({
      id: Buffer.from(`Booking:${b * 100 + i}`).toString('base64url'),
      startsAt: new Date(Date.UTC(2026, 11, 1 + i, 10 + (b % 8))).toISOString(),
      status: STATUSES[(b + i) % 3],
      service: { name: `Service ${1 + ((b + i) % 4)}` },
      partner: { name: `Partner ${1 + ((b * 7 + i) % 5)}` },
      customer: { name: `Customer ${1 + ((b * 13 + i * 7) % 30)}` },
    }));
    businesses.push({ name: `Bench business ${b}`, bookings: { nodes: bookings } });
    text = JSON.stringify({ data: { businesses: { nodes: businesses } } });
  }
  // Cut inside a string value so the tail stays JSON-like; what matters is the byte mix.
  return text.slice(0, bytes);
}

/** Mean microseconds per call of `work`, run for about `budgetMs`. */
async function timeIt(work: () => unknown, budgetMs = 150): Promise<number> {
  for (let i = 0; i < 20; i++) await work();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < budgetMs) {
    await work();
    n++;
  }
  return ((performance.now() - start) * 1000) / n;
}

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);
const brotli = (quality: number) => ({ params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT } });

/** Microseconds per request of a keep-alive GET answered with `size` bytes, client and server in this process. */
async function loopbackMicros(sizes: number[]): Promise<Map<number, number>> {
  const bodies = new Map(sizes.map((size) => [size, Buffer.alloc(size, 'x')]));
  const server = createServer((req, res) => res.end(bodies.get(Number(req.url!.slice(1)))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const get = (size: number) =>
    new Promise<void>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: `/${size}`, agent }, (res) => res.on('data', () => {}).on('end', resolve)).on('error', reject).end();
    });
  const result = new Map<number, number>();
  for (const size of sizes) result.set(size, await timeIt(() => get(size), 400));
  agent.destroy();
  server.close();
  return result;
}

const SIZES = [256, 512, 768, 1024, 1536, 2048, 4096, 9771, 16384, 65536, 262144];
const LINKS = [
  { name: '10 Mbit/s', microsPerByte: 8 / 10 },
  { name: '100 Mbit/s', microsPerByte: 8 / 100 },
  { name: '1 Gbit/s', microsPerByte: 8 / 1000 },
];

const loopback = await loopbackMicros([0, ...SIZES]);
const empty = loopback.get(0)!;
// Least-squares slope of time against bytes: the loopback price of one more byte.
const xs = SIZES, ys = SIZES.map((s) => loopback.get(s)!);
const mx = xs.reduce((a, b) => a + b) / xs.length, my = ys.reduce((a, b) => a + b) / ys.length;
const loopbackPerByte = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
console.log(`loopback: empty answer ${empty.toFixed(1)} us per request; each further byte ${(loopbackPerByte * 1000).toFixed(2)} ns (fit over ${SIZES.join(', ')} bytes)\n`);

console.log('bytes  | gzip5 B | br4 B | br5 B | gzip5 sync us | br4 sync us | br5 sync us | gzip5 pool us | br4 pool us | saved by br4 on loopback us | on ' + LINKS.map((l) => l.name).join(' | on '));
for (const size of SIZES) {
  const body = page(size);
  const g = gzipSync(body, { level: 5 }).length, b4 = brotliCompressSync(body, brotli(4)).length, b5 = brotliCompressSync(body, brotli(5)).length;
  const tg = await timeIt(() => gzipSync(body, { level: 5 }));
  const tb4 = await timeIt(() => brotliCompressSync(body, brotli(4)));
  const tb5 = await timeIt(() => brotliCompressSync(body, brotli(5)));
  const ag = await timeIt(() => gzipAsync(body, { level: 5 }));
  const ab4 = await timeIt(() => brotliAsync(body, brotli(4)));
  const saved = size - b4;
  const net = LINKS.map((l) => `${(saved * l.microsPerByte).toFixed(0)} us`).join(' | ');
  console.log(
    `${String(size).padStart(6)} | ${String(g).padStart(7)} | ${String(b4).padStart(5)} | ${String(b5).padStart(5)} | ${tg.toFixed(1).padStart(13)} | ${tb4.toFixed(1).padStart(11)} | ${tb5.toFixed(1).padStart(11)} | ${ag.toFixed(1).padStart(13)} | ${ab4.toFixed(1).padStart(11)} | ${(saved * loopbackPerByte).toFixed(1).padStart(27)} | ${net}`,
  );
}
