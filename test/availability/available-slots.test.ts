import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, todayIn } from '../../src/availability/available-starts.js';
import { toGlobalId } from '../../src/shared/global-id.js';
import { createBooking, createBusiness, createCustomer, createPartner, createService, createSlots, uniqueSuffix } from '../support/builders.js';
import { AVAILABLE_PARTNERS, AVAILABLE_SLOTS, startAvailabilityApi, startTimes, testCache, type AvailabilityApi } from './availability-support.js';

const MINUTE = 60_000;

/** Tomorrow 09:00 UTC (10:00 in Berlin, the same date) and that date. */
function tomorrowAtNine() {
  const start = new Date();
  start.setUTCDate(start.getUTCDate() + 1);
  start.setUTCHours(9, 0, 0, 0);
  return { start, date: start.toISOString().slice(0, 10) };
}

function at(start: Date, minutes: number): string {
  return new Date(start.getTime() + minutes * MINUTE).toISOString().replace('.000Z', 'Z');
}

describe('Query: availableSlots and availablePartners', () => {
  let api: AvailabilityApi;
  beforeAll(async () => {
    api = await startAvailabilityApi(await testCache('memory'));
  });
  afterAll(() => api.close());

  async function setBusiness(id: string, settings: { min_notice_minutes?: number; max_advance_days?: number }) {
    await api.db.updateTable('businesses').set(settings).where('id', '=', id).execute();
  }

  async function setBuffers(serviceId: string, before: number, after: number) {
    await api.db.updateTable('services').set({ buffer_before_minutes: before, buffer_after_minutes: after }).where('id', '=', serviceId).execute();
  }

  async function setSlotStatus(slotId: string, status: 'blocked' | 'available') {
    await api.db.updateTable('partner_slots').set({ status }).where('id', '=', slotId).execute();
  }

  it('offers each start where a partner has enough consecutive free slots, with the free partners least busy first', async () => {
    const { start, date } = tomorrowAtNine();
    const business = await createBusiness(api.db);
    const service = await createService(api.db, business, { durationMinutes: 60 });
    const a = await createPartner(api.db, business);
    const b = await createPartner(api.db, business);
    const aSlots = await createSlots(api.db, business, a, start, 4);
    await createSlots(api.db, business, b, start, 4);
    await setSlotStatus(aSlots[1].id, 'blocked');
    await api.db.updateTable('partners').set({ active_booking_count: 2 }).where('id', '=', b.id).execute();

    const res = await api.gql(AVAILABLE_SLOTS, { businessId: business.gid, serviceId: service.gid, date });
    expect(res.errors).toBeUndefined();
    expect(res.data.availableSlots).toEqual([
      { startsAt: at(start, 0), endsAt: at(start, 60), partners: [{ id: b.gid }] },
      { startsAt: at(start, 30), endsAt: at(start, 90), partners: [{ id: b.gid }] },
      { startsAt: at(start, 60), endsAt: at(start, 120), partners: [{ id: a.gid }, { id: b.gid }] },
    ]);

    const onlyA = await api.gql(AVAILABLE_SLOTS, { businessId: business.gid, serviceId: service.gid, date, partnerId: a.gid });
    expect(startTimes(onlyA)).toEqual([at(start, 60)]);
  });

  it("keeps a service's buffers clear of booked slots, and counts time outside the partner's slots as free", async () => {
    const { start, date } = tomorrowAtNine();
    const business = await createBusiness(api.db);
    const plain = await createService(api.db, business, { durationMinutes: 30 });
    const buffered = await createService(api.db, business, { durationMinutes: 30 });
    await setBuffers(buffered.id, 30, 30);
    const partner = await createPartner(api.db, business);
    const customer = await createCustomer(api.db, business);
    const slots = await createSlots(api.db, business, partner, start, 4);
    await createBooking(api.db, { business, service: plain, partner, customer, slots: [slots[2]] });

    const withoutBuffers = await api.gql(AVAILABLE_SLOTS, { businessId: business.gid, serviceId: plain.gid, date });
    expect(startTimes(withoutBuffers)).toEqual([at(start, 0), at(start, 30), at(start, 90)]);
    // 09:00 has 08:30-09:00 before it, where the partner has no slot at all: free.
    // 09:30 would end at 10:00, where the booking starts; 10:30 would start right after it.
    const withBuffers = await api.gql(AVAILABLE_SLOTS, { businessId: business.gid, serviceId: buffered.gid, date });
    expect(startTimes(withBuffers)).toEqual([at(start, 0)]);
  });

  it('offers no start sooner than the minimum notice, and no date beyond the maximum advance', async () => {
    const { start, date } = tomorrowAtNine();
    const business = await createBusiness(api.db);
    const service = await createService(api.db, business, { durationMinutes: 30 });
    const partner = await createPartner(api.db, business);
    await createSlots(api.db, business, partner, start, 3);
    // The earliest allowed start falls between 09:28 and 09:30 tomorrow.
    await setBusiness(business.id, { min_notice_minutes: Math.floor((start.getTime() + 30 * MINUTE - Date.now()) / MINUTE) - 1 });
    expect(startTimes(await api.gql(AVAILABLE_SLOTS, { businessId: business.gid, serviceId: service.gid, date }))).toEqual([at(start, 30), at(start, 60)]);

    const farDate = addDays(todayIn('Europe/Berlin'), 3);
    const far = new Date(`${farDate}T09:00:00Z`);
    const near = await createBusiness(api.db);
    const nearService = await createService(api.db, near, { durationMinutes: 30 });
    const nearPartner = await createPartner(api.db, near);
    await createSlots(api.db, near, nearPartner, far, 1);
    await setBusiness(near.id, { max_advance_days: 3 });
    expect(startTimes(await api.gql(AVAILABLE_SLOTS, { businessId: near.gid, serviceId: nearService.gid, date: farDate }))).toEqual([at(far, 0)]);
    const nearer = await createBusiness(api.db);
    const nearerService = await createService(api.db, nearer, { durationMinutes: 30 });
    const nearerPartner = await createPartner(api.db, nearer);
    await createSlots(api.db, nearer, nearerPartner, far, 1);
    await setBusiness(nearer.id, { max_advance_days: 2 });
    expect(startTimes(await api.gql(AVAILABLE_SLOTS, { businessId: nearer.gid, serviceId: nearerService.gid, date: farDate }))).toEqual([]);
  });

  it('reads a local date in the business time zone, 23 hours on the spring DST change and 25 in the autumn', async () => {
    const business = await createBusiness(api.db, { timeZone: 'Europe/Berlin' });
    await setBusiness(business.id, { max_advance_days: 730 });
    const service = await createService(api.db, business, { durationMinutes: 30 });
    const partner = await createPartner(api.db, business);
    await createSlots(api.db, business, partner, new Date('2027-03-27T22:00:00Z'), 52);
    await createSlots(api.db, business, partner, new Date('2027-10-30T21:00:00Z'), 54);

    const spring = startTimes(await api.gql(AVAILABLE_SLOTS, { businessId: business.gid, serviceId: service.gid, date: '2027-03-28' }));
    expect(spring).toHaveLength(46);
    expect([spring[0], spring[45]]).toEqual(['2027-03-27T23:00:00Z', '2027-03-28T21:30:00Z']);
    const autumn = startTimes(await api.gql(AVAILABLE_SLOTS, { businessId: business.gid, serviceId: service.gid, date: '2027-10-31' }));
    expect(autumn).toHaveLength(50);
    expect([autumn[0], autumn[49]]).toEqual(['2027-10-30T22:00:00Z', '2027-10-31T22:30:00Z']);
  });

  it("answers an empty list for another business's service, an inactive service or partner, exactly as for a missing one", async () => {
    const { start, date } = tomorrowAtNine();
    const business = await createBusiness(api.db);
    const other = await createBusiness(api.db);
    const service = await createService(api.db, business);
    const inactiveService = await createService(api.db, business, { isActive: false });
    const otherService = await createService(api.db, other);
    const partner = await createPartner(api.db, business);
    const inactive = await createPartner(api.db, business, { isActive: false });
    await createSlots(api.db, business, partner, start, 1);
    await createSlots(api.db, business, inactive, start, 1);

    const ask = (serviceId: string, partnerId?: string) => api.gql(AVAILABLE_SLOTS, { businessId: business.gid, serviceId, date, partnerId });
    expect((await ask(service.gid)).data.availableSlots).toEqual([{ startsAt: at(start, 0), endsAt: at(start, 30), partners: [{ id: partner.gid }] }]);
    expect(startTimes(await ask(otherService.gid))).toEqual([]);
    expect(startTimes(await ask(inactiveService.gid))).toEqual([]);
    expect(startTimes(await ask(toGlobalId('Service', '9000000000000000000')))).toEqual([]);
    expect(startTimes(await ask(service.gid, inactive.gid))).toEqual([]);
  });

  it('refuses an argument that is not an ID of the expected type with BAD_USER_INPUT', async () => {
    const business = await createBusiness(api.db);
    const service = await createService(api.db, business);
    const res = await api.gql(AVAILABLE_SLOTS, { businessId: service.gid, serviceId: service.gid, date: '2026-12-01' });
    expect(res.errors).toMatchObject([
      { message: `Expected \`businessId\` to be the ID of a business, got "${service.gid}".`, extensions: { code: 'BAD_USER_INPUT' } },
    ]);
  });

  it('lists the active partners of a city with a free slot that day, least busy first, optionally of one business', async () => {
    const { start, date } = tomorrowAtNine();
    const city = `City ${uniqueSuffix()}`;
    const first = await createBusiness(api.db, { city });
    const second = await createBusiness(api.db, { city });
    const busy = await createPartner(api.db, first, { city });
    const idle = await createPartner(api.db, second, { city });
    const fullyBlocked = await createPartner(api.db, first, { city });
    const inactive = await createPartner(api.db, first, { city, isActive: false });
    const elsewhere = await createPartner(api.db, first, { city: `Elsewhere ${uniqueSuffix()}` });
    const noSlots = await createPartner(api.db, first, { city });
    for (const partner of [busy, inactive, elsewhere]) await createSlots(api.db, first, partner, start, 2);
    await createSlots(api.db, second, idle, start, 2);
    await createSlots(api.db, first, fullyBlocked, start, 2, { status: 'blocked' });
    await sql`UPDATE partners SET active_booking_count = 3 WHERE id = ${busy.id}::bigint`.execute(api.db);
    void noSlots;

    const all = await api.gql(AVAILABLE_PARTNERS, { city, date });
    expect(all.errors).toBeUndefined();
    expect(all.data.availablePartners.map((p: { id: string }) => p.id)).toEqual([idle.gid, busy.gid]);
    const ofFirst = await api.gql(AVAILABLE_PARTNERS, { city, date, businessId: first.gid });
    expect(ofFirst.data.availablePartners.map((p: { id: string }) => p.id)).toEqual([busy.gid]);
    const dayAfter = await api.gql(AVAILABLE_PARTNERS, { city, date: at(start, 1440).slice(0, 10) });
    expect(dayAfter.data.availablePartners).toEqual([]);
  });

  it('bounds the partners of each start and of a city to `first`, least busy first, and counts them all', async () => {
    const { start, date } = tomorrowAtNine();
    const city = `Crowded ${uniqueSuffix()}`;
    const business = await createBusiness(api.db, { city });
    const service = await createService(api.db, business, { durationMinutes: 30 });
    const partners = [];
    for (let i = 0; i < 23; i++) {
      const partner = await createPartner(api.db, business, { city });
      await createSlots(api.db, business, partner, start, 1);
      // Busiest first in creation order: the answer must come back reversed.
      await sql`UPDATE partners SET active_booking_count = ${23 - i} WHERE id = ${partner.id}::bigint`.execute(api.db);
      partners.push(partner);
    }
    const leastBusyFirst = partners.map((p) => p.gid).reverse();
    const STARTS = `query($b: ID!, $s: ID!, $d: Date!, $first: Int) { availableSlots(businessId: $b, serviceId: $s, date: $d) { partnerCount all: partners { id } some: partners(first: $first) { id } } }`;
    const res = await api.gql(STARTS, { b: business.gid, s: service.gid, d: date, first: 3 });
    expect(res.errors).toBeUndefined();
    expect(res.data.availableSlots).toEqual([{ partnerCount: 23, all: leastBusyFirst.slice(0, 20).map((id) => ({ id })), some: leastBusyFirst.slice(0, 3).map((id) => ({ id })) }]);

    const CITY = `query($c: String!, $d: Date!, $first: Int) { availablePartners(city: $c, date: $d, first: $first) { id } }`;
    const two = await api.gql(CITY, { c: city, d: date, first: 2 });
    expect(two.data.availablePartners.map((p: { id: string }) => p.id)).toEqual(leastBusyFirst.slice(0, 2));
    const byDefault = await api.gql(CITY, { c: city, d: date });
    expect(byDefault.data.availablePartners).toHaveLength(23);

    const ONE_LIST = `query($b: ID!, $s: ID!, $d: Date!, $first: Int) { availableSlots(businessId: $b, serviceId: $s, date: $d) { partners(first: $first) { id } } }`;
    const tooMany = await api.gql(ONE_LIST, { b: business.gid, s: service.gid, d: date, first: 101 });
    expect(tooMany.errors).toEqual([expect.objectContaining({ message: 'Expected `first` between 1 and 100, got 101.', extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
    const none = await api.gql(CITY, { c: city, d: date, first: 0 });
    expect(none.errors).toEqual([expect.objectContaining({ message: 'Expected `first` between 1 and 200, got 0.', extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
  });
});
