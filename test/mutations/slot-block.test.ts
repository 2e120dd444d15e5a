import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/shared/global-id.js';
import { startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { auditRows, createBookableBusiness, createBooking, createBusiness, createSlots } from '../support/builders.js';

const SLOT_FIELDS = 'slot { id status startsAt endsAt partner { id } } userErrors { field message code }';
const BLOCK = `mutation($input: SlotBlockInput!) { slotBlock(input: $input) { ${SLOT_FIELDS} } }`;
const UNBLOCK = `mutation($input: SlotUnblockInput!) { slotUnblock(input: $input) { ${SLOT_FIELDS} } }`;

describe('Mutation: slotBlock and slotUnblock', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  /** A business with two partners of two slots each, and tokens for its roles (the partner is partners[0]). */
  async function scene() {
    const built = await createBookableBusiness(api.db, { partners: 2, slotCount: 2 });
    const tokens = await tokensFor(api, { businessGid: built.business.gid, partnerGid: built.partners[0].gid, customerGid: built.customer.gid });
    return { ...built, tokens };
  }

  /** Staff of a business other than the scene's. */
  async function otherStaffToken() {
    const other = await createBusiness(api.db);
    return (await tokensFor(api, { businessGid: other.gid })).staff;
  }

  /** A blocked slot of the scene's first partner, after its two available ones. */
  async function blockedSlot(s: Awaited<ReturnType<typeof scene>>) {
    const [slot] = await createSlots(api.db, s.business, s.partners[0], new Date(s.start.getTime() + 3 * 3600_000), 1, { status: 'blocked' });
    return slot;
  }

  /** Everything a refusal must leave alone: the row (xmin moves on any write, even of equal values) and the trail. */
  async function snapshot(slotId: string) {
    const row = await sql<{ status: string; booking_id: string | null; xmin: string }>`
      SELECT status, booking_id, xmin::text AS xmin FROM partner_slots WHERE id = ${slotId}::bigint`.execute(api.db);
    return { row: row.rows[0], audit: await auditRows(api.db, slotId, 'slot') };
  }

  describe('slotBlock', () => {
    it('blocks an available slot for staff of its business, returns it BLOCKED and writes one audit row', async () => {
      const s = await scene();
      const slot = s.partners[0].slots[0];
      const res = await api.gql(BLOCK, { input: { slotId: slot.gid } }, { token: s.tokens.staff });
      expect(res.errors).toBeUndefined();
      expect(res.data.slotBlock).toEqual({
        slot: { id: slot.gid, status: 'BLOCKED', startsAt: slot.startsAt, endsAt: slot.endsAt, partner: { id: s.partners[0].gid } },
        userErrors: [],
      });
      expect((await snapshot(slot.id)).row).toMatchObject({ status: 'blocked', booking_id: null });
      expect(await auditRows(api.db, slot.id, 'slot')).toEqual([
        {
          businessId: s.business.id,
          entity: 'slot',
          action: 'slot.blocked',
          actor: 'staff:staff-1',
          changes: { before: { status: 'AVAILABLE' }, after: { status: 'BLOCKED' } },
        },
      ]);
    });

    it('lets the partner who owns the slot block it', async () => {
      const s = await scene();
      const slot = s.partners[0].slots[1];
      const res = await api.gql(BLOCK, { input: { slotId: slot.gid } }, { token: s.tokens.partner });
      expect(res.data.slotBlock).toMatchObject({ slot: { id: slot.gid, status: 'BLOCKED' }, userErrors: [] });
      expect((await snapshot(slot.id)).row.status).toBe('blocked');
      expect(await auditRows(api.db, slot.id, 'slot')).toMatchObject([{ action: 'slot.blocked', actor: 'partner:partner-1' }]);
    });

    it('lets an admin block a slot of any business', async () => {
      const s = await scene();
      const slot = s.partners[1].slots[0];
      const res = await api.gql(BLOCK, { input: { slotId: slot.gid } }, { token: s.tokens.admin });
      expect(res.data.slotBlock).toMatchObject({ slot: { id: slot.gid, status: 'BLOCKED' }, userErrors: [] });
      expect((await snapshot(slot.id)).row.status).toBe('blocked');
      expect(await auditRows(api.db, slot.id, 'slot')).toMatchObject([{ businessId: s.business.id, action: 'slot.blocked', actor: 'admin:admin-1' }]);
    });

    it('refuses to block a booked slot with SLOT_UNAVAILABLE and changes nothing', async () => {
      const s = await scene();
      const slot = s.partners[0].slots[0];
      await createBooking(api.db, { business: s.business, service: s.service, partner: s.partners[0], customer: s.customer, slots: [slot] });
      const before = await snapshot(slot.id);
      const res = await api.gql(BLOCK, { input: { slotId: slot.gid } }, { token: s.tokens.staff });
      expect(res.errors).toBeUndefined();
      expect(res.data.slotBlock).toEqual({
        slot: null,
        userErrors: [{ field: ['input', 'slotId'], code: 'SLOT_UNAVAILABLE', message: 'The slot is booked, expected available to block it.' }],
      });
      expect(await snapshot(slot.id)).toEqual(before);
    });

    it('refuses to block an already blocked slot with SLOT_UNAVAILABLE and changes nothing', async () => {
      const s = await scene();
      const slot = await blockedSlot(s);
      const before = await snapshot(slot.id);
      const res = await api.gql(BLOCK, { input: { slotId: slot.gid } }, { token: s.tokens.partner });
      expect(res.data.slotBlock).toEqual({
        slot: null,
        userErrors: [{ field: ['input', 'slotId'], code: 'SLOT_UNAVAILABLE', message: 'The slot is blocked, expected available to block it.' }],
      });
      expect(await snapshot(slot.id)).toEqual(before);
    });

    it('answers NOT_FOUND for an ID that is not a slot ID and changes nothing', async () => {
      const s = await scene();
      const before = await snapshot(s.partners[0].slots[0].id);
      for (const slotId of ['not-an-id', s.partners[0].gid, toGlobalId('Slot', '0')]) {
        const res = await api.gql(BLOCK, { input: { slotId } }, { token: s.tokens.staff });
        expect(res.data.slotBlock).toEqual({
          slot: null,
          userErrors: [{ field: ['input', 'slotId'], code: 'NOT_FOUND', message: `Expected the ID of a slot you may manage, got "${slotId}".` }],
        });
      }
      expect(await snapshot(s.partners[0].slots[0].id)).toEqual(before);
    });

    it('answers NOT_FOUND for a slot that does not exist', async () => {
      const s = await scene();
      const slotId = toGlobalId('Slot', '9000000000000000000');
      const res = await api.gql(BLOCK, { input: { slotId } }, { token: s.tokens.admin });
      expect(res.data.slotBlock).toMatchObject({ slot: null, userErrors: [{ field: ['input', 'slotId'], code: 'NOT_FOUND' }] });
      expect(await auditRows(api.db, '9000000000000000000', 'slot')).toEqual([]);
    });

    it("answers NOT_FOUND to staff of another business, exactly as for a missing slot, and changes nothing", async () => {
      const s = await scene();
      const slot = s.partners[0].slots[0];
      const before = await snapshot(slot.id);
      const res = await api.gql(BLOCK, { input: { slotId: slot.gid } }, { token: await otherStaffToken() });
      expect(res.data.slotBlock).toEqual({
        slot: null,
        userErrors: [{ field: ['input', 'slotId'], code: 'NOT_FOUND', message: `Expected the ID of a slot you may manage, got "${slot.gid}".` }],
      });
      expect(await snapshot(slot.id)).toEqual(before);
    });

    it("answers NOT_FOUND to a partner blocking another partner's slot and changes nothing", async () => {
      const s = await scene();
      const slot = s.partners[1].slots[0];
      const before = await snapshot(slot.id);
      const res = await api.gql(BLOCK, { input: { slotId: slot.gid } }, { token: s.tokens.partner });
      expect(res.data.slotBlock).toMatchObject({ slot: null, userErrors: [{ field: ['input', 'slotId'], code: 'NOT_FOUND' }] });
      expect(await snapshot(slot.id)).toEqual(before);
    });

    it('refuses an anonymous caller with UNAUTHENTICATED and changes nothing', async () => {
      const s = await scene();
      const slot = s.partners[0].slots[0];
      const before = await snapshot(slot.id);
      const res = await api.gql(BLOCK, { input: { slotId: slot.gid } });
      expect(res.data).toBeNull();
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
      expect(await snapshot(slot.id)).toEqual(before);
    });

    it('refuses a customer with FORBIDDEN and changes nothing', async () => {
      const s = await scene();
      const slot = s.partners[0].slots[0];
      const before = await snapshot(slot.id);
      const res = await api.gql(BLOCK, { input: { slotId: slot.gid } }, { token: s.tokens.customer });
      expect(res.data).toBeNull();
      expect(res.errors).toMatchObject([
        { message: 'Expected an admin, staff or partner token to block or unblock a slot, got a customer token.', extensions: { code: 'FORBIDDEN' } },
      ]);
      expect(await snapshot(slot.id)).toEqual(before);
    });

    it('lets exactly one of three simultaneous requests block a slot', async () => {
      const s = await scene();
      const slot = s.partners[0].slots[0];
      const results = await Promise.all(
        [s.tokens.staff, s.tokens.partner, s.tokens.admin].map((token) => api.gql(BLOCK, { input: { slotId: slot.gid } }, { token })),
      );
      const codes = results.map((r) => r.data.slotBlock.userErrors[0]?.code ?? 'OK').sort();
      expect(codes).toEqual(['OK', 'SLOT_UNAVAILABLE', 'SLOT_UNAVAILABLE']);
      expect(await auditRows(api.db, slot.id, 'slot')).toHaveLength(1);
    });
  });

  describe('slotUnblock', () => {
    it('makes a blocked slot available again for staff of its business and writes one audit row', async () => {
      const s = await scene();
      const slot = await blockedSlot(s);
      const res = await api.gql(UNBLOCK, { input: { slotId: slot.gid } }, { token: s.tokens.staff });
      expect(res.errors).toBeUndefined();
      expect(res.data.slotUnblock).toEqual({
        slot: { id: slot.gid, status: 'AVAILABLE', startsAt: slot.startsAt, endsAt: slot.endsAt, partner: { id: s.partners[0].gid } },
        userErrors: [],
      });
      expect((await snapshot(slot.id)).row).toMatchObject({ status: 'available', booking_id: null });
      expect(await auditRows(api.db, slot.id, 'slot')).toEqual([
        {
          businessId: s.business.id,
          entity: 'slot',
          action: 'slot.unblocked',
          actor: 'staff:staff-1',
          changes: { before: { status: 'BLOCKED' }, after: { status: 'AVAILABLE' } },
        },
      ]);
    });

    it('lets the partner unblock a slot they blocked, leaving one audit row per change', async () => {
      const s = await scene();
      const slot = s.partners[0].slots[0];
      const blocked = await api.gql(BLOCK, { input: { slotId: slot.gid } }, { token: s.tokens.partner });
      expect(blocked.data.slotBlock.userErrors).toEqual([]);
      const res = await api.gql(UNBLOCK, { input: { slotId: slot.gid } }, { token: s.tokens.partner });
      expect(res.data.slotUnblock).toMatchObject({ slot: { id: slot.gid, status: 'AVAILABLE' }, userErrors: [] });
      expect((await snapshot(slot.id)).row.status).toBe('available');
      expect((await auditRows(api.db, slot.id, 'slot')).map((a) => [a.action, a.actor])).toEqual([
        ['slot.blocked', 'partner:partner-1'],
        ['slot.unblocked', 'partner:partner-1'],
      ]);
    });

    it('refuses to unblock an available slot with INVALID_TRANSITION and changes nothing', async () => {
      const s = await scene();
      const slot = s.partners[0].slots[0];
      const before = await snapshot(slot.id);
      const res = await api.gql(UNBLOCK, { input: { slotId: slot.gid } }, { token: s.tokens.staff });
      expect(res.data.slotUnblock).toEqual({
        slot: null,
        userErrors: [{ field: ['input', 'slotId'], code: 'INVALID_TRANSITION', message: 'The slot is available, expected blocked to unblock it.' }],
      });
      expect(await snapshot(slot.id)).toEqual(before);
    });

    it('refuses to unblock a booked slot with INVALID_TRANSITION and changes nothing', async () => {
      const s = await scene();
      const slot = s.partners[0].slots[0];
      await createBooking(api.db, { business: s.business, service: s.service, partner: s.partners[0], customer: s.customer, slots: [slot], status: 'confirmed' });
      const before = await snapshot(slot.id);
      const res = await api.gql(UNBLOCK, { input: { slotId: slot.gid } }, { token: s.tokens.admin });
      expect(res.data.slotUnblock).toEqual({
        slot: null,
        userErrors: [{ field: ['input', 'slotId'], code: 'INVALID_TRANSITION', message: 'The slot is booked, expected blocked to unblock it.' }],
      });
      expect(await snapshot(slot.id)).toEqual(before);
    });

    it('answers NOT_FOUND for an ID that is not a slot ID', async () => {
      const s = await scene();
      const res = await api.gql(UNBLOCK, { input: { slotId: s.business.gid } }, { token: s.tokens.staff });
      expect(res.data.slotUnblock).toMatchObject({ slot: null, userErrors: [{ field: ['input', 'slotId'], code: 'NOT_FOUND' }] });
    });

    it('answers NOT_FOUND to staff of another business and changes nothing', async () => {
      const s = await scene();
      const slot = await blockedSlot(s);
      const before = await snapshot(slot.id);
      const res = await api.gql(UNBLOCK, { input: { slotId: slot.gid } }, { token: await otherStaffToken() });
      expect(res.data.slotUnblock).toMatchObject({ slot: null, userErrors: [{ field: ['input', 'slotId'], code: 'NOT_FOUND' }] });
      expect(await snapshot(slot.id)).toEqual(before);
    });

    it("answers NOT_FOUND to a partner unblocking another partner's slot and changes nothing", async () => {
      const s = await scene();
      const [slot] = await createSlots(api.db, s.business, s.partners[1], new Date(s.start.getTime() + 3 * 3600_000), 1, { status: 'blocked' });
      const before = await snapshot(slot.id);
      const res = await api.gql(UNBLOCK, { input: { slotId: slot.gid } }, { token: s.tokens.partner });
      expect(res.data.slotUnblock).toMatchObject({ slot: null, userErrors: [{ field: ['input', 'slotId'], code: 'NOT_FOUND' }] });
      expect(await snapshot(slot.id)).toEqual(before);
    });

    it('refuses an anonymous caller with UNAUTHENTICATED and a customer with FORBIDDEN, changing nothing', async () => {
      const s = await scene();
      const slot = await blockedSlot(s);
      const before = await snapshot(slot.id);
      const anonymous = await api.gql(UNBLOCK, { input: { slotId: slot.gid } });
      expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
      const customer = await api.gql(UNBLOCK, { input: { slotId: slot.gid } }, { token: s.tokens.customer });
      expect(customer.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      expect(await snapshot(slot.id)).toEqual(before);
    });
  });
});
