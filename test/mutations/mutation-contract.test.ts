import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { auditRows, createBookableBusiness, createBooking, createBusiness, createCustomer, createPartner } from '../support/builders.js';

/**
 * What every mutation gets from src/shared/mutation.ts, shown on the mutations that did not have it
 * before: idempotency on the schedule mutations, and the refusal decided before any statement.
 */
describe('The mutation contract', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  const SCHEDULE_SET = `mutation($input: PartnerScheduleSetInput!) { partnerScheduleSet(input: $input) { partner { id } userErrors { field message code } } }`;
  const GENERATE = `mutation($input: SlotsGenerateInput!) { slotsGenerate(input: $input) { partner { id } slotsCreated userErrors { field message code } } }`;
  const RESCHEDULE = `mutation($input: BookingRescheduleInput!) { bookingReschedule(input: $input) { booking { id } userErrors { code } } }`;

  it('answers a retried slotsGenerate with the same Idempotency-Key with the first result, creating and auditing nothing again', async () => {
    const business = await createBusiness(api.db, { timeZone: 'Europe/Berlin' });
    const partner = await createPartner(api.db, business);
    const customer = await createCustomer(api.db, business);
    const tokens = await tokensFor(api, { businessGid: business.gid, partnerGid: partner.gid, customerGid: customer.gid });
    const weeklyHours = [{ dayOfWeek: 'MONDAY', startTime: '09:00', endTime: '10:00' }];
    const [scheduleKey, generateKey] = [randomUUID(), randomUUID()];
    const set = await api.gql(SCHEDULE_SET, { input: { partnerId: partner.gid, effectiveFrom: '2031-01-01', weeklyHours } }, { token: tokens.staff, headers: { 'idempotency-key': scheduleKey } });
    expect(set.data.partnerScheduleSet.userErrors).toEqual([]);
    const setAgain = await api.gql(SCHEDULE_SET, { input: { partnerId: partner.gid, effectiveFrom: '2031-01-01', weeklyHours } }, { token: tokens.staff, headers: { 'idempotency-key': scheduleKey } });
    expect(setAgain.data).toEqual(set.data);

    const input = { partnerId: partner.gid, from: '2031-03-03', to: '2031-03-03' }; // a Monday
    const ask = () => api.gql(GENERATE, { input }, { token: tokens.staff, headers: { 'idempotency-key': generateKey } });
    const first = await ask();
    expect(first.data.slotsGenerate).toEqual({ partner: { id: partner.gid }, slotsCreated: 2, userErrors: [] });
    // A second run would find the slots there and create none; the replay tells what the first did.
    expect((await ask()).data.slotsGenerate).toEqual(first.data.slotsGenerate);
    expect((await auditRows(api.db, partner.id, 'partner')).map((row) => row.action)).toEqual(['partner.schedule_changed', 'slots.generated']);

    const reused = await api.gql(GENERATE, { input: { ...input, to: '2031-03-10' } }, { token: tokens.staff, headers: { 'idempotency-key': generateKey } });
    expect(reused.errors?.map((e) => e.extensions?.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
  });

  it('refuses a partner moving their booking to another partner with FORBIDDEN before any statement', async () => {
    const built = await createBookableBusiness(api.db, { partners: 2, slotCount: 4 });
    const [own, other] = built.partners;
    const booking = await createBooking(api.db, { business: built.business, service: built.service, partner: own, customer: built.customer, slots: own.slots.slice(0, 1) });
    const tokens = await tokensFor(api, { businessGid: built.business.gid, partnerGid: own.gid, customerGid: built.customer.gid });
    const { result, statements } = await api.countStatements(() =>
      api.gql(RESCHEDULE, { input: { bookingId: booking.gid, startsAt: other.slots[2].startsAt, partnerId: other.gid } }, { token: tokens.partner }),
    );
    expect(result.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['FORBIDDEN', "Expected a partner to move their bookings in time only, got another partner's ID."]]);
    expect(statements).toBe(0);
  });

  it('names who may call a mutation in its refusal, before any statement', async () => {
    const built = await createBookableBusiness(api.db, { partners: 1, slotCount: 2 });
    const tokens = await tokensFor(api, { businessGid: built.business.gid, partnerGid: built.partners[0].gid, customerGid: built.customer.gid });
    const CREATE = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { code } } }`;
    const { result, statements } = await api.countStatements(() =>
      api.gql(CREATE, { input: { serviceId: built.service.gid, startsAt: built.partners[0].slots[0].startsAt } }, { token: tokens.partner }),
    );
    expect(result.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['FORBIDDEN', 'Expected an account, customer, staff or admin token to create a booking, got a partner token.']]);
    expect(statements).toBe(0);
    const anonymous = await api.gql(CREATE, { input: { serviceId: built.service.gid, startsAt: built.partners[0].slots[0].startsAt } });
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });
});
