import type { TestApi } from '../support/api.js';
import { tokensFor } from '../support/api.js';
import { addMembership, createAccount } from '../support/accounts.js';
import {
  createBooking,
  createBusiness,
  createCustomers,
  createPartner,
  createService,
  createSlots,
  type BuiltBooking,
  type BuiltBusiness,
  type BuiltCustomer,
  type BuiltPartner,
  type BuiltService,
} from '../support/builders.js';

export interface ReviewedBooking extends BuiltBooking {
  customer: BuiltCustomer;
  partner: BuiltPartner;
  service: BuiltService;
  /** The token of the booking's customer. */
  token: string;
}

/**
 * A business with `partners` partners and `services` services and `bookings` completed bookings,
 * each of its own customer, spread round-robin over the partners and services (on slots in the
 * past), plus one confirmed booking; tokens for each customer, staff, an owner account and admin.
 */
export async function reviewScene(api: TestApi, options: { bookings?: number; partners?: number; services?: number; city?: string } = {}) {
  const count = options.bookings ?? 3;
  const business = await createBusiness(api.db, options.city ? { city: options.city } : {});
  const partners: BuiltPartner[] = [];
  for (let i = 0; i < (options.partners ?? 1); i++) partners.push(await createPartner(api.db, business));
  const services: BuiltService[] = [];
  for (let i = 0; i < (options.services ?? 1); i++) services.push(await createService(api.db, business));
  const customers = await createCustomers(api.db, business, count + 1);
  const start = new Date(Date.now() - 10 * 86_400_000);
  start.setUTCHours(6, 0, 0, 0);
  const slotsByPartner = await Promise.all(partners.map((p) => createSlots(api.db, business, p, start, count + 1)));
  const customerToken = (customer: BuiltCustomer) =>
    api.token({ sub: `customer-${customer.id}`, role: 'customer', business_id: business.gid, customer_id: customer.gid });
  const bookings: ReviewedBooking[] = [];
  for (let i = 0; i < count; i++) {
    const partner = partners[i % partners.length];
    const service = services[i % services.length];
    const slots = [slotsByPartner[i % partners.length][Math.floor(i / partners.length)]];
    const built = await createBooking(api.db, { business, service, partner, customer: customers[i], slots, status: 'completed' });
    bookings.push({ ...built, customer: customers[i], partner, service, token: await customerToken(customers[i]) });
  }
  const lastSlot = slotsByPartner[0][slotsByPartner[0].length - 1];
  const confirmedCustomer = customers[count];
  const confirmed = await createBooking(api.db, { business, service: services[0], partner: partners[0], customer: confirmedCustomer, slots: [lastSlot], status: 'confirmed' });
  const tokens = await tokensFor(api, { businessGid: business.gid, partnerGid: partners[0].gid });
  const owner = await createAccount(api);
  await addMembership(api.db, owner, business, 'owner');
  return {
    business,
    partners,
    services,
    bookings,
    confirmed: { ...confirmed, token: await customerToken(confirmedCustomer) },
    tokens: { ...tokens, owner: owner.token, ownerActor: `account:${owner.id}` },
  };
}

export type ReviewScene = Awaited<ReturnType<typeof reviewScene>>;

export const REVIEW_CREATE = `mutation($input: ReviewCreateInput!) {
  reviewCreate(input: $input) { review { id rating text reply hiddenAt business { id } partner { id } service { id } booking { id } } userErrors { field message code } }
}`;
export const REVIEW_REPLY = `mutation($input: ReviewReplyInput!) { reviewReply(input: $input) { review { id reply repliedAt } userErrors { field message code } } }`;
export const REVIEW_HIDE = `mutation($input: ReviewHideInput!) { reviewHide(input: $input) { review { id hiddenAt hideReason } userErrors { field message code } } }`;
export const REVIEW_UNHIDE = `mutation($input: ReviewUnhideInput!) { reviewUnhide(input: $input) { review { id hiddenAt hideReason } userErrors { field message code } } }`;

export const RATING = 'rating { average count distribution }';

export function businessRatings(business: BuiltBusiness) {
  return `{ business(slug: "${business.slug}") { ${RATING} partners { nodes { id ${RATING} } } services { nodes { id ${RATING} } } } }`;
}
