/**
 * Where compressing a GraphQL answer starts to pay: for bodies of the nested page's shape at
 * growing sizes, the CPU time to compress (gzip and brotli, sync and through the thread pool)
 * against the bytes it saves, priced on loopback (measured here: the CPU it takes to move a byte
 * through node:http on 127.0.0.1) and on real links (transmission time alone).
 *   npx tsx bench/compression-threshold.ts
 * CPU time, not wall time: on a busy machine waiting for a core would drown the differences.
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { brotliCompress, brotliCompressSync, constants, gzip, gzipSync } from 'node:zlib';

const STATUSES = ['PENDING', 'CONFIRMED', 'CANCELLED', 'COMPLETED'];
const FIRST = ['Anna', 'Ben', 'Chiara', 'Dmitri', 'Elif', 'Farid', 'Greta', 'Hugo', 'Ines', 'Jonas', 'Kaya', 'Luca', 'Mira', 'Noah', 'Olga', 'Pavel'];
const LAST = ['Schmidt', 'Novak', 'Rossi', 'Yilmaz', 'Kowalski', 'Dubois', 'Larsen', 'Okafor', 'Silva', 'Tanaka', 'Weber', 'Horvat'];
const SERVICES = ['Haircut', 'Beard trim', 'Colour and cut', 'Driving lesson (90 min)', 'Deep tissue massage', 'Manicure', 'Exam preparation', 'Consultation'];

/**
 * A nested page like bench/run.sh's, cut to `bytes` characters. Names, ids and times vary as the
 * demo data's do: on the real demo page gzip 5 reaches about 6:1, and so does this (a page of
 * repeated names would compress twice as well and flatter compression).
 */
function page(bytes: number): string {
  let seed = 42;
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  const person = () => `${FIRST[random(FIRST.length)]} ${LAST[random(LAST.length)]}`;
  const businesses: unknown[] = [];
  let text = '';
  for (let b = 1; text.length < bytes; b++) {
    const bookings = Array.from({ length: 10 }, () => ({
      id: Buffer.from(`Booking:${1000 + random(90_000)}`).toString('base64url'),
      startsAt: new Date(Date.UTC(2026, 11, 1 + random(60), 8 + random(10), 15 * random(4))).toISOString(),
      status: STATUSES[random(STATUSES.length)],
      service: { name: SERVICES[random(SERVICES.length)] },
      partner: { name: person() },
      customer: { name: person() },
    }));
    businesses.push({ name: `${LAST[random(LAST.length)]} & ${LAST[random(LAST.length)]} ${b}`, bookings: { nodes: bookings } });
    text = JSON.stringify({ data: { businesses: { nodes: businesses } } });
  }
  return text.slice(0, bytes);
}

/** Mean CPU microseconds (user + system, every thread of this process) per call of `work`. */
async function cpuOf(work: () => unknown, calls = 300): Promise<number> {
  for (let i = 0; i < 30; i++) await work();
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i++) await work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);
const brotli = (quality: number) => ({ params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT } });

/**
 * CPU microseconds per keep-alive GET answered with `size` bytes, client and server in this
 * process: both ends' share of moving the bytes through node:http and the kernel's loopback.
 */
async function loopbackCpu(sizes: number[]): Promise<Map<number, number>> {
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
  for (const size of sizes) result.set(size, await cpuOf(() => get(size), 1000));
  agent.destroy();
  server.close();
  return result;
}

const SIZES = [256, 512, 768, 1024, 1536, 2048, 4096, 9771, 16384, 35683, 65536, 262144];
const LINKS = [
  { name: '10 Mbit/s', microsPerByte: 8 / 10 },
  { name: '100 Mbit/s', microsPerByte: 8 / 100 },
  { name: '1 Gbit/s', microsPerByte: 8 / 1000 },
];

const loopback = await loopbackCpu([0, ...SIZES]);
// Least-squares slope of CPU against bytes: the loopback price of one more byte.
const xs = SIZES, ys = SIZES.map((s) => loopback.get(s)!);
const mx = xs.reduce((a, b) => a + b) / xs.length, my = ys.reduce((a, b) => a + b) / ys.length;
const loopbackPerByte = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
console.log(`loopback: an empty answer costs ${loopback.get(0)!.toFixed(1)} us of CPU (both ends); each further byte ${(loopbackPerByte * 1000).toFixed(2)} ns\n`);

console.log('bytes  | gzip5 B | br2 B | br3 B | br4 B | br5 B | CPU us: gzip5 | br2 | br3 | br4 | br5 | gzip5 pool | br4 pool | br4 saves: loopback CPU us | ' + LINKS.map((l) => `${l.name} us`).join(' | '));
const pad = (value: number | string, width: number) => String(typeof value === 'number' ? Math.round(value) : value).padStart(width);
for (const size of SIZES) {
  const body = page(size);
  const sizes = [gzipSync(body, { level: 5 }), ...[2, 3, 4, 5].map((q) => brotliCompressSync(body, brotli(q)))].map((b) => b.length);
  const cpu = [
    await cpuOf(() => gzipSync(body, { level: 5 })),
    ...(await Promise.all([2, 3, 4, 5].map((q) => q)).then(async (qs) => {
      const out: number[] = [];
      for (const q of qs) out.push(await cpuOf(() => brotliCompressSync(body, brotli(q))));
      return out;
    })),
    await cpuOf(() => gzipAsync(body, { level: 5 })),
    await cpuOf(() => brotliAsync(body, brotli(4))),
  ];
  const saved = size - sizes[3]!;
  console.log(
    [pad(size, 6), ...sizes.map((b, i) => pad(b, i === 0 ? 7 : 5)), ...cpu.map((c) => pad(c, 5)), pad((saved * loopbackPerByte).toFixed(1), 26), ...LINKS.map((l) => pad(saved * l.microsPerByte, 8))].join(' | '),
  );
}
