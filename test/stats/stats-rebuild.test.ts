import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BookingStatusColumn } from '../../src/db/tables.js';
import { findEventsAfter } from '../../src/events/booking-events.repository.js';
import { applyEventsToStats, rebuildStats } from '../../src/stats/stats.repository.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { createBusiness, createCustomers, createPartner, createService, createSlots, type BuiltBusiness, type BuiltCustomer, type BuiltPartner, type BuiltService } from '../support/builders.js';

/**
 * The rollups kept by the relay equal a rebuild from the source tables, on a generated history of
 * 300 bookings of a New York business over both of 2026's DST changes (every status, reschedules,
 * payments captured and refunded, slots added, blocked and deleted), written the way the API
 * writes them: rows and their outbox events in one transaction, relayed in batches in between.
 */

const ZONE = 'America/New_York';
const STATUSES: BookingStatusColumn[] = ['pending', 'confirmed', 'cancelled', 'completed', 'no_show'];
const MINUTE = 60_000;

/** A small deterministic generator: the same history on every run and both databases. */
function generator(seed: number) {
  let state = seed;
  return (n: number) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
}

function localDate(instant: string | Date, timeZone = ZONE): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(instant));
}

interface Generated {
  id: string;
  partner: BuiltPartner;
  service: BuiltService;
  startsAt: string;
  endsAt: string;
  status: BookingStatusColumn;
}

