import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawIdOf } from '../../src/shared/global-id.js';
import { loggedErrors, startTestApi, type GraphQLResponse, type TestApi } from '../support/api.js';
import { onRealPostgres } from '../support/database.js';
import { businessState, createBookableBusiness, createBooking, createBusiness, createCustomer, createPartner, createService, createSlots, type BuiltBusiness } from '../support/builders.js';

/**
 * Many clients asking for the same time at once, over real HTTP. On real PostgreSQL the requests
 * run in parallel transactions and contend for the slot locks; PGlite is a single session that runs
 * one transaction at a time, so there the same tests run with fewer clients and check that
 * serializing gives the same answers.
 */
const CREATE = `mutation($input: BookingCreateInput!) {
  bookingCreate(input: $input) { booking { id partner { id } slots { id } } userErrors { code } }
}`;
const RESCHEDULE = `mutation($input: BookingRescheduleInput!) {
  bookingReschedule(input: $input) { booking { id partner { id } slots { id } } userErrors { code } }
}`;

const backend = onRealPostgres ? 'postgres' : 'pglite';

/** How one storm ended: who won, who lost and why, and how long it took. */
interface Storm {
  wins: Array<{ bookingId: string; partnerId: string; slotIds: string[] }>;
  losses: string[];
  topLevelErrors: unknown[];
  millis: number;
}

