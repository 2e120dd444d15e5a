import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawIdOf } from '../../src/shared/global-id.js';
import { loggedErrors, startTestApi, type GraphQLResponse, type TestApi } from '../support/api.js';
import { onRealPostgres } from '../support/database.js';
import {
  createBooking,
  createBusiness,
  createCustomers,
  createPartner,
  createService,
  createSlots,
  type BuiltBusiness,
  type BuiltCustomer,
  type BuiltPartner,
  type BuiltService,
  type BuiltSlot,
} from '../support/builders.js';

/**
 * The booking storm: a crowd of clients, each with its own customer token, sends its request at the
 * same moment over real HTTP, in rounds that contend in different ways: one slot, overlapping ranges
 * of two lengths, overlapping sets of slot ids, and creates racing holds and reschedules. After every
 * round the database itself is asked whether it is still whole (see `checkIntegrity`), whatever the
 * outcome of each request was.
 *
 * On real PostgreSQL the requests run in parallel transactions; PGlite runs one transaction at a
 * time, so there a smaller crowd proves the same answers come out of serial execution, and one more
 * thing: with nothing running in parallel, a request may only lose to time that really is taken.
 */
const CLIENTS = onRealPostgres ? 100 : 10;
const backend = onRealPostgres ? 'postgres' : 'pglite';
const MINUTE = 60_000;
const SLOT_MINUTES = 30;

const BOOKING_FIELDS = 'id startsAt endsAt partner { id } slots { id }';
const DOCUMENTS = {
  create: `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { ${BOOKING_FIELDS} } userErrors { code message } } }`,
  hold: `mutation($input: SlotHoldInput!) { slotHold(input: $input) { hold { ${BOOKING_FIELDS} } userErrors { code message } } }`,
  reschedule: `mutation($input: BookingRescheduleInput!) { bookingReschedule(input: $input) { booking { ${BOOKING_FIELDS} } userErrors { code message } } }`,
} as const;
const PAYLOAD_FIELD = { create: ['bookingCreate', 'booking'], hold: ['slotHold', 'hold'], reschedule: ['bookingReschedule', 'booking'] } as const;

type Operation = keyof typeof DOCUMENTS;

/** A partner's time, in epoch milliseconds, [startsAt, endsAt). */
interface TimeRange {
  partnerId: string;
  startsAt: number;
  endsAt: number;
}

interface Attempt {
  op: Operation;
  token: string;
  input: Record<string, unknown>;
  /** The time the request asks for. */
  asks: TimeRange;
  /** For a reschedule or the use of a hold: the booking or hold it is about (raw id). */
  subjectId?: string;
}

interface Outcome {
  attempt: Attempt;
  /** The booking or hold made (or the booking moved), as the API answered it. */
  won?: TimeRange & { id: string; slotIds: string[] };
  /** The user error codes of a refusal. */
  codes?: string[];
  /** Top-level errors: never expected. */
  errors?: GraphQLResponse['errors'];
}

interface Round {
  outcomes: Outcome[];
  wins: Outcome[];
  losses: Outcome[];
  millis: number;
}

