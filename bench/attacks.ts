/**
 * Sends the known expensive operations to a running API, one at a time, each with a concurrent
 * `{ __typename }` probe, and prints what each attack got back and how long other clients waited.
 * It starts nothing itself: point it at an API you started (loopback only).
 *   API_URL=http://127.0.0.1:4000/graphql API_PID=<pid> npx tsx bench/attacks.ts
 * API_PID (optional) adds the server's resident memory after each attack. Attacks are anonymous,
 * as a stranger on the internet would send them, except with ATTACK_TOKEN (any signed-up customer
 * has one; bookings need one); probes are always anonymous. Each request is bounded by
 * ATTACK_TIMEOUT_MS.
 */
import { readFileSync } from 'node:fs';
import { deepQuery } from './attack-queries.js';

const url = new URL(process.env.API_URL ?? 'http://127.0.0.1:4000/graphql');
if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) && !url.hostname.startsWith('127.')) {
  throw new Error(`Expected API_URL on the loopback interface, got "${url.hostname}".`);
}
const timeoutMs = Number(process.env.ATTACK_TIMEOUT_MS ?? 60_000);
const pid = process.env.API_PID;
const slug = process.env.ATTACK_SLUG ?? 'north-end-barbers';
const token = process.env.ATTACK_TOKEN;


const page = `businesses(first: 100) { nodes { id name bookings(first: 100) { nodes { id startsAt status } } } }`;
const attacks: Array<{ name: string; query: string }> = [
  { name: 'depth 32 (business/partners(first: 4) nesting)', query: deepQuery(slug, 32) },
  { name: '500 aliases of a 100 x 100 bookings page', query: `{ ${Array.from({ length: 500 }, (_, i) => `a${i}: ${page}`).join(' ')} }` },
  { name: '55,000 aliases of __typename', query: `{ ${Array.from({ length: 55_000 }, (_, i) => `a${i}: __typename`).join(' ')} }` },
  { name: '10,000 fields with @skip', query: `{ ${Array.from({ length: 10_000 }, (_, i) => `a${i}: __typename @skip(if: false)`).join(' ')} }` },
  {
    name: 'cost bomb: nested first: 100 within depth 8',
    query: `{ businesses(first: 100) { nodes { partners(first: 100) { nodes { business { partners(first: 100) { nodes { name } } } } } } } }`,
  },
];

function rssMb(): string {
  if (!pid) return '';
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return ` rss ${(kb / 1024).toFixed(0)} MB`;
  } catch {
    return ' rss ?';
  }
}

async function post(query: string, authorization?: string): Promise<{ status: number; bytes: number; code: string; ms: number }> {
  const started = performance.now();
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization: `Bearer ${authorization}` } : {}) },
      body: JSON.stringify({ query }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    const ms = performance.now() - started;
    let code = 'none';
    try {
      const body = JSON.parse(text) as { errors?: Array<{ extensions?: { code?: string; limit?: string } }> };
      const first = body.errors?.[0]?.extensions;
      if (first) code = `${first.code ?? '?'}${first.limit ? `/${first.limit}` : ''}${body.errors!.length > 1 ? ` (+${body.errors!.length - 1})` : ''}`;
    } catch {
      code = 'not JSON';
    }
    return { status: res.status, bytes: Buffer.byteLength(text), code, ms };
  } catch (error) {
    return { status: 0, bytes: 0, code: (error as Error).name, ms: performance.now() - started };
  }
}

const nonce = Date.now().toString(36);

async function main() {
  await post('{ __typename }'); // a warm connection and a compiled probe
  console.log(`target ${url.href}${rssMb()}`);
  for (const attack of attacks) {
    let done = false;
    // A fresh operation name each run: a real attacker varies the text, so no parse or plan cache helps.
    const query = `query Attack${nonce}${attacks.indexOf(attack)} ${attack.query}`;
    const running = post(query, token).finally(() => (done = true));
    // Probes one after another while the attack runs (at most 200): the longest is what another client waited.
    await new Promise((resolve) => setTimeout(resolve, 20));
    let probes = 0;
    let worst = 0;
    while (!done && probes < 200) {
      const probe = await post('{ __typename }');
      worst = Math.max(worst, probe.ms);
      probes++;
    }
    const result = await running;
    console.log(
      `${attack.name}: status ${result.status}, code ${result.code}, ${(result.bytes / 1e6).toFixed(3)} MB, ${result.ms.toFixed(0)} ms;` +
        ` probe worst ${worst.toFixed(0)} ms over ${probes} probes;${rssMb()}`,
    );
  }
}

await main();
