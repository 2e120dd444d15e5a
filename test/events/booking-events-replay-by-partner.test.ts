import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutateOk, startTestApi, type TestApi } from '../support/api.js';
import { bookedScene } from '../support/scenes.js';

const CREATE = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { code } } }`;
const RESCHEDULE = `mutation($input: BookingRescheduleInput!) { bookingReschedule(input: $input) { booking { id } userErrors { code message } } }`;
const SINCE = `query($businessId: ID!, $after: String, $partnerId: ID, $first: Int) {
  bookingEventsSince(businessId: $businessId, after: $after, partnerId: $partnerId, first: $first) {
    events { cursor type booking { id } } endCursor hasMore
  }
}`;

// The partner filter reads two indexes, one per element of partner_ids (the booking's partner,
// then the previous one after a move), and merges them: these pin the merge's order and paging.
describe('bookingEventsSince(partnerId) (replay by partner)', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ isolated: true });
  });
  afterAll(() => api.close());

  it('gives a partner the events of their bookings and of a booking moved away from them, in cursor order, page by page', async () => {
    const s = await bookedScene(api);
    const [p0, p1] = s.partners;
    const since = async (variables: Record<string, unknown>) => {
      const res = await api.gql(SINCE, { businessId: s.business.gid, ...variables }, { token: s.tokens.staff });
      expect(res.errors).toBeUndefined();
      return res.data.bookingEventsSince;
    };
    await api.app.relay.kick();
    const start = (await since({})).endCursor;

    const a = await mutateOk(api, CREATE, { customerId: s.customer.gid, slotIds: p1.slots.slice(0, 2).map((x) => x.gid) }, s.tokens.staff);
    await mutateOk(api, RESCHEDULE, { bookingId: s.booking.gid, startsAt: p1.slots[4].startsAt, partnerId: p1.gid }, s.tokens.staff);
    const b = await mutateOk(api, CREATE, { customerId: s.customer.gid, slotIds: p0.slots.slice(4, 6).map((x) => x.gid) }, s.tokens.staff);
    await api.app.relay.kick();

    const all = (await since({ after: start })).events;
    expect(all.map((e: any) => [e.type, e.booking.id])).toEqual([
      ['BOOKING_CREATED', a.booking.id],
      ['BOOKING_RESCHEDULED', s.booking.gid],
      ['BOOKING_CREATED', b.booking.id],
    ]);
    const [createdA, moved, createdB] = all;

    // The move is the previous partner's event as well as the new one's.
    expect(await since({ after: start, partnerId: p0.gid })).toEqual({ events: [moved, createdB], endCursor: createdB.cursor, hasMore: false });
    expect(await since({ after: start, partnerId: p1.gid })).toEqual({ events: [createdA, moved], endCursor: moved.cursor, hasMore: false });

    // One at a time, crossing from one index's row to the other's.
    const first = await since({ after: start, partnerId: p0.gid, first: 1 });
    expect(first).toEqual({ events: [moved], endCursor: moved.cursor, hasMore: true });
    const second = await since({ after: first.endCursor, partnerId: p0.gid, first: 1 });
    expect(second).toEqual({ events: [createdB], endCursor: createdB.cursor, hasMore: false });
  });
});
