import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { createBookableBusiness } from '../support/builders.js';

const CREATE = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id status startsAt endsAt partner { id activeBookingCount } slots { id status } } userErrors { field message code } } }`;

describe('bookingCreate: the basic flow', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  it('books a 90-minute service on three consecutive slots, then refuses the same time again', async () => {
    const { business, service, customer, partners } = await createBookableBusiness(api.db, { durationMinutes: 90 });
    const tokens = await tokensFor(api, { businessGid: business.gid, customerGid: customer.gid });
    const input = { serviceId: service.gid, startsAt: partners[0].slots[2].startsAt, partnerId: partners[0].gid };
    const first = await api.gql(CREATE, { input }, { token: tokens.customer });
    expect(first.errors).toBeUndefined();
    expect(first.data.bookingCreate.userErrors).toEqual([]);
    expect(first.data.bookingCreate.booking.slots.map((s: any) => s.id)).toEqual(partners[0].slots.slice(2, 5).map((s) => s.gid));
    expect(first.data.bookingCreate.booking.partner.activeBookingCount).toBe(1);
    const again = await api.gql(CREATE, { input }, { token: tokens.customer });
    expect(again.data.bookingCreate).toEqual({ booking: null, userErrors: [{ field: ['input', 'startsAt'], message: expect.any(String), code: 'SLOT_UNAVAILABLE' }] });
  });
});
