import type { BookingStatusColumn } from '../../src/db/tables.js';
import { tokensFor, type TestApi } from './api.js';
import { createBookableBusiness, createBooking } from './builders.js';

/**
 * A salon with a 60-minute service, two partners with 8 slots of 30 minutes from tomorrow 09:00 UTC
 * (slots[2] starts at 10:00), and one booking of the customer with partners[0] from 10:00 to 11:00 in
 * `status`; tokens for the roles (the partner and the customer are the booking's).
 */
export async function bookedScene(api: TestApi, status: BookingStatusColumn = 'pending') {
  const built = await createBookableBusiness(api.db, { partners: 2, durationMinutes: 60 });
  const partner = built.partners[0];
  const slots = partner.slots.slice(2, 4);
  const booking = await createBooking(api.db, { business: built.business, service: built.service, partner, customer: built.customer, slots, status });
  const tokens = await tokensFor(api, { businessGid: built.business.gid, partnerGid: partner.gid, customerGid: built.customer.gid });
  return { ...built, partner, slots, booking, tokens };
}
