import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawIdOf, toGlobalId } from '../../src/shared/global-id.js';
import { startTestApi, tokensFor, type GraphQLResponse, type TestApi } from '../support/api.js';
import { onRealPostgres } from '../support/database.js';
import {
  auditRows,
  createBookableBusiness,
  createBooking,
  createBusiness,
  createCustomer,
  createPartner,
  createService,
  createSlots,
} from '../support/builders.js';

const HOLD = `mutation($input: SlotHoldInput!) {
  slotHold(input: $input) {
    hold { id startsAt endsAt expiresAt partner { id } service { id } slots { id status } }
    userErrors { field message code }
  }
}`;
const CREATE = `mutation($input: BookingCreateInput!) {
  bookingCreate(input: $input) { booking { id status startsAt endsAt slots { id status } } userErrors { field message code } }
}`;
const BLOCK = `mutation($input: SlotBlockInput!) { slotBlock(input: $input) { slot { id } userErrors { field message code } } }`;
const PARTNER_SLOTS = `query($id: ID!, $from: DateTime!, $to: DateTime!) {
  node(id: $id) { ... on Partner { slots(from: $from, to: $to) { id status } } }
}`;
const HOLD_NODE = `query($id: ID!) { node(id: $id) { ... on SlotHold { id startsAt partner { id } } } }`;

const MINUTE = 60_000;