describe('Stats rollups: incremental from the outbox equals a rebuild', () => {
  let api: TestApi;
  let business: BuiltBusiness;
  let services: BuiltService[];
  let partners: BuiltPartner[];
  let customers: BuiltCustomer[];
  const bookings: Generated[] = [];
  const paid = new Map<string, { paymentId: string; amount: number; refunded: boolean }>();

  /** Writes events into the outbox and lets the relay run, as a batch of committed mutations would. */
  async function relay(events: Array<{ booking: Generated; type: string; previous?: { partnerId: string; startsAt: string; endsAt: string }; paymentId?: string }>) {
    await sql`INSERT INTO booking_events (business_id, booking_id, payment_id, partner_ids, type, data)
      SELECT ${business.id}::bigint, x.booking_id, x.payment_id, ARRAY[x.partner_id], x.type, x.data::jsonb
      FROM unnest(${events.map((e) => e.booking.id)}::bigint[], ${events.map((e) => e.paymentId ?? null)}::bigint[], ${events.map((e) => e.booking.partner.id)}::bigint[],
                  ${events.map((e) => e.type)}::text[],
                  ${events.map((e) => JSON.stringify({ booking: { status: e.booking.status.toUpperCase(), partnerId: e.booking.partner.id, startsAt: e.booking.startsAt, endsAt: e.booking.endsAt }, ...(e.previous ? { previous: e.previous } : {}) }))}::text[])
        AS x(booking_id, payment_id, partner_id, type, data)`.execute(api.db);
    await api.app.relay.kick();
  }

  async function rollups() {
    const daily = await sql`SELECT * FROM booking_stats_daily WHERE business_id = ${business.id}::bigint ORDER BY day, partner_id, service_id`.execute(api.db);
    const open = await sql`SELECT * FROM partner_open_daily WHERE business_id = ${business.id}::bigint ORDER BY day, partner_id`.execute(api.db);
    return { daily: daily.rows, open: open.rows };
  }

  beforeAll(async () => {
    api = await startTestApi({ isolated: true });
    business = await createBusiness(api.db, { timeZone: ZONE, currency: 'USD' });
    services = [await createService(api.db, business, { durationMinutes: 30, priceCents: 3000 }), await createService(api.db, business, { durationMinutes: 60, priceCents: 6000 })];
    partners = [await createPartner(api.db, business), await createPartner(api.db, business), await createPartner(api.db, business)];
    customers = await createCustomers(api.db, business, 40);
    const random = generator(14);

    // 150 bookings around each DST change, every partner's on its own 90-minute cells, day and night.
    for (const windowStart of ['2026-03-06T12:00:00Z', '2026-10-30T12:00:00Z']) {
      for (let i = 0; i < 150; i++) {
        const partner = partners[i % 3];
        const service = services[random(2)];
        const startsAt = new Date(Date.parse(windowStart) + Math.floor(i / 3) * 90 * MINUTE);
        const createdAt = new Date(startsAt.getTime() - (1 + random(20 * 24 * 60)) * MINUTE);
        const row = await sql<{ id: string }>`INSERT INTO bookings (business_id, customer_id, partner_id, service_id, starts_at, ends_at, status, total_cents, currency, created_at)
          VALUES (${business.id}::bigint, ${customers[random(40)].id}::bigint, ${partner.id}::bigint, ${service.id}::bigint, ${startsAt.toISOString()}::timestamptz,
                  ${new Date(startsAt.getTime() + service.durationMinutes * MINUTE).toISOString()}::timestamptz, ${STATUSES[random(5)]}, ${service.priceCents}, 'USD', ${createdAt.toISOString()}::timestamptz)
          RETURNING id::text AS id, to_char(starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "startsAt", to_char(ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "endsAt", status`.execute(api.db);
        bookings.push({ ...(row.rows[0] as unknown as Generated), partner, service });
      }
    }
    for (let at = 0; at < bookings.length; at += 100) await relay(bookings.slice(at, at + 100).map((booking) => ({ booking, type: 'BOOKING_CREATED' })));

    // Status changes, reschedules a week later (off every other booking's cells), payments and refunds.
    const changed: Parameters<typeof relay>[0] = [];
    for (const booking of bookings) {
      const roll = random(10);
      if (roll === 0 && booking.status !== 'cancelled') {
        const previous = { partnerId: booking.partner.id, startsAt: booking.startsAt, endsAt: booking.endsAt };
        booking.startsAt = new Date(Date.parse(booking.startsAt) + 7 * 24 * 60 * MINUTE).toISOString().replace('.000Z', 'Z');
        booking.endsAt = new Date(Date.parse(booking.endsAt) + 7 * 24 * 60 * MINUTE).toISOString().replace('.000Z', 'Z');
        await sql`UPDATE bookings SET starts_at = ${booking.startsAt}::timestamptz, ends_at = ${booking.endsAt}::timestamptz WHERE id = ${booking.id}::bigint`.execute(api.db);
        changed.push({ booking, type: 'BOOKING_RESCHEDULED', previous });
      } else if (roll === 1 && booking.status === 'pending') {
        booking.status = 'cancelled';
        await sql`UPDATE bookings SET status = 'cancelled' WHERE id = ${booking.id}::bigint`.execute(api.db);
        changed.push({ booking, type: 'BOOKING_CANCELLED' });
      }
      if (random(3) === 0 && booking.status !== 'pending') {
        const refunded = random(4) === 0;
        const payment = await sql<{ id: string }>`INSERT INTO payments (business_id, booking_id, provider, provider_txn_id, amount_cents, currency, status, amount_refunded_cents, refunded_at)
          VALUES (${business.id}::bigint, ${booking.id}::bigint, 'test', ${`gen_${booking.id}`}, ${booking.service.priceCents}, 'USD', ${refunded ? 'refunded' : 'succeeded'},
                  ${refunded ? booking.service.priceCents : 0}, ${refunded ? new Date().toISOString() : null}::timestamptz)
          RETURNING id::text AS id`.execute(api.db);
        paid.set(booking.id, { paymentId: payment.rows[0].id, amount: booking.service.priceCents, refunded });
        changed.push({ booking, type: 'PAYMENT_STATUS_CHANGED', paymentId: payment.rows[0].id });
      }
    }
    for (let at = 0; at < changed.length; at += 40) await relay(changed.slice(at, at + 40));

    // Open time across both DST nights, kept by the triggers: 30-minute slots for a day and a half,
    // a few blocked, a few deleted, and one booked (no change in open time).
    for (const [partner, start] of [[partners[0], '2026-03-07T12:00:00Z'], [partners[1], '2026-10-31T12:00:00Z']] as const) {
      const slots = await createSlots(api.db, business, partner, new Date(start), 72);
      await sql`UPDATE partner_slots SET status = 'blocked' WHERE id = ANY(${slots.slice(10, 14).map((s) => s.id)}::bigint[])`.execute(api.db);
      await sql`DELETE FROM partner_slots WHERE id = ANY(${slots.slice(30, 33).map((s) => s.id)}::bigint[])`.execute(api.db);
      await sql`UPDATE partner_slots SET status = 'booked', booking_id = ${bookings[0].id}::bigint WHERE id = ${slots[40].id}::bigint`.execute(api.db);
    }
  }, 120_000);

  afterAll(async () => {
    await api?.close();
  });

  it('counts each booking on its local start date, a DST day being one day', async () => {
    const expected = new Map<string, number>();
    for (const b of bookings) expected.set(localDate(b.startsAt), (expected.get(localDate(b.startsAt)) ?? 0) + 1);
    const rows = await sql<{ day: string; bookings: number }>`SELECT to_char(day, 'YYYY-MM-DD') AS day, sum(bookings)::int AS bookings
      FROM booking_stats_daily WHERE business_id = ${business.id}::bigint GROUP BY day ORDER BY day`.execute(api.db);
    expect(Object.fromEntries(rows.rows.map((r) => [r.day, r.bookings]))).toEqual(Object.fromEntries([...expected].sort()));
    expect(expected.has('2026-03-08') && expected.has('2026-11-01')).toBe(true);
    const money = await sql<{ captured: number; refunded: number }>`SELECT sum(captured_cents)::int AS captured, sum(refunded_cents)::int AS refunded
      FROM booking_stats_daily WHERE business_id = ${business.id}::bigint`.execute(api.db);
    const payments = [...paid.values()];
    expect(money.rows[0]).toEqual({ captured: payments.reduce((s, p) => s + p.amount, 0), refunded: payments.reduce((s, p) => s + (p.refunded ? p.amount : 0), 0) });
  });

  it('keeps open time per local day across DST: 23- and 25-hour days hold their slots', async () => {
    const open = await sql<{ day: string; minutes: number }>`SELECT to_char(day, 'YYYY-MM-DD') AS day, open_minutes AS minutes FROM partner_open_daily
      WHERE partner_id = ${partners[0].id}::bigint ORDER BY day`.execute(api.db);
    const expected = new Map<string, number>();
    for (let i = 0; i < 72; i++) {
      if ((i >= 10 && i < 14) || (i >= 30 && i < 33)) continue;
      const day = localDate(new Date(Date.parse('2026-03-07T12:00:00Z') + i * 30 * MINUTE));
      expected.set(day, (expected.get(day) ?? 0) + 30);
    }
    expect(open.rows).toEqual([...expected].map(([day, minutes]) => ({ day, minutes })));
  });

  it('equals a rebuild from the source tables', async () => {
    const incremental = await rollups();
    expect(incremental.daily.length).toBeGreaterThan(20);
    const result = await rebuildStats(api.db, business.id);
    expect(result.bookingRows).toBe(incremental.daily.length);
    expect(await rollups()).toEqual(incremental);
  });

  it('counts an event applied twice once: a replay of every event changes nothing', async () => {
    const before = await rollups();
    const events = await findEventsAfter(api.db, 0, 10_000);
    expect(events.length).toBeGreaterThan(300);
    await api.db.transaction().execute((trx) => applyEventsToStats(trx, events));
    await api.db.transaction().execute((trx) => applyEventsToStats(trx, events));
    expect(await rollups()).toEqual(before);
  });

  it('skips events at or below the business mark, and applies the next one', async () => {
    const booking = bookings.find((b) => b.status === 'confirmed')!;
    const day = localDate(booking.startsAt);
    const row = sql`business_id = ${business.id}::bigint AND partner_id = ${booking.partner.id}::bigint AND service_id = ${booking.service.id}::bigint AND day = ${day}::date`;
    await sql`UPDATE booking_stats_daily SET bookings = 999 WHERE ${row}`.execute(api.db);
    const events = await findEventsAfter(api.db, 0, 10_000);
    await api.db.transaction().execute((trx) => applyEventsToStats(trx, events.filter((e) => e.bookingId === booking.id)));
    const stale = await sql<{ bookings: number }>`SELECT bookings FROM booking_stats_daily WHERE ${row}`.execute(api.db);
    expect(stale.rows[0].bookings).toBe(999);

    booking.status = 'completed';
    await sql`UPDATE bookings SET status = 'completed' WHERE id = ${booking.id}::bigint`.execute(api.db);
    await relay([{ booking, type: 'BOOKING_COMPLETED' }]);
    const fresh = await sql<{ bookings: number }>`SELECT bookings FROM booking_stats_daily WHERE ${row}`.execute(api.db);
    expect(fresh.rows[0].bookings).toBe(bookings.filter((b) => b.partner === booking.partner && b.service === booking.service && localDate(b.startsAt) === day).length);
    const incremental = await rollups();
    await rebuildStats(api.db);
    expect(await rollups()).toEqual(incremental);
  });
});
