import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { bookedScene } from '../support/scenes.js';
import { createBookableBusiness, createSlots } from '../support/builders.js';

const CREATE = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id startsAt } userErrors { field code message } } }`;
const RESCHEDULE = `mutation($input: BookingRescheduleInput!) { bookingReschedule(input: $input) { booking { id startsAt } userErrors { field code message } } }`;

describe("Booking window: bookings respect the business's minimum notice and maximum advance", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  async function scene(settings: { minNoticeMinutes: number; maxAdvanceDays: number }) {
    const built = await createBookableBusiness(api.db);
    await sql`UPDATE businesses SET min_notice_minutes = ${settings.minNoticeMinutes}, max_advance_days = ${settings.maxAdvanceDays} WHERE id = ${built.business.id}::bigint`.execute(api.db);
    const tokens = await tokensFor(api, { businessGid: built.business.gid, customerGid: built.customer.gid });
    return { ...built, tokens };
  }

  it('refuses a start closer than the minimum notice with IN_THE_PAST, and books one just beyond it', async () => {
    const s = await scene({ minNoticeMinutes: 180, maxAdvanceDays: 60 });
    const soon = new Date(Math.ceil((Date.now() + 90 * 60_000) / 1_800_000) * 1_800_000);
    const later = new Date(soon.getTime() + 3 * 3600_000);
    const [soonSlot] = await createSlots(api.db, s.business, s.partners[0], soon, 1);
    const [laterSlot] = await createSlots(api.db, s.business, s.partners[0], later, 1);
    const refused = await api.gql(CREATE, { input: { slotIds: [soonSlot.gid] } }, { token: s.tokens.customer });
    expect(refused.data.bookingCreate.userErrors).toEqual([{ field: ['input', 'slotIds'], code: 'IN_THE_PAST', message: expect.stringContaining('at least 180 minutes ahead') }]);
    const booked = await api.gql(CREATE, { input: { slotIds: [laterSlot.gid] } }, { token: s.tokens.customer });
    expect(booked.data.bookingCreate.userErrors).toEqual([]);
  });

  it('refuses a start on a local date beyond the maximum advance with TOO_FAR_AHEAD', async () => {
    const s = await scene({ minNoticeMinutes: 0, maxAdvanceDays: 3 });
    const far = new Date(Date.now() + 10 * 86_400_000);
    far.setUTCHours(12, 0, 0, 0);
    const [farSlot] = await createSlots(api.db, s.business, s.partners[0], far, 1);
    const refused = await api.gql(CREATE, { input: { serviceId: s.service.gid, startsAt: farSlot.startsAt, partnerId: s.partners[0].gid } }, { token: s.tokens.customer });
    expect(refused.data.bookingCreate.userErrors).toEqual([{ field: ['input', 'startsAt'], code: 'TOO_FAR_AHEAD', message: expect.stringContaining('at most 3 days ahead') }]);
  });

  it('applies the same window to a reschedule, and leaves the booking where it was', async () => {
    const s = await bookedScene(api);
    await sql`UPDATE businesses SET max_advance_days = 2 WHERE id = ${s.business.id}::bigint`.execute(api.db);
    const far = new Date(Date.now() + 9 * 86_400_000);
    far.setUTCHours(12, 0, 0, 0);
    await createSlots(api.db, s.business, s.partner, far, 2);
    const res = await api.gql(RESCHEDULE, { input: { bookingId: s.booking.gid, startsAt: far.toISOString() } }, { token: s.tokens.staff });
    expect(res.data.bookingReschedule.userErrors.map((e: { code: string }) => e.code)).toEqual(['TOO_FAR_AHEAD']);
    const row = await api.db.selectFrom('bookings').select('starts_at').where('id', '=', s.booking.id).executeTakeFirstOrThrow();
    expect(row.starts_at).toBe(s.slots[0].startsAt);
  });
});

describe("Service buffers: a booking leaves the margins its service needs around it", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  /** A 30-minute service needing 30 minutes free after it; slots from tomorrow 09:00 UTC; a booking (of another service) at 10:00-10:30. */
  async function scene() {
    const built = await createBookableBusiness(api.db);
    await sql`UPDATE services SET buffer_after_minutes = 30 WHERE id = ${built.service.id}::bigint`.execute(api.db);
    const [partner] = built.partners;
    await api.db.updateTable('partner_slots').set({ status: 'blocked' }).where('id', '=', partner.slots[2].id).execute();
    const tokens = await tokensFor(api, { businessGid: built.business.gid, customerGid: built.customer.gid });
    return { ...built, partner, tokens };
  }

  it('refuses a start whose buffer after runs into a taken slot, and books one with the margin free', async () => {
    const s = await scene();
    const backToBack = await api.gql(CREATE, { input: { serviceId: s.service.gid, startsAt: s.partner.slots[1].startsAt, partnerId: s.partner.gid } }, { token: s.tokens.customer });
    expect(backToBack.data.bookingCreate.userErrors.map((e: { code: string }) => e.code)).toEqual(['SLOT_UNAVAILABLE']);
    const withMargin = await api.gql(CREATE, { input: { serviceId: s.service.gid, startsAt: s.partner.slots[0].startsAt, partnerId: s.partner.gid } }, { token: s.tokens.customer });
    expect(withMargin.data.bookingCreate.userErrors).toEqual([]);
  });

  it('assigns another partner when the least busy one has no margin', async () => {
    const built = await createBookableBusiness(api.db, { partners: 2 });
    await sql`UPDATE services SET buffer_after_minutes = 30 WHERE id = ${built.service.id}::bigint`.execute(api.db);
    const [first, second] = [...built.partners].sort((a, b) => Number(a.id) - Number(b.id));
    await api.db.updateTable('partner_slots').set({ status: 'blocked' }).where('id', '=', first.slots[2].id).execute();
    const tokens = await tokensFor(api, { businessGid: built.business.gid, customerGid: built.customer.gid });
    const res = await api.gql(`mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { partner { id } } userErrors { code } } }`, { input: { serviceId: built.service.gid, startsAt: first.slots[1].startsAt } }, { token: tokens.customer });
    expect(res.data.bookingCreate).toEqual({ booking: { partner: { id: second.gid } }, userErrors: [] });
  });

  it('refuses a reschedule into a start without its margin, and leaves the booking where it was', async () => {
    const s = await bookedScene(api);
    await sql`UPDATE services SET buffer_before_minutes = 30 WHERE id = ${s.service.id}::bigint`.execute(api.db);
    await api.db.updateTable('partner_slots').set({ status: 'blocked' }).where('id', '=', s.partner.slots[5].id).execute();
    const res = await api.gql(RESCHEDULE, { input: { bookingId: s.booking.gid, startsAt: s.partner.slots[6].startsAt } }, { token: s.tokens.staff });
    expect(res.data.bookingReschedule.userErrors.map((e: { code: string }) => e.code)).toEqual(['SLOT_UNAVAILABLE']);
    const moved = await api.gql(RESCHEDULE, { input: { bookingId: s.booking.gid, startsAt: s.partner.slots[3].startsAt } }, { token: s.tokens.staff });
    expect(moved.data.bookingReschedule.userErrors).toEqual([]);
  });
});