function overlaps(a: TimeRange, b: TimeRange): boolean {
  return a.partnerId === b.partnerId && a.startsAt < b.endsAt && b.startsAt < a.endsAt;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Spreads requests for the same thing apart, so that every kind of request is in flight at once. */
function interleave<T>(groups: T[][]): T[] {
  const out: T[] = [];
  for (let i = 0; out.length < groups.reduce((n, g) => n + g.length, 0); i++) {
    for (const group of groups) if (i < group.length) out.push(group[i]);
  }
  return out;
}

describe(`Bookings in a storm of ${CLIENTS} concurrent clients (${backend})`, () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  /** Tomorrow 09:00 UTC: clear of the minimum notice and well inside the maximum advance. */
  function morning(): number {
    const start = new Date();
    start.setUTCDate(start.getUTCDate() + 1);
    start.setUTCHours(9, 0, 0, 0);
    return start.getTime();
  }

  /** A business with a service per duration and a partner per entry of `slots`, each with that many 30-minute slots from tomorrow 09:00 UTC. */
  async function scene(options: { slots: number[]; durations: number[] }) {
    const business = await createBusiness(api.db);
    const services = new Map<number, BuiltService>();
    for (const minutes of options.durations) services.set(minutes, await createService(api.db, business, { durationMinutes: minutes }));
    const start = morning();
    const partners: Array<BuiltPartner & { slots: BuiltSlot[] }> = [];
    for (const count of options.slots) {
      const partner = await createPartner(api.db, business);
      partners.push({ ...partner, slots: await createSlots(api.db, business, partner, new Date(start), count, { minutes: SLOT_MINUTES }) });
    }
    return { business, services, partners, start };
  }

  /** `count` customers of the business, each with a token of their own. */
  async function crowd(business: BuiltBusiness, count: number): Promise<Array<BuiltCustomer & { token: string }>> {
    const customers = await createCustomers(api.db, business, count);
    return Promise.all(
      customers.map(async (customer, i) => ({
        ...customer,
        token: await api.token({ sub: `storm-${customer.id}-${i}`, role: 'customer', business_id: business.gid, customer_id: customer.gid }),
      })),
    );
  }

  /** Sends every attempt at once, sorts the answers, and logs the round's figures. */
  async function storm(label: string, attempts: Attempt[]): Promise<Round> {
    // One request first, so the server and its pool are warm and the round measures contention.
    await api.gql('{ viewer { role } }');
    const errorsBefore = loggedErrors.length;
    const started = performance.now();
    const responses = await Promise.all(attempts.map((a) => api.gql(DOCUMENTS[a.op], { input: a.input }, { token: a.token })));
    const millis = Math.round(performance.now() - started);

    const outcomes = responses.map((res, i): Outcome => {
      const attempt = attempts[i];
      if (res.errors) return { attempt, errors: res.errors };
      const [mutation, field] = PAYLOAD_FIELD[attempt.op];
      const payload = res.data[mutation];
      const made = payload[field];
      if (!made) return { attempt, codes: payload.userErrors.map((e: { code: string }) => e.code) };
      return {
        attempt,
        won: {
          id: rawIdOf(made.id, attempt.op === 'hold' ? 'SlotHold' : 'Booking')!,
          partnerId: rawIdOf(made.partner.id, 'Partner')!,
          startsAt: Date.parse(made.startsAt),
          endsAt: Date.parse(made.endsAt),
          slotIds: made.slots.map((s: { id: string }) => rawIdOf(s.id, 'Slot')!),
        },
      };
    });
    const wins = outcomes.filter((o) => o.won);
    const losses = outcomes.filter((o) => o.codes);
    const byCode = new Map<string, number>();
    for (const code of losses.flatMap((o) => o.codes!)) byCode.set(code, (byCode.get(code) ?? 0) + 1);
    const errors = outcomes.filter((o) => o.errors).length;
    console.info(
      `[storm] ${backend} ${label}: ${attempts.length} attempts, ${wins.length} won, ${losses.length} lost, ${millis} ms` +
        ` (losses: ${[...byCode].map(([code, n]) => `${code} ${n}`).join(', ') || 'none'}; top-level errors: ${errors})`,
    );

    // No request may end in a top-level error, and the server logged no unexpected failure.
    expect(outcomes.filter((o) => o.errors).map((o) => o.errors)).toEqual([]);
    expect(loggedErrors.slice(errorsBefore)).toEqual([]);
    expect(wins.length + losses.length).toBe(attempts.length);
    return { outcomes, wins, losses, millis };
  }

  /** The refusals whose codes are not the expected one for their kind of request. */
  function unexpectedLosses(round: Round, expected: Partial<Record<Operation | 'use', string>>) {
    return round.losses
      .filter((o) => {
        const kind = o.attempt.op === 'create' && o.attempt.input.holdId ? 'use' : o.attempt.op;
        return o.codes!.length !== 1 || o.codes![0] !== expected[kind];
      })
      .map((o) => ({ op: o.attempt.op, input: o.attempt.input, codes: o.codes }));
  }

  /**
   * Reads a business back from the database and checks that it is whole: no two live bookings of a
   * partner overlap; every booked slot belongs to a live or final booking of its partner whose range
   * covers it; every live booking holds exactly the slots of its range (as many, and as many
   * minutes), none half-claimed; a cancelled booking holds none; each partner's active count is its
   * number of live bookings; live holds reserve exactly their slots and overlap no live booking or
   * other live hold; a used hold's booking has the hold's partner and time. Returns what it read.
   */
  async function checkIntegrity(businessId: string) {
    const [bookings, slots, holds, partners, overlapping] = await Promise.all([
      sql<TimeRange & { id: string; status: string }>`
        SELECT id, partner_id AS "partnerId", status,
               (extract(epoch FROM starts_at) * 1000)::float8 AS "startsAt", (extract(epoch FROM ends_at) * 1000)::float8 AS "endsAt"
        FROM bookings WHERE business_id = ${businessId}::bigint ORDER BY id`.execute(api.db),
      sql<TimeRange & { id: string; status: string; bookingId: string | null; holdId: string | null; held: boolean }>`
        SELECT id, partner_id AS "partnerId", status, booking_id AS "bookingId", hold_id AS "holdId",
               (status = 'available' AND held_until > now()) AS held,
               (extract(epoch FROM slot_start) * 1000)::float8 AS "startsAt", (extract(epoch FROM slot_end) * 1000)::float8 AS "endsAt"
        FROM partner_slots WHERE business_id = ${businessId}::bigint ORDER BY partner_id, slot_start`.execute(api.db),
      sql<TimeRange & { id: string; bookingId: string | null; live: boolean }>`
        SELECT id, partner_id AS "partnerId", booking_id AS "bookingId", (booking_id IS NULL AND expires_at > now()) AS live,
               (extract(epoch FROM starts_at) * 1000)::float8 AS "startsAt", (extract(epoch FROM ends_at) * 1000)::float8 AS "endsAt"
        FROM slot_holds WHERE business_id = ${businessId}::bigint ORDER BY id`.execute(api.db),
      sql<{ id: string; activeBookingCount: number }>`
        SELECT id, active_booking_count AS "activeBookingCount" FROM partners WHERE business_id = ${businessId}::bigint ORDER BY id`.execute(api.db),
      // Asked of the database itself, not of what was read into JavaScript.
      sql<{ a: string; b: string }>`
        SELECT a.id AS a, b.id AS b FROM bookings a JOIN bookings b ON a.partner_id = b.partner_id AND a.id < b.id
        WHERE a.business_id = ${businessId}::bigint AND a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')
          AND a.deleted_at IS NULL AND b.deleted_at IS NULL
          AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)`.execute(api.db),
    ]);
    const live = bookings.rows.filter((b) => b.status === 'pending' || b.status === 'confirmed');
    const liveHolds = holds.rows.filter((h) => h.live);
    const bookingById = new Map(bookings.rows.map((b) => [b.id, b]));
    const holdById = new Map(holds.rows.map((h) => [h.id, h]));
    const violations: string[] = [];

    for (const { a, b } of overlapping.rows) violations.push(`live bookings ${a} and ${b} of one partner overlap`);

    for (const slot of slots.rows.filter((s) => s.status === 'booked')) {
      const booking = slot.bookingId ? bookingById.get(slot.bookingId) : undefined;
      if (!booking) violations.push(`booked slot ${slot.id} points at no booking (${slot.bookingId})`);
      else if (booking.status === 'cancelled') violations.push(`booked slot ${slot.id} belongs to cancelled booking ${booking.id}`);
      else if (booking.partnerId !== slot.partnerId || slot.startsAt < booking.startsAt || slot.endsAt > booking.endsAt) {
        violations.push(`booked slot ${slot.id} lies outside its booking ${booking.id}`);
      }
      if (slot.holdId) violations.push(`booked slot ${slot.id} still carries hold ${slot.holdId}`);
    }
    for (const slot of slots.rows.filter((s) => s.status !== 'booked' && s.bookingId)) violations.push(`${slot.status} slot ${slot.id} points at booking ${slot.bookingId}`);

    /** Every slot of the range's partner that touches it must be `mine`, and together they must fill it. */
    function checkCoverage(what: string, range: TimeRange, mine: (slot: (typeof slots.rows)[number]) => boolean) {
      const touching = slots.rows.filter((s) => overlaps(s, range));
      const foreign = touching.filter((s) => !mine(s));
      if (foreign.length) violations.push(`${what} shares its time with slots ${foreign.map((s) => `${s.id} (${s.status})`).join(', ')}`);
      const held = slots.rows.filter(mine);
      const minutes = held.reduce((sum, s) => sum + (s.endsAt - s.startsAt), 0) / MINUTE;
      const expected = (range.endsAt - range.startsAt) / MINUTE;
      const outside = held.filter((s) => !(s.partnerId === range.partnerId && s.startsAt >= range.startsAt && s.endsAt <= range.endsAt));
      if (outside.length) violations.push(`${what} holds slots outside its range: ${outside.map((s) => s.id).join(', ')}`);
      if (minutes !== expected || held.length !== expected / SLOT_MINUTES) {
        violations.push(`${what} holds ${held.length} slots (${minutes} minutes) for a ${expected}-minute range`);
      }
    }
    for (const booking of live) checkCoverage(`live booking ${booking.id}`, booking, (s) => s.bookingId === booking.id && s.status === 'booked');
    for (const booking of bookings.rows.filter((b) => b.status === 'cancelled')) {
      const kept = slots.rows.filter((s) => s.bookingId === booking.id);
      if (kept.length) violations.push(`cancelled booking ${booking.id} still holds slots ${kept.map((s) => s.id).join(', ')}`);
    }

    for (const partner of partners.rows) {
      const count = live.filter((b) => b.partnerId === partner.id).length;
      if (partner.activeBookingCount !== count) violations.push(`partner ${partner.id} counts ${partner.activeBookingCount} active bookings, has ${count}`);
    }

    for (const slot of slots.rows.filter((s) => s.held)) {
      const hold = holdById.get(slot.holdId!);
      if (!hold?.live) violations.push(`slot ${slot.id} is held by ${slot.holdId}, which is not a live hold`);
      else if (hold.partnerId !== slot.partnerId || slot.startsAt < hold.startsAt || slot.endsAt > hold.endsAt) violations.push(`held slot ${slot.id} lies outside its hold ${hold.id}`);
    }
    for (const hold of liveHolds) {
      checkCoverage(`live hold ${hold.id}`, hold, (s) => s.held && s.holdId === hold.id);
      for (const booking of live.filter((b) => overlaps(b, hold))) violations.push(`live hold ${hold.id} overlaps live booking ${booking.id}`);
      for (const other of liveHolds.filter((h) => h.id > hold.id && overlaps(h, hold))) violations.push(`live holds ${hold.id} and ${other.id} overlap`);
    }
    for (const hold of holds.rows.filter((h) => h.bookingId)) {
      const booking = bookingById.get(hold.bookingId!);
      if (!booking || booking.partnerId !== hold.partnerId || booking.startsAt !== hold.startsAt || booking.endsAt !== hold.endsAt) {
        violations.push(`hold ${hold.id} was used by booking ${hold.bookingId}, which is not of the hold's partner and time`);
      }
    }

    expect(violations).toEqual([]);
    return { bookings: bookings.rows, live, slots: slots.rows, holds: holds.rows, liveHolds, partners: partners.rows };
  }

  async function auditCounts(businessId: string): Promise<Record<string, number>> {
    const rows = await sql<{ action: string; n: number }>`
      SELECT action, count(*)::int AS n FROM audit_logs WHERE business_id = ${businessId}::bigint GROUP BY action`.execute(api.db);
    return Object.fromEntries(rows.rows.map((r) => [r.action, r.n]));
  }

  /**
   * What a round's winners say and what the database holds must agree: the bookings a round made are
   * exactly the new live bookings, each with the slots the API answered, and the live holds it made
   * are exactly the live holds.
   */
  function expectWinsMatchDatabase(round: Round, state: Awaited<ReturnType<typeof checkIntegrity>>, before: Set<string>) {
    const made = round.wins.filter((o) => o.attempt.op === 'create');
    expect(state.live.filter((b) => !before.has(b.id)).map((b) => b.id).sort()).toEqual(made.map((o) => o.won!.id).sort());
    expect(state.bookings.filter((b) => !before.has(b.id)).length).toBe(made.length);
    for (const win of round.wins.filter((o) => o.attempt.op !== 'hold')) {
      const booking = state.live.find((b) => b.id === win.won!.id);
      expect(booking).toMatchObject({ partnerId: win.won!.partnerId, startsAt: win.won!.startsAt, endsAt: win.won!.endsAt });
      expect(state.slots.filter((s) => s.bookingId === win.won!.id).map((s) => s.id).sort()).toEqual([...win.won!.slotIds].sort());
    }
    const holdsMade = round.wins.filter((o) => o.attempt.op === 'hold');
    expect(state.liveHolds.map((h) => h.id).sort()).toEqual(holdsMade.map((o) => o.won!.id).sort());
    for (const win of holdsMade) {
      expect(state.slots.filter((s) => s.held && s.holdId === win.won!.id).map((s) => s.id).sort()).toEqual([...win.won!.slotIds].sort());
    }
    // Every winner got the time it asked for.
    for (const win of round.wins) expect({ partnerId: win.won!.partnerId, startsAt: win.won!.startsAt, endsAt: win.won!.endsAt }).toEqual(win.attempt.asks);
  }

  /**
   * Every loser lost to time that really is taken after the round. A request naming its partner (or
   * its slots) waits for a slot another transaction has locked rather than skipping it, since that
   * transaction may still roll back; had it skipped, everyone who asked for a range could lose and
   * the range stay free.
   */
  function expectLossesJustified(round: Round, state: Awaited<ReturnType<typeof checkIntegrity>>) {
    const taken: TimeRange[] = [...state.live, ...state.liveHolds];
    const unjustified = round.losses.filter((o) => !taken.some((t) => overlaps(t, o.attempt.asks))).map((o) => o.attempt.input);
    expect(unjustified).toEqual([]);
    return unjustified.length;
  }

  it(`books one slot asked for by ${CLIENTS} customers at once exactly once, and every other customer gets SLOT_UNAVAILABLE`, async () => {
    const { business, services, partners, start } = await scene({ slots: [3], durations: [30] });
    const [partner] = partners;
    const service = services.get(30)!;
    const customers = await crowd(business, CLIENTS);
    const asks = { partnerId: partner.id, startsAt: start + 30 * MINUTE, endsAt: start + 60 * MINUTE };

    const round = await storm('round 1, one slot', customers.map((c): Attempt => ({ op: 'create', token: c.token, asks, input: { serviceId: service.gid, partnerId: partner.gid, startsAt: iso(asks.startsAt) } })));

    expect(round.wins).toHaveLength(1);
    expect(unexpectedLosses(round, { create: 'SLOT_UNAVAILABLE' })).toEqual([]);
    const state = await checkIntegrity(business.id);
    expectWinsMatchDatabase(round, state, new Set());
    expect(state.slots.map((s) => [s.id, s.status, s.bookingId])).toEqual([
      [partner.slots[0].id, 'available', null],
      [partner.slots[1].id, 'booked', round.wins[0].won!.id],
      [partner.slots[2].id, 'available', null],
    ]);
    expect(await auditCounts(business.id)).toEqual({ 'booking.created': 1 });
  });

  it(`never lets ${CLIENTS} requests for 60- and 90-minute services starting every 30 minutes over one partner's morning end in overlapping or half-claimed bookings`, async () => {
    // 09:00 to 13:00 in eight slots: 60 minutes from 09:00 to 12:00 (7 starts), 90 minutes from 09:00 to 11:30 (6 starts).
    const { business, services, partners, start } = await scene({ slots: [8], durations: [60, 90] });
    const [partner] = partners;
    const customers = await crowd(business, CLIENTS);
    const combos: Array<{ service: BuiltService; asks: TimeRange }> = [];
    for (const minutes of [60, 90]) {
      for (let at = start; at + minutes * MINUTE <= start + 8 * SLOT_MINUTES * MINUTE; at += SLOT_MINUTES * MINUTE) {
        combos.push({ service: services.get(minutes)!, asks: { partnerId: partner.id, startsAt: at, endsAt: at + minutes * MINUTE } });
      }
    }
    expect(combos).toHaveLength(13);

    const round = await storm(
      'round 2, overlapping 60/90-minute ranges',
      customers.map((c, i): Attempt => {
        const { service, asks } = combos[i % combos.length];
        return { op: 'create', token: c.token, asks, input: { serviceId: service.gid, partnerId: partner.gid, startsAt: iso(asks.startsAt) } };
      }),
    );

    expect(unexpectedLosses(round, { create: 'SLOT_UNAVAILABLE' })).toEqual([]);
    // Whoever locks first gets its whole range; at most four ranges of two slots or more fit in eight slots.
    expect(round.wins.length).toBeGreaterThanOrEqual(1);
    expect(round.wins.length).toBeLessThanOrEqual(4);
    const state = await checkIntegrity(business.id);
    expectWinsMatchDatabase(round, state, new Set());
    expect(await auditCounts(business.id)).toEqual({ 'booking.created': round.wins.length });
    console.info(`[storm] ${backend} round 2: ${expectLossesJustified(round, state)} losses to a range that stayed free`);
  });

  it(`never lets ${CLIENTS} requests for overlapping sets of two and three consecutive slot ids of two partners share a slot`, async () => {
    const { business, partners, start } = await scene({ slots: [8, 8], durations: [60, 90] });
    const customers = await crowd(business, CLIENTS);
    // Without serviceId: the service is the one whose duration the slots cover. Partners alternate.
    const combos = interleave(
      partners.map((partner) => {
        const sets: Array<{ slotIds: string[]; asks: TimeRange }> = [];
        for (const size of [2, 3]) {
          for (let first = 0; first + size <= partner.slots.length; first++) {
            const startsAt = start + first * SLOT_MINUTES * MINUTE;
            sets.push({ slotIds: partner.slots.slice(first, first + size).map((s) => s.gid), asks: { partnerId: partner.id, startsAt, endsAt: startsAt + size * SLOT_MINUTES * MINUTE } });
          }
        }
        return sets;
      }),
    );
    expect(combos).toHaveLength(26);

    const round = await storm(
      'round 3, overlapping slot-id sets',
      customers.map((c, i): Attempt => ({ op: 'create', token: c.token, asks: combos[i % combos.length].asks, input: { slotIds: combos[i % combos.length].slotIds } })),
    );

    expect(unexpectedLosses(round, { create: 'SLOT_UNAVAILABLE' })).toEqual([]);
    for (const partner of partners) {
      const won = round.wins.filter((o) => o.won!.partnerId === partner.id).length;
      expect(won).toBeGreaterThanOrEqual(1);
      expect(won).toBeLessThanOrEqual(4);
    }
    const state = await checkIntegrity(business.id);
    expectWinsMatchDatabase(round, state, new Set());
    expect(await auditCounts(business.id)).toEqual({ 'booking.created': round.wins.length });
    console.info(`[storm] ${backend} round 3: ${expectLossesJustified(round, state)} losses to a range that stayed free`);
  });

  it(`keeps creates, holds and reschedules of ${CLIENTS} clients racing into one partner's morning apart, and every partner's count right`, async () => {
    // Partner A: 09:00 to 15:00, the morning to 12:00 contested, bookings at 12:00 and 13:00 that move
    // into it; partner B: bookings from 09:00 that move to A too (both partners' counts change).
    const moves = Math.max(4, Math.round(CLIENTS / 10));
    const { business, services, partners, start } = await scene({ slots: [12, 2 * (moves - 2)], durations: [60, 90] });
    const [a, b] = partners;
    const s60 = services.get(60)!;
    const customers = await crowd(business, CLIENTS);
    const movers = customers.slice(0, moves);
    const existing: Array<{ id: string; gid: string; partner: BuiltPartner; startsAt: number }> = [];
    for (let i = 0; i < moves; i++) {
      // B's first, so that the first move in flight is one to another partner.
      const partner = i < moves - 2 ? b : a;
      const first = partner === b ? 2 * i : 6 + 2 * (i - (moves - 2));
      const slots = partner.slots.slice(first, first + 2);
      const booking = await createBooking(api.db, { business, service: s60, partner, customer: movers[i], slots });
      existing.push({ ...booking, partner, startsAt: start + first * SLOT_MINUTES * MINUTE });
    }
    const before = await checkIntegrity(business.id);
    const beforeIds = new Set(before.bookings.map((bk) => bk.id));
    expect(before.partners.map((p) => p.activeBookingCount)).toEqual([2, moves - 2]);

    const contested: Array<{ service: BuiltService; asks: TimeRange }> = [];
    for (const minutes of [60, 90]) {
      for (let at = start; at + minutes * MINUTE <= start + 3 * 60 * MINUTE; at += SLOT_MINUTES * MINUTE) {
        contested.push({ service: services.get(minutes)!, asks: { partnerId: a.id, startsAt: at, endsAt: at + minutes * MINUTE } });
      }
    }
    // Each kind starts at another hour (creates at 09:00, holds at 10:00, moves at 11:00), so even
    // serial execution has every kind win something. Moves take fewer statements before they lock
    // slots than creates do, so they only aim at 10:00 to 12:00: the first hour is for creates and
    // holds to fight over, the rest for all three. Every other move from B aims at A's 14:00, which
    // only those moves want: one of them wins for sure, and both partners' counts must follow.
    const moveTargets = contested.filter((c) => c.service === s60 && c.asks.startsAt >= start + 60 * MINUTE);
    const afternoon = { partnerId: a.id, startsAt: start + 5 * 60 * MINUTE, endsAt: start + 6 * 60 * MINUTE };
    const reschedules = existing.map((booking, i): Attempt => {
      const asks = booking.partner === b && i % 2 === 0 ? afternoon : moveTargets[(i + 2) % moveTargets.length].asks;
      return {
        op: 'reschedule',
        token: movers[i].token,
        asks,
        subjectId: booking.id,
        input: { bookingId: booking.gid, startsAt: iso(asks.startsAt), ...(booking.partner === b ? { partnerId: a.gid } : {}) },
      };
    });
    const others = customers.slice(moves).map((c, i): Attempt => {
      const op = i % 2 ? 'hold' : 'create';
      const { service, asks } = contested[(Math.floor(i / 2) + (op === 'hold' ? 2 : 0)) % contested.length];
      return { op, token: c.token, asks, input: { serviceId: service.gid, partnerId: a.gid, startsAt: iso(asks.startsAt) } };
    });
    const attempts = interleave([others.filter((o) => o.op === 'create'), others.filter((o) => o.op === 'hold'), reschedules]);

    const round = await storm('round 4, creates + holds + reschedules', attempts);

    expect(unexpectedLosses(round, { create: 'SLOT_UNAVAILABLE', hold: 'SLOT_UNAVAILABLE', reschedule: 'SLOT_UNAVAILABLE' })).toEqual([]);
    expect(round.wins.length).toBeGreaterThanOrEqual(1);
    const state = await checkIntegrity(business.id);
    expectWinsMatchDatabase(round, state, beforeIds);
    // A booking whose move lost stays where it was, with its slots.
    for (const loss of round.losses.filter((o) => o.attempt.op === 'reschedule')) {
      const booking = existing.find((e) => e.id === loss.attempt.subjectId)!;
      expect(state.live.find((bk) => bk.id === booking.id)).toMatchObject({ partnerId: booking.partner.id, startsAt: booking.startsAt });
    }
    // Everything the round won lies in A's contested morning (or is the one move to 14:00), side by side.
    const won = round.wins.map((o) => o.won!);
    for (const range of won) expect(range.partnerId === a.id && ((range.startsAt >= start && range.endsAt <= start + 3 * 60 * MINUTE) || overlaps(range, afternoon))).toBe(true);
    expect(won.filter((range) => overlaps(range, afternoon))).toEqual([expect.objectContaining(afternoon)]);
    for (const [i, x] of won.entries()) for (const y of won.slice(i + 1)) expect(overlaps(x, y)).toBe(false);
    const count = (op: Operation) => round.wins.filter((o) => o.attempt.op === op).length;
    const movedFromB = round.wins.filter((o) => o.attempt.op === 'reschedule' && existing.find((e) => e.id === o.attempt.subjectId)!.partner === b).length;
    expect(movedFromB).toBeGreaterThanOrEqual(1);
    expect(state.partners.map((p) => p.activeBookingCount)).toEqual([2 + count('create') + movedFromB, moves - 2 - movedFromB]);
    const audit = await auditCounts(business.id);
    expect({ created: audit['booking.created'] ?? 0, held: audit['hold.created'] ?? 0, rescheduled: audit['booking.rescheduled'] ?? 0 }).toEqual({
      created: count('create'),
      held: count('hold'),
      rescheduled: count('reschedule'),
    });
    console.info(
      `[storm] ${backend} round 4: ${count('create')} booked, ${count('hold')} held, ${count('reschedule')} moved (${movedFromB} from another partner); ` +
        `${expectLossesJustified(round, state)} losses to a range that stayed free`,
    );
  });

  it(`turns each live hold into exactly one booking when its customer sends it twice while the rest of ${CLIENTS} clients race for the held time`, async () => {
    // 09:00 to 13:00: 09:00, 10:00 and 11:00 held for an hour each; 12:00 to 13:00 free, contested.
    const { business, services, partners, start } = await scene({ slots: [8], durations: [60] });
    const [partner] = partners;
    const s60 = services.get(60)!;
    const customers = await crowd(business, CLIENTS);
    const holders = customers.slice(0, 3);
    const holds: Array<{ gid: string; id: string; asks: TimeRange; slotGids: string[] }> = [];
    for (const [i, holder] of holders.entries()) {
      const asks = { partnerId: partner.id, startsAt: start + i * 60 * MINUTE, endsAt: start + (i + 1) * 60 * MINUTE };
      const res = await api.gql(DOCUMENTS.hold, { input: { serviceId: s60.gid, partnerId: partner.gid, startsAt: iso(asks.startsAt) } }, { token: holder.token });
      expect(res.data.slotHold.userErrors).toEqual([]);
      holds.push({ gid: res.data.slotHold.hold.id, id: rawIdOf(res.data.slotHold.hold.id, 'SlotHold')!, asks, slotGids: partner.slots.slice(2 * i, 2 * i + 2).map((s) => s.gid) });
    }
    const before = await checkIntegrity(business.id);
    expect(before.liveHolds).toHaveLength(3);

    const uses = holds.flatMap((hold, i): Attempt[] =>
      [0, 1].map(() => ({ op: 'create', token: holders[i].token, asks: hold.asks, subjectId: hold.id, input: { holdId: hold.gid } })),
    );
    const free = { partnerId: partner.id, startsAt: start + 3 * 60 * MINUTE, endsAt: start + 4 * 60 * MINUTE };
    // The others: book a held hour by time or by slot ids, hold it again, or go for the free hour.
    const intruders = customers.slice(3, Math.max(4, CLIENTS - uses.length + 3)).map((c, i): Attempt => {
      const target = i % 4 === 3 ? { asks: free, slotGids: partner.slots.slice(6, 8).map((s) => s.gid) } : holds[i % 3];
      const byTime = { serviceId: s60.gid, partnerId: partner.gid, startsAt: iso(target.asks.startsAt) };
      const op: Operation = i % 5 === 1 ? 'hold' : 'create';
      return { op, token: c.token, asks: target.asks, input: i % 3 === 2 && op === 'create' ? { slotIds: target.slotGids } : byTime };
    });

    const round = await storm('round 5, holds used while others race for the held time', interleave([uses, intruders]));

    expect(unexpectedLosses(round, { use: 'HOLD_EXPIRED', create: 'SLOT_UNAVAILABLE', hold: 'SLOT_UNAVAILABLE' })).toEqual([]);
    const used = round.wins.filter((o) => o.attempt.input.holdId);
    expect(used.map((o) => o.attempt.subjectId).sort()).toEqual(holds.map((h) => h.id).sort());
    expect(round.losses.filter((o) => o.attempt.input.holdId)).toHaveLength(holds.length);
    // Nobody gets held time, and exactly one request gets the free hour.
    const intruderWins = round.wins.filter((o) => !o.attempt.input.holdId);
    expect(intruderWins.map((o) => ({ partnerId: o.won!.partnerId, startsAt: o.won!.startsAt, endsAt: o.won!.endsAt }))).toEqual(CLIENTS - uses.length >= 4 ? [free] : []);
    const state = await checkIntegrity(business.id);
    expectWinsMatchDatabase(round, state, new Set());
    expect(state.holds.filter((h) => h.bookingId).map((h) => [h.id, h.bookingId]).sort()).toEqual(used.map((o) => [o.attempt.subjectId, o.won!.id]).sort());
    expect(state.partners[0].activeBookingCount).toBe(round.wins.filter((o) => o.attempt.op === 'create').length);
    const audit = await auditCounts(business.id);
    expect(audit).toEqual({
      'hold.created': holds.length + round.wins.filter((o) => o.attempt.op === 'hold').length,
      'hold.consumed': holds.length,
      'booking.created': round.wins.filter((o) => o.attempt.op === 'create').length,
    });
  });
});
