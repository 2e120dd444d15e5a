import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_RETENTION_CONFIG, loadConfig, type RetentionConfig } from '../../src/config.js';
import { connectDatabase } from '../../src/db/connect.js';
import { purgeRound, registerRetentionMetrics, runExclusiveRetentionRound, startRetentionJob } from '../../src/retention/retention.job.js';
import type { Logger } from '../../src/shared/logger.js';
import { startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { createBookableBusiness, createBooking, createProcessedPaymentEvent, createSlots, type BuiltBusiness } from '../support/builders.js';
import { onRealPostgres } from '../support/database.js';

const DAY = 86_400_000;
/** The clock of every round here: ages are measured from it, and rows are written around it. */
// Noon UTC of today: the slots placed hours before a day boundary "15 days ago" stay on their local
// day (Europe/Berlin) whatever time the suite runs; at 23:05 UTC they fell on the next one.
const NOW = new Date();
NOW.setUTCHours(12, 0, 0, 0);
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const noSleep = async () => {};
/** Every table purged, at once (no pauses); each test narrows what it is about. */
const CONFIG: RetentionConfig = { ...DEFAULT_RETENTION_CONFIG, pauseMs: 0 };
/** Only audit rows (and idempotency keys, which have no "for ever"): a round's statements are then countable. */
const AUDIT_ONLY: RetentionConfig = { ...CONFIG, webhookDeliveryDays: 0, bookingEventDays: 0, processedPaymentEventDays: 0, unbookedSlotDays: 0, notificationJobDays: 0 };

const SINCE = `query($businessId: ID!, $after: String) {
  bookingEventsSince(businessId: $businessId, after: $after) { events { cursor type } endCursor }
}`;

describe('Retention: the purge job of the tables that only grow', () => {
  let api: TestApi;
  beforeAll(async () => {
    // Its own database: a round purges every business's old rows. Timers a minute apart: the relay
    // runs only when kicked, so the background statements counted here are the purge's.
    api = await startTestApi({ isolated: true, config: { events: { relayIntervalMs: 60_000, republishAfterMs: 60_000, checkIntervalMs: 60_000, maxQueuedPerSubscriber: 1000 } } });
  });
  afterAll(() => api.close());
  // Each test starts with nothing old left by the one before.
  beforeEach(async () => {
    await purgeRound(api.db, NOW, { ...CONFIG, batchSize: 50_000, maxRowsPerRound: 1_000_000 }, { sleep: noSleep });
  });

  const exists = async (table: 'audit_logs' | 'booking_events' | 'webhook_deliveries' | 'partner_slots', ids: string[]) =>
    (await sql<{ id: string }>`SELECT id::text AS id FROM ${sql.table(table)} WHERE id = ANY(${ids}::bigint[]) ORDER BY id`.execute(api.db)).rows.map((r) => r.id);

  async function auditRowsAt(...at: Date[]): Promise<string[]> {
    const rows = await sql<{ id: string }>`
      INSERT INTO audit_logs (business_id, entity, entity_id, action, actor, created_at)
      SELECT NULL, 'booking', 1, 'retention.test', 'test', t FROM unnest(${at.map((d) => d.toISOString())}::timestamptz[]) t RETURNING id::text AS id`.execute(api.db);
    return rows.rows.map((r) => r.id);
  }

  /** Events of a booking of `business`, positioned and published by the relay, then dated `at` each. */
  async function eventsAt(business: BuiltBusiness, bookingId: string, partnerId: string, ...at: Date[]): Promise<Array<{ id: string; position: string }>> {
    const data = JSON.stringify({ booking: { status: 'PENDING', partnerId, startsAt: NOW.toISOString(), endsAt: NOW.toISOString() } });
    const inserted = await sql<{ id: string }>`
      INSERT INTO booking_events (business_id, booking_id, partner_ids, type, data)
      SELECT ${business.id}::bigint, ${bookingId}::bigint, ARRAY[${partnerId}::bigint], 'BOOKING_CREATED', ${data}::jsonb FROM generate_series(1, ${at.length})
      RETURNING id::text AS id`.execute(api.db);
    await api.app.relay.kick();
    const ids = inserted.rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b));
    for (const [i, id] of ids.entries()) await sql`UPDATE booking_events SET occurred_at = ${at[i].toISOString()}::timestamptz WHERE id = ${id}::bigint`.execute(api.db);
    const rows = await sql<{ id: string; position: string; published: boolean }>`
      SELECT id::text AS id, position::text AS position, published_at IS NOT NULL AS published FROM booking_events WHERE id = ANY(${ids}::bigint[]) ORDER BY id`.execute(api.db);
    expect(rows.rows.map((r) => r.published)).toEqual(at.map(() => true));
    return rows.rows.map(({ id, position }) => ({ id, position }));
  }

  async function bookedBusiness() {
    const built = await createBookableBusiness(api.db, { partners: 1 });
    const partner = built.partners[0];
    const booking = await createBooking(api.db, { business: built.business, service: built.service, partner, customer: built.customer, slots: partner.slots.slice(0, 1) });
    return { ...built, partner, booking };
  }

  it('deletes each table\'s rows older than its period, keeps the younger ones, and keeps what something still points at', async () => {
    // Audit rows: 730 days.
    const [oldAudit, youngAudit] = await auditRowsAt(ago(731 * DAY), ago(729 * DAY));

    // Booking events (400 days) and webhook deliveries (30 days, finished ones only).
    const s = await bookedBusiness();
    const [oldEvent, heldEvent, youngEvent] = await eventsAt(s.business, s.booking.id, s.partner.id, ago(401 * DAY), ago(401 * DAY), ago(399 * DAY));
    const endpoint = await sql<{ id: string }>`
      INSERT INTO webhook_endpoints (business_id, url, event_types, secret) VALUES (${s.business.id}::bigint, 'https://hooks.example.com/r', ARRAY['BOOKING_CREATED'], ${'s'.repeat(40)})
      RETURNING id::text AS id`.execute(api.db);
    const delivery = async (eventId: string, status: 'pending' | 'succeeded' | 'failed', createdAt: Date, redeliveryOf: string | null = null) =>
      (await sql<{ id: string }>`
        INSERT INTO webhook_deliveries (business_id, endpoint_id, event_id, event_position, status, delivered_at, created_at, redelivery_of)
        SELECT ${s.business.id}::bigint, ${endpoint.rows[0].id}::bigint, id, position, ${status}, ${status === 'succeeded' ? createdAt.toISOString() : null}::timestamptz,
          ${createdAt.toISOString()}::timestamptz, ${redeliveryOf}::bigint FROM booking_events WHERE id = ${eventId}::bigint
        RETURNING id::text AS id`.execute(api.db)).rows[0].id;
    const oldSucceeded = await delivery(youngEvent.id, 'succeeded', ago(31 * DAY));
    const oldFailed = await delivery(youngEvent.id, 'failed', ago(31 * DAY));
    // A paused endpoint's delivery waits however old it is, and keeps its event.
    const oldPending = await delivery(heldEvent.id, 'pending', ago(31 * DAY));
    const youngSucceeded = await delivery(youngEvent.id, 'succeeded', ago(29 * DAY));
    const redelivered = await delivery(youngEvent.id, 'failed', ago(31 * DAY));
    const redelivery = await delivery(youngEvent.id, 'succeeded', ago(29 * DAY), redelivered);

    // Idempotency keys: an hour after they expire.
    const key = (name: string, expiresAt: Date) => sql`INSERT INTO idempotency_keys (caller, operation, key, request_hash, outcome, expires_at)
      VALUES ('customer:retention', 'retention', ${name}, 'x', '{}', ${expiresAt.toISOString()}::timestamptz)`.execute(api.db);
    await key('expired-2h', ago(2 * 3_600_000));
    await key('expired-30min', ago(30 * 60_000));
    await key('live', new Date(NOW.getTime() + 3_600_000));

    // Processed payment events: 90 days.
    const oldPaymentEvent = await createProcessedPaymentEvent(api.db, { receivedAt: ago(91 * DAY) });
    const youngPaymentEvent = await createProcessedPaymentEvent(api.db, { receivedAt: ago(89 * DAY) });

    // Slots: free and blocked ones 14 days after they end; booked ones stay with their booking.
    const slotAt = (endedAgo: number, status: 'available' | 'blocked') => createSlots(api.db, s.business, s.partner, ago(endedAgo + 30 * 60_000), 1, { status });
    const [oldFree] = await slotAt(15 * DAY, 'available');
    const [oldBlocked] = await slotAt(15 * DAY + 3_600_000, 'blocked');
    const [youngFree] = await slotAt(13 * DAY, 'available');
    const [oldBooked] = await slotAt(15 * DAY + 2 * 3_600_000, 'available');
    await createBooking(api.db, { business: s.business, service: s.service, partner: s.partner, customer: s.customer, slots: [oldBooked], status: 'completed' });

    // Notification jobs: finished ones (done, dropped) 30 days after they finished; dead ones stay.
    const job = async (key: string, status: string, finishedAgo: number) =>
      (await sql<{ id: string }>`INSERT INTO notification_jobs (kind, key, business_id, payload, run_at, status, finished_at)
        VALUES ('booking_email', ${`retention-${key}`}, ${s.business.id}::bigint, '{}'::jsonb, ${ago(finishedAgo).toISOString()}::timestamptz, ${status}, ${ago(finishedAgo).toISOString()}::timestamptz)
        RETURNING id::text AS id`.execute(api.db)).rows[0].id;
    const oldDone = await job('old-done', 'done', 31 * DAY);
    const oldDropped = await job('old-dropped', 'dropped', 31 * DAY);
    const oldDead = await job('old-dead', 'dead', 31 * DAY);
    const youngDone = await job('young-done', 'done', 29 * DAY);

    // The stats' open time of those days (kept by a trigger on partner_slots) is history the purge leaves alone.
    const openTime = () =>
      sql<{ minutes: number }>`SELECT coalesce(sum(open_minutes), 0)::int AS minutes FROM partner_open_daily WHERE partner_id = ${s.partner.id}::bigint AND day < ${ago(14 * DAY).toISOString()}::date`.execute(api.db);
    const openBefore = (await openTime()).rows[0].minutes;
    expect(openBefore).toBe(60); // the old free and the old booked slot, 30 minutes each (blocked time is not open)

    const summary = await purgeRound(api.database.background, NOW, CONFIG, { sleep: noSleep });
    expect((await openTime()).rows[0].minutes).toBe(openBefore);
    const jobsLeft = await api.db.selectFrom('notification_jobs').select('id').where('id', 'in', [oldDone, oldDropped, oldDead, youngDone]).orderBy('id').execute();
    expect(jobsLeft.map((j) => String(j.id))).toEqual([oldDead, youngDone]);

    expect(await exists('audit_logs', [oldAudit, youngAudit])).toEqual([youngAudit]);
    expect(await exists('booking_events', [oldEvent.id, heldEvent.id, youngEvent.id])).toEqual([heldEvent.id, youngEvent.id]);
    expect(await exists('webhook_deliveries', [oldSucceeded, oldFailed, oldPending, youngSucceeded, redelivered, redelivery]))
      .toEqual([oldPending, youngSucceeded, redelivered, redelivery]);
    const keys = await api.db.selectFrom('idempotency_keys').select('key').where('operation', '=', 'retention').orderBy('key').execute();
    expect(keys.map((k) => k.key)).toEqual(['expired-30min', 'live']);
    const paymentEvents = await api.db.selectFrom('processed_payment_events').select('event_id').where('event_id', 'in', [oldPaymentEvent, youngPaymentEvent]).execute();
    expect(paymentEvents.map((e) => e.event_id)).toEqual([youngPaymentEvent]);
    expect(await exists('partner_slots', [oldFree.id, oldBlocked.id, youngFree.id, oldBooked.id])).toEqual([youngFree.id, oldBooked.id].sort((a, b) => Number(a) - Number(b)));
    expect(Object.fromEntries(summary.tables.map((t) => [t.table, t.rows]))).toEqual({
      webhook_deliveries: 2, booking_events: 1, audit_logs: 1, idempotency_keys: 1, processed_payment_events: 1, partner_slots: 2, notification_jobs: 2,
    });

    // The redelivery ages out: then the delivery it was made of can go too (one round each).
    await sql`UPDATE webhook_deliveries SET created_at = ${ago(31 * DAY).toISOString()}::timestamptz WHERE id = ${redelivery}::bigint`.execute(api.db);
    await purgeRound(api.database.background, NOW, CONFIG, { sleep: noSleep });
    expect(await exists('webhook_deliveries', [redelivered, redelivery])).toEqual([redelivered]);
    await purgeRound(api.database.background, NOW, CONFIG, { sleep: noSleep });
    expect(await exists('webhook_deliveries', [redelivered, redelivery])).toEqual([]);
  });

  it('purges in batches of at most RETENTION_BATCH_SIZE rows, one statement each, pausing between them, and stops at the round\'s budget', async () => {
    const rows = await auditRowsAt(...Array.from({ length: 7 }, (_, i) => ago(800 * DAY + i * 60_000)));
    const pauses: number[] = [];
    const config = { ...AUDIT_ONLY, batchSize: 2, maxRowsPerRound: 5, pauseMs: 5 };
    const before = api.database.backgroundStatementCount();
    const first = await purgeRound(api.database.background, NOW, config, { sleep: async (ms) => void pauses.push(ms) });
    // Audit rows: 2 + 2 + 1 (the budget's rest), then the round stops; idempotency keys: one batch that found none.
    expect(first.tables).toEqual([
      { table: 'audit_logs', rows: 5, batches: 3, more: true },
      { table: 'idempotency_keys', rows: 0, batches: 1, more: false },
    ]);
    expect(api.database.backgroundStatementCount() - before).toBe(4);
    expect(pauses).toEqual([5, 5]);
    // The oldest went first.
    expect(await exists('audit_logs', rows)).toEqual(rows.slice(0, 2));

    const second = await purgeRound(api.database.background, NOW, config, { sleep: noSleep });
    expect(second.tables[0]).toEqual({ table: 'audit_logs', rows: 2, batches: 2, more: false });
    expect(await exists('audit_logs', rows)).toEqual([]);
  });

  it('answers bookingEventsSince from a purged cursor with EVENTS_PURGED and the last purged cursor, and from that cursor with what is kept', async () => {
    const s = await bookedBusiness();
    const events = await eventsAt(s.business, s.booking.id, s.partner.id, ago(500 * DAY), ago(450 * DAY), ago(10 * DAY));
    const { staff } = await tokensFor(api, { businessGid: s.business.gid });
    const since = (after: string | null) => api.gql(SINCE, { businessId: s.business.gid, after }, { token: staff });
    expect((await since(events[0].position)).data.bookingEventsSince.events.map((e: { cursor: string }) => e.cursor)).toEqual([events[1].position, events[2].position]);

    await purgeRound(api.database.background, NOW, CONFIG, { sleep: noSleep });

    const purged = await since(events[0].position);
    expect(purged.data).toBeNull();
    expect(purged.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'EVENTS_PURGED', purgedThrough: events[1].position }) })]);
    expect(purged.errors![0].message).toContain(`up to cursor ${events[1].position} were purged`);
    // From the last purged cursor (and without one) the page is what is kept, and says nothing is missing.
    const { result, statements } = await api.countStatements(() => since(events[1].position));
    expect(result.data.bookingEventsSince.events.map((e: { cursor: string }) => e.cursor)).toEqual([events[2].position]);
    // The page, then the business's purge mark (a key lookup).
    expect(statements).toBe(2);
    expect((await since(null)).data.bookingEventsSince.events.map((e: { cursor: string }) => e.cursor)).toEqual([events[2].position]);
    // Another business's cursors are untouched by this one's purge.
    const other = await bookedBusiness();
    const [kept] = await eventsAt(other.business, other.booking.id, other.partner.id, ago(DAY), ago(DAY));
    const otherStaff = (await tokensFor(api, { businessGid: other.business.gid })).staff;
    expect((await api.gql(SINCE, { businessId: other.business.gid, after: kept.position }, { token: otherStaff })).errors).toBeUndefined();
  });

  it.runIf(onRealPostgres)('lets one instance purge at a time: a second instance\'s round is skipped while the first runs', async () => {
    const rows = await auditRowsAt(ago(800 * DAY), ago(800 * DAY), ago(800 * DAY));
    const other = await connectDatabase({ databaseUrl: (api.database as { url?: string }).url, poolMax: 4 });
    try {
      let release!: () => void;
      let paused!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const inPause = new Promise<void>((resolve) => (paused = resolve));
      const config = { ...AUDIT_ONLY, batchSize: 1, pauseMs: 1 };
      const first = runExclusiveRetentionRound(api.database, NOW, config, { sleep: async () => { paused(); await gate; } });
      await inPause;
      const before = other.backgroundStatementCount();
      expect(await runExclusiveRetentionRound(other, NOW, config, { sleep: noSleep })).toBeNull();
      // The lock's attempt, and no purge.
      expect(other.backgroundStatementCount() - before).toBe(3);
      release();
      expect((await first)?.tables[0]).toEqual({ table: 'audit_logs', rows: 3, batches: 4, more: false });
      expect(await exists('audit_logs', rows)).toEqual([]);
      // Once the first is done, the other instance may run a round.
      expect(await runExclusiveRetentionRound(other, NOW, config, { sleep: noSleep })).not.toBeNull();
    } finally {
      await other.close();
    }
  });

  it('runs rounds on a schedule, logs one line per round and counts purged rows per table at GET /metrics', async () => {
    await auditRowsAt(ago(800 * DAY), ago(800 * DAY));
    const lines: Array<{ message: string; context?: Record<string, unknown> }> = [];
    const log: Logger = { info: (message, context) => void lines.push({ message, context }), error: (message, context) => void lines.push({ message, context }) };
    const job = startRetentionJob({ database: api.database, log, config: AUDIT_ONLY, clock: () => NOW, sleep: noSleep });
    try {
      registerRetentionMetrics(api.app.metrics, job.stats);
      while (job.stats.rounds.done === 0 && job.stats.rounds.failed === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(job.stats.rounds).toEqual({ done: 1, skipped: 0, failed: 0 });
      expect(lines).toEqual([{ message: 'Retention round done', context: { ms: expect.any(Number), rows: 2, purged: { audit_logs: 2, idempotency_keys: 0 }, more: [] } }]);
      const text = await api.metricsText();
      expect(text).toContain('retention_rows_purged_total{table="audit_logs"} 2');
      expect(text).toContain('retention_rows_purged_total{table="booking_events"} 0');
      expect(text).toContain('retention_rounds_total{outcome="done"} 1');
    } finally {
      await job.stop();
    }
  });

  it('resumes after a database outage: the failed round is logged once as unreachable and the next one purges', async () => {
    const [row] = await auditRowsAt(ago(800 * DAY));
    // Nothing listens on port 1: every statement fails as a connection error, as when PostgreSQL is down.
    const unreachable = await connectDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none', poolMax: 1, connectTimeoutMs: 500 });
    let down = true;
    const database = { backend: api.database.backend, get background() { return down ? unreachable.background : api.database.background; } };
    const lines: Array<{ level: string; message: string }> = [];
    const log: Logger = {
      info: (message) => void lines.push({ level: 'info', message }),
      warn: (message) => void lines.push({ level: 'warn', message }),
      error: (message) => void lines.push({ level: 'error', message }),
    };
    const job = startRetentionJob({ database, log, config: AUDIT_ONLY, clock: () => NOW, sleep: noSleep, retryAfterFailureMs: 20 });
    try {
      while (job.stats.rounds.failed === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      down = false;
      while (job.stats.rounds.done === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(lines.slice(0, 2)).toEqual([
        { level: 'warn', message: 'Retention round failed: the database is unreachable; retrying until it is back' },
        { level: 'info', message: 'Retention round done' },
      ]);
      expect(await exists('audit_logs', [row])).toEqual([]);
    } finally {
      await job.stop();
      await unreachable.close();
    }
  });

  it('reads each period from the environment: 0 keeps a table for ever, and a period too short is refused', () => {
    expect(loadConfig({}).retention).toEqual(DEFAULT_RETENTION_CONFIG);
    const set = loadConfig({ RETENTION_BOOKING_EVENT_DAYS: '0', RETENTION_AUDIT_LOG_DAYS: '3650', PROCESSED_EVENT_RETENTION_DAYS: '7', RETENTION_BATCH_SIZE: '500' }).retention;
    expect(set).toMatchObject({ bookingEventDays: 0, auditLogDays: 3650, processedPaymentEventDays: 7, batchSize: 500 });
    expect(() => loadConfig({ RETENTION_AUDIT_LOG_DAYS: '7' })).toThrow('Expected RETENTION_AUDIT_LOG_DAYS to be 0 (keep for ever) or from 30 to 36500 days, got "7".');
    expect(() => loadConfig({ PROCESSED_EVENT_RETENTION_DAYS: '2' })).toThrow('Expected PROCESSED_EVENT_RETENTION_DAYS to be an integer from 3 to 36500, got "2".');
  });
});
