import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { runExclusiveGenerationPass } from '../../src/schedules/slot-generation.job.js';
import { rawIdOf } from '../../src/shared/global-id.js';
import { loggedErrors, startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { businessState, createBookableBusiness, createBusiness, createCustomer, createPartner, createService, createSlots } from '../support/builders.js';
import { onRealPostgres } from '../support/database.js';
import { startPgBouncer, type PgBouncer } from '../support/pgbouncer.js';

const CREATE = `mutation($input: BookingCreateInput!) {
  bookingCreate(input: $input) { booking { id status startsAt partner { id activeBookingCount } slots { id status } } userErrors { field message code } }
}`;
const CANCEL = `mutation($input: BookingCancelInput!) { bookingCancel(input: $input) { booking { id status } userErrors { code } } }`;
const BOOKING = `query($id: ID!) { node(id: $id) { ... on Booking { id status startsAt slots { status } } } }`;

/** Kysely's migration lock (a session advisory lock) and ours, as pg_locks shows advisory keys. */
const ADVISORY_KEYS = ['3853314791062309107', String(0x6d696772617465), String(0x736c6f7467656e)];

/**
 * The API behind a real PgBouncer (Debian's 1.18) in transaction mode, with few server connections:
 * every transaction, and every statement outside one, may run on any of them. What this breaks is
 * per-session state: named prepared statements, `options` and other startup parameters, SET
 * outside a transaction, session advisory locks. A PostgreSQL server is needed behind it, so the
 * file runs on the PostgreSQL pass only (the embedded database has no network protocol).
 */
describe.runIf(onRealPostgres)('Behind PgBouncer in transaction mode', () => {
  let bouncer: PgBouncer;
  let database: DatabaseHandle;
  let direct: DatabaseHandle;
  let api: TestApi;

  beforeAll(async () => {
    bouncer = await startPgBouncer(process.env.DATABASE_URL!, { serverConnections: 4 });
    database = await connectDatabase({ databaseUrl: bouncer.url, poolMax: 30, preparedStatements: false });
    direct = await connectDatabase({ databaseUrl: process.env.DATABASE_URL, poolMax: 2 });
    api = await startTestApi({ database });
  }, 30_000);
  afterAll(async () => {
    await api?.close();
    await database?.close();
    await direct?.close();
    await bouncer?.stop();
  });

  async function advisoryLocksHeld(): Promise<number> {
    const { rows } = await sql<{ held: number }>`
      SELECT count(*)::int AS held FROM pg_locks
      WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND ((classid::bigint << 32) | objid::bigint)::text = ANY(${ADVISORY_KEYS})`.execute(direct.db);
    return rows[0].held;
  }

  it('sessions run in UTC (a startup parameter PgBouncer passes on, unlike `options`)', async () => {
    const { rows } = await sql<{ zone: string; at: string }>`SELECT current_setting('TimeZone') AS zone, '2026-11-22 10:00:00+00'::timestamptz AS at`.execute(database.db);
    expect(rows).toEqual([{ zone: 'UTC', at: '2026-11-22T10:00:00Z' }]);
  });

  it('migrates through it and leaves no advisory lock behind on any server connection', async () => {
    expect(await migrateToLatest(database.db)).toEqual([]);
    expect(await migrateToLatest(database.db)).toEqual([]);
    expect(await advisoryLocksHeld()).toBe(0);
  });

  it('takes the slot generation lock for a pass and leaves it held by nobody afterwards', async () => {
    // A second pass at once finds the lock taken (the first still holds it in its transaction).
    const holding = database.db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${0x736c6f7467656e}::bigint)`.execute(trx);
      const beside = await runExclusiveGenerationPass({ db: database.db, backend: 'postgres' }, new Date(), { horizonDays: 1 });
      expect(beside).toBeNull();
    });
    await holding;
    expect(await advisoryLocksHeld()).toBe(0);
  });

  it('books, reads the booking back and cancels it', async () => {
    const { business, service, customer, partners } = await createBookableBusiness(api.db, { durationMinutes: 60 });
    const tokens = await tokensFor(api, { businessGid: business.gid, customerGid: customer.gid });
    const input = { serviceId: service.gid, startsAt: partners[0].slots[2].startsAt, partnerId: partners[0].gid };
    const created = await api.gql(CREATE, { input }, { token: tokens.customer });
    expect(created.errors).toBeUndefined();
    expect(created.data.bookingCreate.userErrors).toEqual([]);
    const booking = created.data.bookingCreate.booking;
    expect(booking.slots.map((s: { status: string }) => s.status)).toEqual(['BOOKED', 'BOOKED']);
    expect(booking.partner.activeBookingCount).toBe(1);

    const again = await api.gql(CREATE, { input }, { token: tokens.customer });
    expect(again.data.bookingCreate.userErrors.map((e: { code: string }) => e.code)).toEqual(['SLOT_UNAVAILABLE']);

    const read = await api.gql(BOOKING, { id: booking.id }, { token: tokens.customer });
    expect(read.data.node).toEqual({ id: booking.id, status: 'PENDING', startsAt: input.startsAt, slots: [{ status: 'BOOKED' }, { status: 'BOOKED' }] });

    const cancelled = await api.gql(CANCEL, { input: { bookingId: booking.id } }, { token: tokens.customer });
    expect(cancelled.data.bookingCancel).toEqual({ booking: { id: booking.id, status: 'CANCELLED' }, userErrors: [] });
  });

  it('books one slot asked for by 30 customers at once exactly once, and 30 different slots once each', async () => {
    const business = await createBusiness(api.db);
    const service = await createService(api.db, business, { durationMinutes: 30 });
    const partner = await createPartner(api.db, business);
    const start = new Date(Date.now() + 26 * 3600_000);
    start.setUTCMinutes(0, 0, 0);
    const slots = await createSlots(api.db, business, partner, start, 31);
    const tokens: string[] = [];
    for (let i = 0; i < 30; i++) {
      const customer = await createCustomer(api.db, business);
      tokens.push(await api.token({ sub: `bouncer-${i}`, role: 'customer', business_id: business.gid, customer_id: customer.gid }));
    }
    const errorsBefore = loggedErrors.length;

    const same = await Promise.all(tokens.map((token) => api.gql(CREATE, { input: { serviceId: service.gid, startsAt: slots[0].startsAt, partnerId: partner.gid } }, { token })));
    expect(same.flatMap((r) => r.errors ?? [])).toEqual([]);
    const winners = same.filter((r) => r.data.bookingCreate.booking);
    expect(winners).toHaveLength(1);
    expect(same.flatMap((r) => r.data.bookingCreate.userErrors.map((e: { code: string }) => e.code))).toEqual(Array(29).fill('SLOT_UNAVAILABLE'));

    const each = await Promise.all(tokens.map((token, i) => api.gql(CREATE, { input: { serviceId: service.gid, startsAt: slots[i + 1].startsAt, partnerId: partner.gid } }, { token })));
    expect(each.flatMap((r) => r.errors ?? [])).toEqual([]);
    expect(each.map((r) => r.data.bookingCreate.userErrors)).toEqual(Array(30).fill([]));

    const state = await businessState(direct.db, business.id);
    const bookingIds = [...winners, ...each].map((r) => rawIdOf(r.data.bookingCreate.booking.id, 'Booking'));
    expect(state.bookings.map((b) => b.id).sort()).toEqual(bookingIds.sort());
    expect(state.slots.every((slot) => slot.status === 'booked')).toBe(true);
    expect(new Set(state.slots.map((slot) => slot.booking_id)).size).toBe(31);
    expect(state.partners).toEqual([{ id: partner.id, is_active: true, active_booking_count: 31 }]);
    expect(loggedErrors.slice(errorsBefore)).toEqual([]);
  });

  it('refuses PG_STATEMENT_TIMEOUT_MS (a startup parameter PgBouncer rejects) with a message that says what to do', async () => {
    const timed = await connectDatabase({ databaseUrl: bouncer.url, poolMax: 1, preparedStatements: false, statementTimeoutMs: 5000, availability: { down: () => {}, up: () => {} } });
    try {
      await expect(sql`SELECT 1`.execute(timed.db)).rejects.toThrow(/behind PgBouncer set PG_STATEMENT_TIMEOUT_MS=0 and give the role the timeout instead/);
    } finally {
      await timed.close();
    }
  });

  it('needs PG_PREPARED_STATEMENTS=false: with named statements, concurrent reads through it fail', async () => {
    const preparing = await connectDatabase({ databaseUrl: bouncer.url, poolMax: 20 });
    try {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) => sql`SELECT ${i}::int + n AS v FROM (SELECT ${i % 7}::int AS n) AS t`.execute(preparing.db)),
      );
      const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => (o.reason as Error).message);
      expect(failures.length).toBeGreaterThan(0);
      expect(failures[0]).toMatch(/prepared statement/);
    } finally {
      await preparing.close();
    }
  });
});