describe('Mutation: slotHold, and bookingCreate with a hold', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  /**
   * A salon with a 60-minute service (two 30-minute slots), two partners of 6 slots from tomorrow 09:00
   * UTC, two customers, and tokens; `other` is a second customer of the same business.
   */
  async function scene() {
    const built = await createBookableBusiness(api.db, { partners: 2, slotCount: 6, durationMinutes: 60 });
    const tokens = await tokensFor(api, { businessGid: built.business.gid, partnerGid: built.partners[0].gid, customerGid: built.customer.gid });
    const other = await createCustomer(api.db, built.business);
    const otherToken = await api.token({ sub: 'customer-2', role: 'customer', business_id: built.business.gid, customer_id: other.gid });
    return { ...built, tokens, other, otherToken };
  }
  type Scene = Awaited<ReturnType<typeof scene>>;

  function hold(input: Record<string, unknown>, token: string | undefined) {
    return api.gql(HOLD, { input }, { token });
  }

  /** Asserts a hold was made and returns its raw id and payload. */
  function held(res: GraphQLResponse) {
    expect(res.errors).toBeUndefined();
    expect(res.data.slotHold.userErrors).toEqual([]);
    const value = res.data.slotHold.hold;
    return { id: rawIdOf(value.id, 'SlotHold')!, hold: value };
  }

  /** Holds partner 0's 10:00-11:00 (slots 2 and 3) for the scene's customer. */
  async function holdTen(s: Scene) {
    return held(await hold({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, partnerId: s.partners[0].gid }, s.tokens.customer!));
  }

  /** Everything a hold can touch in a business: slots with their hold columns, holds, bookings, audit rows. */
  async function holdState(businessId: string) {
    const [slots, holds, bookings, audit] = await Promise.all([
      api.db.selectFrom('partner_slots').select(['id', 'status', 'booking_id', 'hold_id', 'held_until']).where('business_id', '=', businessId).orderBy('id').execute(),
      api.db.selectFrom('slot_holds').selectAll().where('business_id', '=', businessId).orderBy('id').execute(),
      api.db.selectFrom('bookings').select(['id', 'status']).where('business_id', '=', businessId).orderBy('id').execute(),
      api.db.selectFrom('audit_logs').select(['entity', 'entity_id', 'action']).where('business_id', '=', businessId).orderBy('id').execute(),
    ]);
    return { slots, holds, bookings, audit };
  }

  /** Runs `run`, which must be refused with `code` at `field` (in the payload at `key`), and proves nothing changed. */
  async function expectRefused(s: Scene, key: 'slotHold' | 'bookingCreate', code: string, field: string[] | null, run: () => Promise<GraphQLResponse>) {
    const before = await holdState(s.business.id);
    const res = await run();
    expect(res.errors).toBeUndefined();
    expect(res.data[key]).toEqual({ [key === 'slotHold' ? 'hold' : 'booking']: null, userErrors: [{ field, message: expect.any(String), code }] });
    expect(await holdState(s.business.id)).toEqual(before);
    return res.data[key].userErrors[0].message as string;
  }

  /** Makes a hold lapse, as the clock would, by moving its times into the past. */
  async function lapse(holdId: string) {
    await sql`UPDATE slot_holds SET expires_at = now() - interval '1 second' WHERE id = ${holdId}::bigint`.execute(api.db);
    await sql`UPDATE partner_slots SET held_until = now() - interval '1 second' WHERE hold_id = ${holdId}::bigint`.execute(api.db);
  }

  describe('holding', () => {
    it('holds the two slots of a 60-minute service for 5 minutes, shows them HELD and writes one audit row', async () => {
      const s = await scene();
      const before = Date.now();
      const { id, hold: value } = await holdTen(s);
      const [ten, half] = [s.partners[0].slots[2], s.partners[0].slots[3]];
      expect(value).toMatchObject({
        startsAt: ten.startsAt,
        endsAt: half.endsAt,
        partner: { id: s.partners[0].gid },
        service: { id: s.service.gid },
        slots: [{ id: ten.gid, status: 'HELD' }, { id: half.gid, status: 'HELD' }],
      });
      const minutesLeft = (Date.parse(value.expiresAt) - before) / MINUTE;
      expect(minutesLeft).toBeGreaterThan(4.5);
      expect(minutesLeft).toBeLessThanOrEqual(5.5);

      const slots = await api.gql(PARTNER_SLOTS, { id: s.partners[0].gid, from: s.partners[0].slots[0].startsAt, to: s.partners[0].slots[5].endsAt });
      expect(slots.data.node.slots.map((slot: { status: string }) => slot.status)).toEqual(['AVAILABLE', 'AVAILABLE', 'HELD', 'HELD', 'AVAILABLE', 'AVAILABLE']);
      const state = await holdState(s.business.id);
      expect(state.slots.filter((slot) => slot.hold_id === id).map((slot) => slot.id)).toEqual([ten.id, half.id]);
      expect(state.slots.filter((slot) => slot.hold_id === id).every((slot) => slot.held_until === value.expiresAt)).toBe(true);
      expect(await auditRows(api.db, id, 'hold')).toMatchObject([{ action: 'hold.created', actor: 'customer:customer-1' }]);
      expect(state.bookings).toEqual([]);
    });

    it('holds explicit consecutive slots given by ID', async () => {
      const s = await scene();
      const slots = s.partners[1].slots.slice(4, 6);
      const { hold: value } = held(await hold({ slotIds: slots.map((slot) => slot.gid) }, s.tokens.customer!));
      expect(value).toMatchObject({ partner: { id: s.partners[1].gid }, service: { id: s.service.gid }, slots: slots.map((slot) => ({ id: slot.gid, status: 'HELD' })) });
    });

    it('assigns the least busy free partner when none is named, skipping a held one', async () => {
      const s = await scene();
      await holdTen(s);
      const res = held(await hold({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt }, s.otherToken));
      expect(res.hold.partner).toEqual({ id: s.partners[1].gid });
    });

    it('refuses held slots to another customer: bookingCreate and slotHold get SLOT_UNAVAILABLE, and so does slotBlock', async () => {
      const s = await scene();
      await holdTen(s);
      const ten = { serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, partnerId: s.partners[0].gid };
      await expectRefused(s, 'bookingCreate', 'SLOT_UNAVAILABLE', ['input', 'startsAt'], () => api.gql(CREATE, { input: ten }, { token: s.otherToken }));
      await expectRefused(s, 'slotHold', 'SLOT_UNAVAILABLE', ['input', 'startsAt'], () => hold(ten, s.otherToken));
      // The holder too: a held time is booked through its hold.
      await expectRefused(s, 'bookingCreate', 'SLOT_UNAVAILABLE', ['input', 'startsAt'], () => api.gql(CREATE, { input: ten }, { token: s.tokens.customer }));
      const before = await holdState(s.business.id);
      const blocked = await api.gql(BLOCK, { input: { slotId: s.partners[0].slots[3].gid } }, { token: s.tokens.staff });
      expect(blocked.data.slotBlock).toEqual({ slot: null, userErrors: [{ field: ['input', 'slotId'], code: 'SLOT_UNAVAILABLE', message: 'The slot is held, expected available to block it.' }] });
      expect(await holdState(s.business.id)).toEqual(before);
    });

    it('takes all the slots of a multi-slot hold or none: with the second slot booked, the first stays free', async () => {
      const s = await scene();
      const [ten, half] = [s.partners[0].slots[2], s.partners[0].slots[3]];
      await createBooking(api.db, { business: s.business, service: s.service, partner: s.partners[0], customer: s.other, slots: [half] });
      await expectRefused(s, 'slotHold', 'SLOT_UNAVAILABLE', ['input', 'startsAt'], () =>
        hold({ serviceId: s.service.gid, startsAt: ten.startsAt, partnerId: s.partners[0].gid }, s.tokens.customer!),
      );
      await expectRefused(s, 'slotHold', 'SLOT_UNAVAILABLE', ['input', 'slotIds'], () => hold({ slotIds: [ten.gid, half.gid] }, s.tokens.customer!));
      const state = await holdState(s.business.id);
      expect(state.slots.find((slot) => slot.id === ten.id)).toMatchObject({ status: 'available', hold_id: null, held_until: null });
    });

    it('frees the slots when the hold lapses, with no job run: they read AVAILABLE and another customer can hold and book them', async () => {
      const s = await scene();
      const { id } = await holdTen(s);
      await lapse(id);
      const slots = await api.gql(PARTNER_SLOTS, { id: s.partners[0].gid, from: s.partners[0].slots[2].startsAt, to: s.partners[0].slots[3].endsAt });
      expect(slots.data.node.slots.map((slot: { status: string }) => slot.status)).toEqual(['AVAILABLE', 'AVAILABLE']);
      const ten = { serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, partnerId: s.partners[0].gid };
      const rehold = held(await hold(ten, s.otherToken));
      expect(rehold.id).not.toBe(id);
      await lapse(rehold.id);
      const booked = await api.gql(CREATE, { input: ten }, { token: s.otherToken });
      expect(booked.data.bookingCreate.userErrors).toEqual([]);
    });
  });

  describe('booking with a hold', () => {
    it("books exactly the hold's slots for its customer, consumes the hold and clears the slots' hold columns", async () => {
      const s = await scene();
      const { id, hold: value } = await holdTen(s);
      const res = await api.gql(CREATE, { input: { holdId: value.id } }, { token: s.tokens.customer });
      expect(res.errors).toBeUndefined();
      expect(res.data.bookingCreate).toMatchObject({
        booking: { status: 'PENDING', startsAt: value.startsAt, endsAt: value.endsAt, slots: value.slots.map((slot: { id: string }) => ({ id: slot.id, status: 'BOOKED' })) },
        userErrors: [],
      });
      const bookingId = rawIdOf(res.data.bookingCreate.booking.id, 'Booking')!;
      const state = await holdState(s.business.id);
      expect(state.holds).toMatchObject([{ id, booking_id: bookingId }]);
      expect(state.slots.filter((slot) => slot.booking_id === bookingId)).toMatchObject([
        { status: 'booked', hold_id: null, held_until: null },
        { status: 'booked', hold_id: null, held_until: null },
      ]);
      expect((await auditRows(api.db, bookingId))[0]).toMatchObject({ action: 'booking.created', changes: { after: { holdId: id } } });
      expect((await auditRows(api.db, id, 'hold')).map((row) => row.action)).toEqual(['hold.created', 'hold.consumed']);
    });

    it('lets staff book a hold on behalf of its customer, with fields that repeat the hold', async () => {
      const s = await scene();
      const { hold: value } = await holdTen(s);
      const res = await api.gql(
        CREATE,
        { input: { holdId: value.id, customerId: s.customer.gid, serviceId: s.service.gid, partnerId: s.partners[0].gid, startsAt: value.startsAt, slotIds: value.slots.map((slot: { id: string }) => slot.id) } },
        { token: s.tokens.staff },
      );
      expect(res.data.bookingCreate.userErrors).toEqual([]);
    });

    it('answers HOLD_EXPIRED for a used hold', async () => {
      const s = await scene();
      const { hold: value } = await holdTen(s);
      await api.gql(CREATE, { input: { holdId: value.id } }, { token: s.tokens.customer });
      const message = await expectRefused(s, 'bookingCreate', 'HOLD_EXPIRED', ['input', 'holdId'], () => api.gql(CREATE, { input: { holdId: value.id } }, { token: s.tokens.customer }));
      expect(message).toBe('The hold was already used by a booking.');
    });

    it('answers HOLD_EXPIRED for a lapsed hold, even while its slots are still free', async () => {
      const s = await scene();
      const { id, hold: value } = await holdTen(s);
      await lapse(id);
      const message = await expectRefused(s, 'bookingCreate', 'HOLD_EXPIRED', ['input', 'holdId'], () => api.gql(CREATE, { input: { holdId: value.id } }, { token: s.tokens.customer }));
      expect(message).toMatch(/^The hold lapsed at .+; hold the slots again\.$/);
    });

    it("answers NOT_FOUND for another customer's hold, to that customer and to staff naming them, as for a missing one", async () => {
      const s = await scene();
      const { hold: value } = await holdTen(s);
      const notFound = `No hold with ID "${value.id}".`;
      expect(await expectRefused(s, 'bookingCreate', 'NOT_FOUND', ['input', 'holdId'], () => api.gql(CREATE, { input: { holdId: value.id } }, { token: s.otherToken }))).toBe(notFound);
      expect(
        await expectRefused(s, 'bookingCreate', 'NOT_FOUND', ['input', 'holdId'], () => api.gql(CREATE, { input: { holdId: value.id, customerId: s.other.gid } }, { token: s.tokens.staff })),
      ).toBe(notFound);
    });

    it.each([
      ['serviceId', 'another service'],
      ['partnerId', 'another partner'],
      ['startsAt', 'another start'],
      ['slotIds', 'other slots'],
    ])('answers MISMATCH when %s names %s than the hold', async (field) => {
      const s = await scene();
      const { hold: value } = await holdTen(s);
      const otherService = await createService(api.db, s.business, { durationMinutes: 60 });
      const conflicting: Record<string, unknown> = {
        serviceId: otherService.gid,
        partnerId: s.partners[1].gid,
        startsAt: s.partners[0].slots[4].startsAt,
        slotIds: [s.partners[0].slots[4].gid, s.partners[0].slots[5].gid],
      };
      await expectRefused(s, 'bookingCreate', 'MISMATCH', ['input', field], () => api.gql(CREATE, { input: { holdId: value.id, [field]: conflicting[field] } }, { token: s.tokens.customer }));
    });
  });

  describe('user errors of slotHold', () => {
    it('answers IN_THE_PAST, NOT_FOUND, INVALID_INPUT and SERVICE_INACTIVE as bookingCreate does, holding nothing', async () => {
      const s = await scene();
      const past = await createSlots(api.db, s.business, s.partners[0], new Date(Date.now() - 3 * 3600_000), 2);
      await expectRefused(s, 'slotHold', 'IN_THE_PAST', ['input', 'slotIds'], () => hold({ slotIds: past.map((slot) => slot.gid) }, s.tokens.customer!));
      await expectRefused(s, 'slotHold', 'NOT_FOUND', ['input', 'slotIds'], () => hold({ slotIds: [toGlobalId('Slot', '9000000000000000000')] }, s.tokens.customer!));
      await expectRefused(s, 'slotHold', 'INVALID_INPUT', ['input', 'startsAt'], () => hold({ serviceId: s.service.gid }, s.tokens.customer!));
      const inactive = await createService(api.db, s.business, { durationMinutes: 60, isActive: false });
      await expectRefused(s, 'slotHold', 'SERVICE_INACTIVE', ['input', 'serviceId'], () =>
        hold({ serviceId: inactive.gid, startsAt: s.partners[0].slots[2].startsAt }, s.tokens.customer!),
      );
    });
  });

  describe('roles and tenants', () => {
    it('refuses an anonymous caller with UNAUTHENTICATED and a partner with FORBIDDEN, holding nothing', async () => {
      const s = await scene();
      const input = { serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, customerId: s.customer.gid };
      const before = await holdState(s.business.id);
      expect((await hold(input, undefined)).errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
      expect((await hold(input, s.tokens.partner)).errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      expect(await holdState(s.business.id)).toEqual(before);
    });

    it('lets staff hold for a customer they name, and asks them to name one', async () => {
      const s = await scene();
      const input = { serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt };
      await expectRefused(s, 'slotHold', 'INVALID_INPUT', ['input', 'customerId'], () => hold(input, s.tokens.staff));
      const { id } = held(await hold({ ...input, customerId: s.customer.gid }, s.tokens.staff));
      expect((await holdState(s.business.id)).holds).toMatchObject([{ id, customer_id: s.customer.id }]);
    });

    it('shows a hold to its customer, its partner and staff; to another customer it reads like a missing one', async () => {
      const s = await scene();
      const { hold: value } = await holdTen(s);
      for (const token of [s.tokens.customer, s.tokens.partner, s.tokens.staff, s.tokens.admin]) {
        expect((await api.gql(HOLD_NODE, { id: value.id }, { token })).data.node).toEqual({ id: value.id, startsAt: value.startsAt, partner: { id: s.partners[0].gid } });
      }
      const otherPartner = await api.token({ sub: 'partner-2', role: 'partner', business_id: s.business.gid, partner_id: s.partners[1].gid });
      for (const token of [s.otherToken, otherPartner, undefined]) {
        expect((await api.gql(HOLD_NODE, { id: value.id }, { token })).data.node).toBeNull();
      }
    });

    it("treats another business's hold, service and slots like missing ones: NOT_FOUND, and nothing changes", async () => {
      const s = await scene();
      const { hold: value } = await holdTen(s);
      const business = await createBusiness(api.db);
      const customer = await createCustomer(api.db, business);
      const partner = await createPartner(api.db, business);
      const theirSlots = await createSlots(api.db, business, partner, s.start, 2);
      const theirs = await tokensFor(api, { businessGid: business.gid, customerGid: customer.gid });
      const missing = await expectRefused(s, 'bookingCreate', 'NOT_FOUND', ['input', 'holdId'], () =>
        api.gql(CREATE, { input: { holdId: toGlobalId('SlotHold', '9000000000000000000') } }, { token: theirs.customer }),
      );
      const foreign = await expectRefused(s, 'bookingCreate', 'NOT_FOUND', ['input', 'holdId'], () => api.gql(CREATE, { input: { holdId: value.id } }, { token: theirs.customer }));
      expect(foreign).toBe(missing.replace(toGlobalId('SlotHold', '9000000000000000000'), value.id));
      expect((await api.gql(HOLD_NODE, { id: value.id }, { token: theirs.staff })).data.node).toBeNull();
      await expectRefused(s, 'slotHold', 'NOT_FOUND', ['input', 'serviceId'], () => hold({ serviceId: s.service.gid, startsAt: s.partners[0].slots[4].startsAt }, theirs.customer!));
      await expectRefused(s, 'slotHold', 'NOT_FOUND', ['input', 'slotIds'], () => hold({ slotIds: theirSlots.map((slot) => slot.gid) }, s.tokens.customer!));
    });
  });

  describe('reads', () => {
    it('serves three holds with their partner, service and slots through nodes() in 4 statements', async () => {
      const s = await scene();
      const ids = [
        (await holdTen(s)).hold.id,
        held(await hold({ serviceId: s.service.gid, startsAt: s.partners[1].slots[0].startsAt, partnerId: s.partners[1].gid }, s.tokens.customer!)).hold.id,
        held(await hold({ serviceId: s.service.gid, startsAt: s.partners[1].slots[4].startsAt, partnerId: s.partners[1].gid }, s.tokens.customer!)).hold.id,
      ];
      const query = `query($ids: [ID!]!) { nodes(ids: $ids) { ... on SlotHold { id partner { name } service { name } slots { id status } } } }`;
      const { result, statements } = await api.countStatements(() => api.gql(query, { ids }, { token: s.tokens.staff }));
      expect(result.errors).toBeUndefined();
      expect(result.data.nodes.map((n: { slots: unknown[] }) => n.slots.length)).toEqual([2, 2, 2]);
      // Holds, partners, services, slots: one statement each, whatever the number of holds.
      expect(statements).toBe(4);
    });
  });

  it(`gives a slot asked for by ${onRealPostgres ? 12 : 4} simultaneous holds to exactly one; the others get SLOT_UNAVAILABLE`, async () => {
    const clients = onRealPostgres ? 12 : 4;
    const s = await scene();
    const tokens: string[] = [];
    for (let i = 0; i < clients; i++) {
      const customer = await createCustomer(api.db, s.business);
      tokens.push(await api.token({ sub: `holder-${i}`, role: 'customer', business_id: s.business.gid, customer_id: customer.gid }));
    }
    await api.gql('{ viewer { role } }');
    const input = { serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, partnerId: s.partners[0].gid };
    const responses = await Promise.all(tokens.map((token) => hold(input, token)));
    expect(responses.flatMap((res) => res.errors ?? [])).toEqual([]);
    const codes = responses.map((res) => res.data.slotHold.userErrors[0]?.code ?? 'HELD').sort();
    expect(codes).toEqual(['HELD', ...Array(clients - 1).fill('SLOT_UNAVAILABLE')]);
    const state = await holdState(s.business.id);
    expect(state.holds).toHaveLength(1);
    expect(state.slots.filter((slot) => slot.hold_id !== null).map((slot) => slot.id)).toEqual([s.partners[0].slots[2].id, s.partners[0].slots[3].id]);
  });
});