describe('Bookings under contention', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  /** `count` customers of `business`, each with their own token. */
  async function customerTokens(business: BuiltBusiness, count: number): Promise<string[]> {
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) {
      const customer = await createCustomer(api.db, business);
      tokens.push(await api.token({ sub: `racer-${i}`, role: 'customer', business_id: business.gid, customer_id: customer.gid }));
    }
    return tokens;
  }

  /** Sends every request at once and sorts the answers. */
  async function storm(requests: Array<{ input: Record<string, unknown>; token: string }>, label: string): Promise<Storm> {
    // One request first, so that the server and its pool are warm and the storm measures contention.
    await api.gql('{ viewer { role } }');
    const errorsBefore = loggedErrors.length;
    const started = performance.now();
    const responses: GraphQLResponse[] = await Promise.all(requests.map(({ input, token }) => api.gql(CREATE, { input }, { token })));
    const millis = Math.round(performance.now() - started);
    const result: Storm = { wins: [], losses: [], topLevelErrors: [], millis };
    for (const res of responses) {
      if (res.errors) result.topLevelErrors.push(res.errors);
      else if (res.data.bookingCreate.booking) {
        const booking = res.data.bookingCreate.booking;
        result.wins.push({ bookingId: rawIdOf(booking.id, 'Booking')!, partnerId: rawIdOf(booking.partner.id, 'Partner')!, slotIds: booking.slots.map((s: { id: string }) => rawIdOf(s.id, 'Slot')!) });
      } else result.losses.push(...res.data.bookingCreate.userErrors.map((e: { code: string }) => e.code));
    }
    console.info(`[race:${backend}] ${label}: ${requests.length} attempts, ${result.wins.length} won, ${result.losses.length} lost (${[...new Set(result.losses)].join(', ') || 'none'}), ${result.topLevelErrors.length} errors, ${millis} ms`);
    expect(loggedErrors.slice(errorsBefore)).toEqual([]);
    return result;
  }

  /** The live (pending or confirmed) bookings of a business, by start time. */
  async function liveBookings(business: BuiltBusiness) {
    return (await businessState(api.db, business.id)).bookings.filter((b) => b.status === 'pending' || b.status === 'confirmed');
  }

  it(`books one slot asked for by ${onRealPostgres ? 30 : 6} customers at once exactly once; all the others get SLOT_UNAVAILABLE`, async () => {
    const clients = onRealPostgres ? 30 : 6;
    const business = await createBusiness(api.db);
    const service = await createService(api.db, business, { durationMinutes: 30 });
    const partner = await createPartner(api.db, business);
    const start = new Date(Date.now() + 26 * 3600_000);
    start.setUTCMinutes(0, 0, 0);
    const slots = await createSlots(api.db, business, partner, start, 3);
    const tokens = await customerTokens(business, clients);

    const result = await storm(
      tokens.map((token) => ({ token, input: { serviceId: service.gid, startsAt: slots[1].startsAt, partnerId: partner.gid } })),
      'one partner, one slot',
    );

    expect(result.topLevelErrors).toEqual([]);
    expect(result.wins).toHaveLength(1);
    expect(result.losses).toEqual(Array(clients - 1).fill('SLOT_UNAVAILABLE'));
    const [win] = result.wins;
    expect(win.slotIds).toEqual([slots[1].id]);

    const state = await businessState(api.db, business.id);
    expect(state.bookings.map((b) => [b.id, b.status])).toEqual([[win.bookingId, 'pending']]);
    expect(state.slots).toEqual([
      { id: slots[0].id, status: 'available', booking_id: null },
      { id: slots[1].id, status: 'booked', booking_id: win.bookingId },
      { id: slots[2].id, status: 'available', booking_id: null },
    ]);
    expect(state.partners).toEqual([{ id: partner.id, is_active: true, active_booking_count: 1 }]);
    expect(state.audit.map((a) => [a.entity_id, a.action])).toEqual([[win.bookingId, 'booking.created']]);
  });

  it(`gives three partners with one free slot each to three of ${onRealPostgres ? 10 : 5} simultaneous requests without a partner, one each`, async () => {
    const clients = onRealPostgres ? 10 : 5;
    const business = await createBusiness(api.db);
    const service = await createService(api.db, business, { durationMinutes: 30 });
    const start = new Date(Date.now() + 26 * 3600_000);
    start.setUTCMinutes(30, 0, 0);
    const partners = [];
    for (let i = 0; i < 3; i++) {
      const partner = await createPartner(api.db, business);
      partners.push({ ...partner, slot: (await createSlots(api.db, business, partner, start, 1))[0] });
    }
    const tokens = await customerTokens(business, clients);

    const result = await storm(tokens.map((token) => ({ token, input: { serviceId: service.gid, startsAt: start.toISOString() } })), 'three partners, no partner named');

    expect(result.topLevelErrors).toEqual([]);
    expect(result.wins).toHaveLength(3);
    expect(result.losses).toEqual(Array(clients - 3).fill('SLOT_UNAVAILABLE'));
    expect(result.wins.map((w) => w.partnerId).sort()).toEqual(partners.map((p) => p.id).sort());
    for (const win of result.wins) {
      expect(win.slotIds).toEqual([partners.find((p) => p.id === win.partnerId)!.slot.id]);
    }

    const state = await businessState(api.db, business.id);
    expect(state.bookings.map((b) => b.id).sort()).toEqual(result.wins.map((w) => w.bookingId).sort());
    expect(state.slots.every((slot) => slot.status === 'booked')).toBe(true);
    expect(new Set(state.slots.map((slot) => slot.booking_id)).size).toBe(3);
    expect(state.partners.map((p) => p.active_booking_count)).toEqual([1, 1, 1]);
    expect(state.audit).toHaveLength(3);
  });

  it('never lets overlapping 60-minute requests at 10:00, 10:30 and 11:00 end in overlapping bookings or shared slots', async () => {
    const perStart = onRealPostgres ? 10 : 2;
    const business = await createBusiness(api.db);
    const service = await createService(api.db, business, { durationMinutes: 60 });
    const partner = await createPartner(api.db, business);
    const nine = new Date(Date.now() + 26 * 3600_000);
    nine.setUTCHours(nine.getUTCHours(), 0, 0, 0);
    const slots = await createSlots(api.db, business, partner, nine, 8);
    const starts = [slots[2].startsAt, slots[3].startsAt, slots[4].startsAt];
    const tokens = await customerTokens(business, perStart * starts.length);

    // Interleaved, so that the three start times are asked for side by side.
    const requests = tokens.map((token, i) => ({ token, input: { serviceId: service.gid, partnerId: partner.gid, startsAt: starts[i % starts.length] } }));
    const result = await storm(requests, 'one partner, 60 minutes at 10:00 / 10:30 / 11:00');

    expect(result.topLevelErrors).toEqual([]);
    expect(result.losses.every((code) => code === 'SLOT_UNAVAILABLE')).toBe(true);
    expect(result.wins.length + result.losses.length).toBe(requests.length);
    // At least one wins (whoever locks first gets both slots); at most two fit: 10:00 and 11:00.
    expect(result.wins.length).toBeGreaterThanOrEqual(1);
    expect(result.wins.length).toBeLessThanOrEqual(2);

    const live = await liveBookings(business);
    expect(live.map((b) => b.id).sort()).toEqual(result.wins.map((w) => w.bookingId).sort());
    // No two live bookings overlap, asked of the database itself.
    const overlaps = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM bookings a JOIN bookings b ON a.partner_id = b.partner_id AND a.id < b.id
      WHERE a.business_id = ${business.id}::bigint AND a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')
        AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)`.execute(api.db);
    expect(overlaps.rows[0].n).toBe(0);
    // Every booked slot is held by one live booking whose range covers it, and every live booking holds exactly its range.
    const held = await sql<{ slotId: string; covered: boolean; live: boolean }>`
      SELECT sl.id AS "slotId",
             (sl.slot_start >= bk.starts_at AND sl.slot_end <= bk.ends_at) AS covered,
             (bk.status IN ('pending', 'confirmed')) AS live
      FROM partner_slots sl JOIN bookings bk ON bk.id = sl.booking_id
      WHERE sl.business_id = ${business.id}::bigint AND sl.status = 'booked'`.execute(api.db);
    expect(held.rows.every((row) => row.covered && row.live)).toBe(true);
    const state = await businessState(api.db, business.id);
    for (const booking of live) {
      expect(state.slots.filter((slot) => slot.booking_id === booking.id)).toHaveLength(2);
    }
    expect(held.rows).toHaveLength(live.length * 2);
    const booked = state.slots.filter((slot) => slot.status === 'booked').map((slot) => slot.id).sort();
    expect(booked).toEqual(result.wins.flatMap((w) => w.slotIds).sort());
    expect(state.partners[0].active_booking_count).toBe(live.length);
    expect(state.audit).toHaveLength(live.length);
  });

  it(`moves ${onRealPostgres ? 6 : 3} bookings from one partner to another and as many the other way, all at once, without a deadlock`, async () => {
    const pairs = onRealPostgres ? 6 : 3;
    const { business, service, customer, partners } = await createBookableBusiness(api.db, { partners: 2, slotCount: pairs * 2 });
    const [first, second] = partners;
    const staff = await api.token({ sub: 'staff-1', role: 'staff', business_id: business.gid });
    // Each move changes both partners' active counts; moves in opposite directions must not end up
    // waiting on each other's partner row (PostgreSQL would abort one of them as a deadlock).
    // Pair i: a booking of the first partner at slot 2i moves to the second partner's slot 2i, and a
    // booking of the second partner at slot 2i+1 moves to the first partner's slot 2i+1.
    const moves: Array<{ bookingId: string; input: Record<string, unknown>; slotId: string; partnerId: string }> = [];
    for (let i = 0; i < pairs; i++) {
      const there = await createBooking(api.db, { business, service, partner: first, customer, slots: [first.slots[2 * i]] });
      const back = await createBooking(api.db, { business, service, partner: second, customer, slots: [second.slots[2 * i + 1]] });
      moves.push({ bookingId: there.id, input: { bookingId: there.gid, startsAt: second.slots[2 * i].startsAt, partnerId: second.gid }, slotId: second.slots[2 * i].id, partnerId: second.id });
      moves.push({ bookingId: back.id, input: { bookingId: back.gid, startsAt: first.slots[2 * i + 1].startsAt, partnerId: first.gid }, slotId: first.slots[2 * i + 1].id, partnerId: first.id });
    }

    await api.gql('{ viewer { role } }');
    const errorsBefore = loggedErrors.length;
    const started = performance.now();
    const responses: GraphQLResponse[] = await Promise.all(moves.map(({ input }) => api.gql(RESCHEDULE, { input }, { token: staff })));
    const millis = Math.round(performance.now() - started);
    const failed = responses.filter((res) => res.errors || res.data.bookingReschedule.userErrors.length);
    const logged = loggedErrors.slice(errorsBefore).map((e) => String(e.context?.message));
    console.info(`[race:${backend}] swap partners: ${moves.length} attempts, ${moves.length - failed.length} moved, ${failed.length} failed (${[...new Set(logged)].join(', ') || 'none'}), ${millis} ms`);

    expect(logged).toEqual([]);
    expect(failed).toEqual([]);
    const state = await businessState(api.db, business.id);
    for (const move of moves) {
      expect(state.bookings.find((b) => b.id === move.bookingId)).toMatchObject({ partner_id: move.partnerId, status: 'pending' });
      expect(state.slots.find((slot) => slot.id === move.slotId)).toEqual({ id: move.slotId, status: 'booked', booking_id: move.bookingId });
    }
    expect(state.slots.filter((slot) => slot.status === 'booked')).toHaveLength(moves.length);
    expect(state.partners.map((p) => p.active_booking_count)).toEqual([pairs, pairs]);
  }, 60_000);
});
