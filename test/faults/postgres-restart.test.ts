import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevelopmentToken } from '../../src/auth/tokens.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { RETRY_AFTER_SECONDS } from '../../src/server/database-unavailable.js';
import { rawIdOf } from '../../src/shared/global-id.js';
import { TEST_JWT_SECRET } from '../support/api.js';
import { startApiProcess, type ApiProcess } from '../support/api-process.js';
import { createBookableBusiness } from '../support/builders.js';
import { startPostgresCluster, type PostgresCluster } from '../support/postgres-cluster.js';
import { CREATE, send, startLoad, tally, timeToServe, type Outcome } from './restart-load.js';

const WORKERS = 8;
const SERVE_AGAIN_WITHIN_MS = 10_000;

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
async function eventually(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Expected ${what} within ${timeoutMs} ms; it did not happen.`);
    await wait(100);
  }
}

/**
 * PostgreSQL crash-restarts under load (`pg_ctl restart -m immediate`: every backend killed at
 * once) while two real API processes serve a mixed read/write load. The server is this file's own
 * (a temporary cluster on a free port), so the test runs on both CI passes, whatever DATABASE_URL
 * says, and never touches the shared server.
 */
describe('A PostgreSQL restart under load', () => {
  let cluster: PostgresCluster;
  let database: DatabaseHandle;
  let processes: ApiProcess[] = [];
  let built: Awaited<ReturnType<typeof createBookableBusiness>>;
  let token: string;

  beforeAll(async () => {
    cluster = await startPostgresCluster();
    const admin = await connectDatabase({ databaseUrl: cluster.url, poolMax: 1 });
    await sql`CREATE DATABASE booking`.execute(admin.db).finally(() => admin.close());
    const url = cluster.urlOf('booking');
    const setup = await connectDatabase({ databaseUrl: url, poolMax: 2 });
    try {
      await migrateToLatest(setup.db);
      built = await createBookableBusiness(setup.db, { partners: 10, slotCount: 300, durationMinutes: 30 });
    } finally {
      await setup.close();
    }
    token = await signDevelopmentToken(TEST_JWT_SECRET, { sub: 'fault-staff', role: 'staff', business_id: built.business.gid });
    // The load books from one token far past a real front desk's pace: budgets it never spends, so
    // that every failure it sees is the outage's.
    const env = { DATABASE_URL: url, SLOW_QUERY_MS: '600000', PG_POOL_MAX: '10', RATE_LIMIT_POINTS: '1000000', RATE_LIMIT_BOOKING_POINTS: '1000000' };
    processes = await Promise.all([startApiProcess(env), startApiProcess(env)]);
  }, 60_000);

  afterAll(async () => {
    try {
      const codes = await Promise.all(processes.map((p) => p.stop()));
      await database?.close();
      // Both still shut down gracefully after the outage.
      expect(codes).toEqual(processes.map(() => 0));
    } finally {
      await cluster?.destroy();
    }
  }, 30_000);

  it('keeps both processes up, answers SERVICE_UNAVAILABLE for work in flight, serves again, and loses or doubles no booking', async () => {
    const loadStarted = performance.now();
    const load = startLoad({
      urls: processes.map((p) => p.url),
      token,
      slug: built.business.slug,
      customerGid: built.customer.gid,
      slots: built.partners.flatMap((p) => p.slots),
      workers: WORKERS,
      backoffMs: 50,
    });
    // Mid-load: once writes are being acknowledged on both processes.
    await eventually('acknowledged writes on both processes', 15_000, async () =>
      [0, 1].every((target) => load.outcomes.filter((o) => o.kind === 'write' && o.result === 'ok' && o.target === target).length >= 5),
    );
    await cluster.restartImmediate();
    const restartedAt = performance.now();
    const serveAgain = await Promise.all(processes.map((p) => timeToServe(p.url, token, built.business.slug, SERVE_AGAIN_WITHIN_MS)));
    await wait(1000);
    const outcomes = await load.stop();
    const counts = tally(outcomes);

    // The processes stayed up and serve again within a bounded time of the restart.
    expect(processes.map((p) => p.child.exitCode ?? p.child.signalCode)).toEqual([null, null]);
    expect(serveAgain.every((ms) => ms !== null), `serving again after the restart: ${serveAgain.join(', ')} ms`).toBe(true);

    // Failed requests are retriable: SERVICE_UNAVAILABLE with 503 and Retry-After (or a dropped
    // connection, seen from the client); never INTERNAL_SERVER_ERROR.
    const failed = outcomes.filter((o) => o.result !== 'ok');
    expect(failed.filter((o) => o.result !== 'code:SERVICE_UNAVAILABLE' && o.result !== 'connection'), JSON.stringify(counts)).toEqual([]);
    const unavailable = failed.filter((o) => o.result === 'code:SERVICE_UNAVAILABLE');
    expect(unavailable.length, `the restart hit work in flight: ${JSON.stringify(counts)}`).toBeGreaterThan(0);
    expect(new Set(unavailable.map((o) => `${o.status} ${o.retryAfter}`))).toEqual(new Set([`503 ${RETRY_AFTER_SECONDS}`]));
    // Writes were acknowledged again after the restart, not only reads.
    expect(outcomes.some((o) => o.kind === 'write' && o.result === 'ok' && o.at > restartedAt - loadStarted)).toBe(true);

    // Every write that failed is retried with its key and input: a transaction that did not commit
    // left no key "in progress", and one that committed before its answer was lost is given back.
    const writes = outcomes.filter((o): o is Outcome & { slotId: string; key: string } => o.kind === 'write');
    const retried = new Map<string, string>();
    for (const [i, o] of writes.filter((w) => w.result !== 'ok').entries()) {
      const slotGid = built.partners.flatMap((p) => p.slots).find((s) => s.id === o.slotId)!.gid;
      const res = await send(processes[i % 2].url, token, CREATE, { input: { customerId: built.customer.gid, slotIds: [slotGid] } }, { 'idempotency-key': o.key });
      expect(res.body?.errors, `retry of ${o.key}`).toBeUndefined();
      expect(res.body?.data.bookingCreate.userErrors).toEqual([]);
      retried.set(o.slotId, rawIdOf(res.body!.data.bookingCreate.booking.id, 'Booking')!);
    }

    database = await connectDatabase({ databaseUrl: cluster.urlOf('booking'), poolMax: 2 });
    const db = database.db;
    const bookings = await sql<{ id: string; partnerId: string; status: string; startsAt: string; endsAt: string; slotIds: string[]; slotsConsistent: boolean }>`
      SELECT b.id, b.partner_id AS "partnerId", b.status, b.starts_at AS "startsAt", b.ends_at AS "endsAt",
             array_agg(s.id ORDER BY s.slot_start) FILTER (WHERE s.id IS NOT NULL) AS "slotIds",
             coalesce(bool_and(s.status = 'booked' AND s.partner_id = b.partner_id AND s.slot_start >= b.starts_at AND s.slot_end <= b.ends_at), false) AS "slotsConsistent"
      FROM bookings b LEFT JOIN partner_slots s ON s.booking_id = b.id
      WHERE b.business_id = ${built.business.id}::bigint GROUP BY b.id ORDER BY b.id`.execute(db);
    const bookingBySlot = new Map(bookings.rows.flatMap((b) => (b.slotIds ?? []).map((slot) => [slot, b.id] as const)));

    // Exactly one booking per slot asked for, none for a slot nobody asked for.
    expect(bookings.rows.length).toBe(writes.length);
    expect(new Set(bookingBySlot.keys())).toEqual(new Set(writes.map((w) => w.slotId)));
    // Every acknowledged booking is there, as acknowledged; every retried one is the booking its key made.
    for (const w of writes.filter((o) => o.result === 'ok')) expect(bookingBySlot.get(w.slotId)).toBe(rawIdOf(w.bookingId!, 'Booking'));
    for (const [slotId, bookingId] of retried) expect(bookingBySlot.get(slotId)).toBe(bookingId);

    // Invariants: each booking holds its one slot, booked, in its time; no two live bookings of a
    // partner overlap; partners' active counts match their live bookings.
    expect(bookings.rows.filter((b) => b.slotIds?.length !== 1 || !b.slotsConsistent || b.status !== 'pending')).toEqual([]);
    const overlapping = await sql`
      SELECT a.id FROM bookings a JOIN bookings b ON a.partner_id = b.partner_id AND a.id < b.id
      WHERE a.business_id = ${built.business.id}::bigint AND a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')
        AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)`.execute(db);
    expect(overlapping.rows).toEqual([]);
    const partners = await sql<{ id: string; count: number; live: number }>`
      SELECT p.id, p.active_booking_count AS count, (SELECT count(*)::int FROM bookings b WHERE b.partner_id = p.id AND b.status IN ('pending', 'confirmed')) AS live
      FROM partners p WHERE p.business_id = ${built.business.id}::bigint`.execute(db);
    expect(partners.rows.filter((p) => p.count !== p.live)).toEqual([]);

    // Every committed booking has its one BOOKING_CREATED event, and the relays resumed by
    // themselves: all are positioned (densely, 1..n) and published.
    await eventually('every booking event positioned and published', 10_000, async () => {
      const { rows } = await sql<{ pending: number }>`SELECT count(*)::int AS pending FROM booking_events WHERE position IS NULL OR published_at IS NULL`.execute(db);
      return rows[0].pending === 0;
    });
    const events = await sql<{ bookingId: string; count: number }>`
      SELECT booking_id AS "bookingId", count(*)::int AS count FROM booking_events WHERE type = 'BOOKING_CREATED' GROUP BY booking_id`.execute(db);
    expect(events.rows.length).toBe(bookings.rows.length);
    expect(events.rows.filter((e) => e.count !== 1)).toEqual([]);
    const positions = await sql<{ n: number; max: number }>`SELECT count(*)::int AS n, max(position)::int AS max FROM booking_events`.execute(db);
    expect(positions.rows[0].max).toBe(positions.rows[0].n);

    // The outage is logged once per process, as a warning; no request's failure is logged as unexpected.
    for (const p of processes) {
      const lines = p.output().split('\n');
      expect(lines.filter((l) => l.includes('The database is unreachable;')).length, p.output()).toBe(1);
      expect(lines.filter((l) => l.includes('Unexpected error') || l.includes('Unhandled')), p.output()).toEqual([]);
    }
    console.info(`[postgres restart] ${outcomes.length} requests, ${failed.length} failed (${JSON.stringify(counts)}); ${retried.size} retried writes; serving again ${serveAgain.join(' / ')} ms after pg_ctl returned`);
  }, 60_000);
});
