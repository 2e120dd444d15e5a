/**
 * Latency of availableSlots, hit and miss, for a business with 50 partners and 60 days of 30-minute
 * slots (08:00-18:00 local), over HTTP. Not a test (nothing here times a test): run it by hand,
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> REDIS_URL=redis://127.0.0.1:6379 \
 *     npx tsx test/availability/measure-latency.ts
 *
 * It seeds its own business (a new slug each run) and leaves it there.
 */
import { sql } from 'kysely';
import { openDatabase, startApp } from '../../src/app.js';
import { businessScope } from '../../src/availability/availability.queries.js';
import { addDays, todayIn } from '../../src/availability/available-starts.js';
import { createCache, DEFAULT_CACHE_CONFIG } from '../../src/cache/create-cache.js';
import { createBusiness, createPartner, createService } from '../support/builders.js';
import { AVAILABLE_SLOTS, uniqueKeyPrefix } from './availability-support.js';

const PARTNERS = 50;
const DAYS = 60;
const SAMPLES = Number(process.env.SAMPLES ?? 300);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  const databaseUrl = process.env.DATABASE_URL;
  const database = await openDatabase({ databaseUrl, poolMax: 10, dataDir: 'memory://', slowQueryMs: 60_000 }, { info() {}, error: console.error });
  const cache = await createCache({ ...DEFAULT_CACHE_CONFIG, redisUrl: process.env.REDIS_URL, keyPrefix: uniqueKeyPrefix() });
  const app = await startApp({ host: '127.0.0.1', port: 0, auth: { jwtSecret: 'bench', jwksUrl: undefined, issuer: undefined, audience: undefined }, slowQueryMs: 60_000 }, database, { log: { info() {}, error: console.error }, cache });
  const db = database.db;

  const business = await createBusiness(db, { timeZone: 'Europe/Berlin' });
  const service = await createService(db, business, { durationMinutes: 60 });
  const firstDate = addDays(todayIn('Europe/Berlin'), 1);
  for (let i = 0; i < PARTNERS; i++) {
    const partner = await createPartner(db, business);
    await sql`
      INSERT INTO partner_slots (business_id, partner_id, slot_start, slot_end)
      SELECT ${business.id}::bigint, ${partner.id}::bigint, s, s + interval '30 minutes'
      FROM generate_series(0, ${DAYS - 1}) AS d
      CROSS JOIN LATERAL generate_series(
        ((${firstDate}::date + d)::timestamp + interval '8 hours') AT TIME ZONE 'Europe/Berlin',
        ((${firstDate}::date + d)::timestamp + interval '17 hours 30 minutes') AT TIME ZONE 'Europe/Berlin',
        interval '30 minutes') AS s`.execute(db);
  }
  // Some bookings' worth of taken slots, so the computation is not trivially uniform.
  await sql`UPDATE partner_slots SET status = 'blocked' WHERE business_id = ${business.id}::bigint AND id % 7 = 0`.execute(db);
  const count = await sql<{ n: number }>`SELECT count(*)::int AS n FROM partner_slots WHERE business_id = ${business.id}::bigint`.execute(db);
  await sql`ANALYZE partner_slots`.execute(db);

  const date = addDays(firstDate, 10);
  const variables = { businessId: business.gid, serviceId: service.gid, date };
  const call = async () => {
    const started = process.hrtime.bigint();
    const res = await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: AVAILABLE_SLOTS, variables }) });
    const body = (await res.json()) as { data?: { availableSlots: unknown[] }; errors?: unknown };
    if (body.errors || !body.data) throw new Error(JSON.stringify(body.errors));
    return { ms: Number(process.hrtime.bigint() - started) / 1e6, starts: body.data.availableSlots.length };
  };

  for (let i = 0; i < 30; i++) await call(); // warm-up: JIT, prepared statements, connections
  const misses: number[] = [];
  const hits: number[] = [];
  let starts = 0;
  for (let i = 0; i < SAMPLES; i++) {
    await cache.invalidate([businessScope(business.id)]);
    const miss = await call();
    misses.push(miss.ms);
    starts = miss.starts;
    hits.push((await call()).ms);
  }
  const metrics = cache.metrics.snapshot().families.available_slots;
  console.log(JSON.stringify({
    backend: `${database.backend} + ${cache.backend}`,
    slots: count.rows[0].n,
    startsInAnswer: starts,
    samples: SAMPLES,
    missMs: { median: +percentile(misses, 50).toFixed(2), p90: +percentile(misses, 90).toFixed(2) },
    hitMs: { median: +percentile(hits, 50).toFixed(2), p90: +percentile(hits, 90).toFixed(2) },
    counters: metrics,
  }, null, 2));
  await app.stop();
  await database.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
