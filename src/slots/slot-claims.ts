import { freeTextInput, MAX_CITY_LENGTH } from '../shared/free-text.js';
import { lockAccountById } from '../accounts/accounts.repository.js';
import { customerIdIn, isStaffOf } from '../auth/access.js';
import type { CustomerGrant, Viewer } from '../auth/viewer.js';
import { todayIn, withinAdvance } from '../availability/available-starts.js';
import { findBusinessesByIds } from '../businesses/businesses.repository.js';
import { findCustomersByIds } from '../customers/customers.repository.js';
import type { CustomerModel } from '../customers/customer.model.js';
import { findCustomerByEmail, upsertAccountCustomer } from '../customers/customer-accounts.repository.js';
import type { Effects } from '../shared/mutation.js';
import { findPartnersByIds } from '../partners/partners.repository.js';
import { findPartnerForService } from '../partners/partners.repository.js';
import type { PartnerModel } from '../partners/partner.model.js';
import { findActiveServicesByDuration, findServicesByIds } from '../services/services.repository.js';
import type { ServiceModel } from '../services/service.model.js';
import { rawIdOf, type NodeType } from '../shared/global-id.js';
import type { Trx } from '../shared/transaction.js';
import { abort } from '../shared/user-errors.js';
import { coversRange, findFreePartnerIds, hasTakenSlotsInBuffers, lockFreeSlotsInRange, type ClaimableSlot } from './slot-claims.repository.js';
import { findSlotsByIds } from './slots.repository.js';

/**
 * Claiming time: the rules a booking and a hold share. From `slotIds`, or from a service and a start
 * time with the partner given or the least busy free one, within the business's booking window, on
 * slots locked by the caller's transaction. Every check aborts with the user error for its field.
 */

/** How many free partners a claim tries, least busy first, when none is named. */
const PARTNER_CANDIDATES = 10;

/** What a booking or a hold asks for; every field is optional, the combinations are checked here. */
export interface SlotClaimInput {
  serviceId?: string | null;
  startsAt?: string | null;
  partnerId?: string | null;
  city?: string | null;
  slotIds?: readonly string[] | null;
  customerId?: string | null;
}

/** The time a booking (or a hold) takes: the customer's, for a service, on locked slots of one partner. */
export interface SlotClaim {
  customer: CustomerModel;
  service: ServiceModel;
  partnerId: string;
  startsAt: string;
  endsAt: string;
  /** The slots covering [startsAt, endsAt), locked by the caller's transaction. */
  slots: ClaimableSlot[];
  /** The hold the slots come from, if any. */
  holdId?: string;
  /** The effects of registering the caller as the business's customer, if this claim did. */
  registration: Effects;
}

interface Plan {
  service: ServiceModel;
  startsAt: string;
  endsAt: string;
  /** The partner asked for, or null to assign the least busy free one. */
  partner: PartnerModel | null;
  city: string | null;
}

/** The raw id of an input field that must name a `type`; anything else reads NOT_FOUND on that field. */
export function rawIdOrAbort(globalId: string | null | undefined, type: NodeType, field: string): string {
  const id = globalId ? rawIdOf(globalId, type) : null;
  if (!id) abort('NOT_FOUND', `No ${type.toLowerCase()} with ID "${globalId}".`, ['input', field]);
  return id;
}

export function addMinutes(instant: string, minutes: number): string {
  return new Date(Date.parse(instant) + minutes * 60_000).toISOString();
}

/** Plans the claim and locks its slots; aborts with the user error when the input names no bookable free time. */
export async function claimSlots(trx: Trx, viewer: Viewer, input: SlotClaimInput): Promise<SlotClaim> {
  const { customer, registration } = await loadCustomer(trx, viewer, input);
  return { customer, registration, ...(await claimTimeIn(trx, customer.businessId, input)) };
}

/** The time a claim asks for in the business, planned and locked: claimSlots without a customer (a guest's hold has none yet). */
export async function claimTimeIn(trx: Trx, businessId: string, input: SlotClaimInput): Promise<Omit<SlotClaim, 'customer' | 'registration'>> {
  const plan = input.slotIds?.length ? await planFromSlots(trx, businessId, input) : await planFromTime(trx, businessId, input);
  await checkBookingWindow(trx, businessId, plan.startsAt, input.slotIds?.length ? ['input', 'slotIds'] : ['input', 'startsAt']);

  const candidates = plan.partner
    ? [plan.partner.id]
    : await findFreePartnerIds(trx, { businessId, serviceId: plan.service.id, city: plan.city, startsAt: plan.startsAt, endsAt: plan.endsAt, limit: PARTNER_CANDIDATES });
  for (const partnerId of candidates) {
    const slots = await lockFreeSlotsInRange(trx, { partnerId, startsAt: plan.startsAt, endsAt: plan.endsAt, skipLocked: plan.partner === null });
    if (!coversRange(slots, plan.startsAt, plan.endsAt)) continue;
    if (await buffersTaken(trx, plan.service, { partnerId, startsAt: plan.startsAt, endsAt: plan.endsAt })) continue;
    return { service: plan.service, partnerId, startsAt: plan.startsAt, endsAt: plan.endsAt, slots };
  }
  return abort(
    'SLOT_UNAVAILABLE',
    plan.partner ? `The partner is not free from ${plan.startsAt} to ${plan.endsAt}.` : `No partner is free from ${plan.startsAt} to ${plan.endsAt}.`,
    input.slotIds?.length ? ['input', 'slotIds'] : ['input', 'startsAt'],
  );
}

/** Whether the service's buffers around the time are taken; no statement when it has none. */
export async function buffersTaken(trx: Trx, service: ServiceModel, at: { partnerId: string; startsAt: string; endsAt: string; ownBookingId?: string }): Promise<boolean> {
  if (!service.bufferBeforeMinutes && !service.bufferAfterMinutes) return false;
  return hasTakenSlotsInBuffers(trx, { ...at, beforeMinutes: service.bufferBeforeMinutes, afterMinutes: service.bufferAfterMinutes });
}

/**
 * A start time must respect the business's booking window, the same rules `availableSlots` applies:
 * no earlier than now plus the minimum notice, and on a local date no later than today plus the
 * maximum advance. A client cannot book what availability would never offer.
 */
export async function checkBookingWindow(trx: Trx, businessId: string, startsAt: string, field: string[]): Promise<void> {
  const start = Date.parse(startsAt);
  const now = Date.now();
  if (start <= now) abort('IN_THE_PAST', `Expected a start time in the future, got ${startsAt}.`, field);
  const business = (await findBusinessesByIds(trx, [businessId]))[0];
  if (business.archivedAt !== null) abort('NOT_FOUND', 'The business was archived and takes no bookings.', field);
  if (start < now + business.minNoticeMinutes * 60_000) {
    abort('IN_THE_PAST', `The business takes bookings at least ${business.minNoticeMinutes} minutes ahead; ${startsAt} is too soon.`, field);
  }
  if (!withinAdvance(todayIn(business.timeZone, start), business.timeZone, business.maxAdvanceDays, now)) {
    abort('TOO_FAR_AHEAD', `The business takes bookings at most ${business.maxAdvanceDays} days ahead; ${startsAt} is further.`, field);
  }
}

/**
 * The customer the claim is for: the one named, if the caller is staff of its business or it is
 * the caller's own record; else the caller's own customer record in the business of the slots or
 * service asked for. An account without one there registers (see registerCustomer). Another
 * tenant's customer reads NOT_FOUND.
 */
export async function loadCustomer(trx: Trx, viewer: Viewer, input: SlotClaimInput & { holdId?: string | null }): Promise<{ customer: CustomerModel; registration: Effects }> {
  if (!input.customerId && viewer.accountId && !input.holdId) {
    const businessId = await businessOfClaim(trx, input);
    if (businessId) {
      const own = customerIdIn(viewer, businessId);
      if (!own) return registerCustomer(trx, viewer, businessId);
      return { customer: (await findCustomersByIds(trx, [own]))[0], registration: {} };
    }
  }
  const customerId = resolveCustomer(viewer, input);
  const customer = (await findCustomersByIds(trx, [customerId]))[0];
  const own = viewer.customers.some((c) => c.customerId === customer?.id);
  if (!customer || !(own || isStaffOf(viewer, customer.businessId))) abort('NOT_FOUND', `No customer with ID "${input.customerId}".`, ['input', 'customerId']);
  return { customer, registration: {} };
}

/** The business of the slots or the service a claim names, or null when it names neither (its checks answer then). */
async function businessOfClaim(trx: Trx, input: SlotClaimInput): Promise<string | null> {
  const slotId = input.slotIds?.length ? rawIdOf(input.slotIds[0], 'Slot') : null;
  if (slotId) return (await findSlotsByIds(trx, [slotId]))[0]?.businessId ?? null;
  const serviceId = input.serviceId ? rawIdOf(input.serviceId, 'Service') : null;
  if (serviceId) return (await findServicesByIds(trx, [serviceId]))[0]?.businessId ?? null;
  return null;
}

/**
 * Self-registration: an account that books where it has no customer record gets one, from its
 * token's e-mail and name, in the claim's transaction (a refused claim registers no one). The
 * change names the account, so its cached grants include the record from its next request on; this
 * request's viewer learns it at once (its payload reads the booking as its customer's).
 *
 * A record of the business with the same e-mail that is not this account's is not taken over: an
 * identity provider's e-mail claim is not proof of owning the address, and the record's history is
 * someone's. The caller is told to ask the business instead.
 */
async function registerCustomer(trx: Trx, viewer: Viewer, businessId: string): Promise<{ customer: CustomerModel; registration: Effects }> {
  const accountId = viewer.accountId!;
  if (!viewer.email) abort('INVALID_INPUT', 'Expected the token to carry an `email` claim: registering as a customer of the business needs one.', ['input', 'customerId']);
  await lockAccountById(trx, accountId);
  const taken = await findCustomerByEmail(trx, businessId, viewer.email);
  if (taken && taken.accountId !== accountId) {
    abort('INVALID_INPUT', `The business has a customer with the e-mail ${viewer.email} already, not linked to this account: ask the business to book for it, or sign in with another address.`, ['input', 'customerId']);
  }
  const { created, ...customer } = await upsertAccountCustomer(trx, { businessId, accountId, email: viewer.email, name: viewer.name ?? viewer.email.slice(0, viewer.email.indexOf('@')) });
  // This request's viewer only: its `customers` array may be the one of the cached grants, shared by
  // the account's concurrent requests, which must not see a record their transaction cannot read.
  (viewer as { customers: readonly CustomerGrant[] }).customers = [...viewer.customers, { businessId, customerId: customer.id }];
  if (!created) return { customer, registration: {} };
  return {
    customer,
    registration: {
      // No name or e-mail in the audit row: customerErase could not take them back out of it.
      changes: [{ action: 'customer.registered', businessId, partnerIds: [], ranges: [], accountIds: [accountId], availability: false }],
      audit: [{ businessId, entity: 'customer', entityId: customer.id, action: 'customer.registered', changes: { after: { accountId } } }],
    },
  };
}

/** A customer books for themself (their only customer record); staff and admins name the customer. */
function resolveCustomer(viewer: Viewer, input: SlotClaimInput): string {
  if (input.customerId) return rawIdOrAbort(input.customerId, 'Customer', 'customerId');
  if (viewer.customers.length === 1) return viewer.customers[0].customerId;
  const why = viewer.customers.length ? 'the caller is a customer of several businesses' : 'staff book on behalf of a customer';
  return abort('INVALID_INPUT', `Expected \`customerId\`: ${why}.`, ['input', 'customerId']);
}

async function loadService(trx: Trx, businessId: string, serviceGid: string): Promise<ServiceModel> {
  const service = (await findServicesByIds(trx, [rawIdOrAbort(serviceGid, 'Service', 'serviceId')]))[0];
  if (!service || service.businessId !== businessId) abort('NOT_FOUND', `No service with ID "${serviceGid}" in the customer's business.`, ['input', 'serviceId']);
  if (!service.isActive) abort('SERVICE_INACTIVE', `The service "${service.name}" is not bookable at the moment.`, ['input', 'serviceId']);
  return service;
}

/** The partner a claim names, active and performing the service; another business's reads NOT_FOUND. */
export async function loadActivePartner(trx: Trx, businessId: string, partnerGid: string, field: string, service: { id: string; name: string }): Promise<PartnerModel> {
  const partner = await findPartnerForService(trx, rawIdOrAbort(partnerGid, 'Partner', field), service.id);
  if (!partner || partner.businessId !== businessId) abort('NOT_FOUND', `No partner with ID "${partnerGid}" in this business.`, ['input', field]);
  return checkPartnerTakes(partner, service, ['input', field]);
}

/** Refuses a partner who is inactive (or archived), or who does not perform the service. */
export function checkPartnerTakes<P extends PartnerModel & { performsService: boolean }>(partner: P, service: { name: string }, field: string[]): P {
  if (!partner.isActive) abort('PARTNER_INACTIVE', `${partner.name} does not take bookings at the moment.`, field);
  if (!partner.performsService) abort('NOT_QUALIFIED', `${partner.name} does not perform "${service.name}".`, field);
  return partner;
}

async function planFromTime(trx: Trx, businessId: string, input: SlotClaimInput): Promise<Plan> {
  if (!input.serviceId || !input.startsAt) {
    abort('INVALID_INPUT', 'Expected either `slotIds`, or `serviceId` with `startsAt`.', ['input', input.serviceId ? 'startsAt' : 'serviceId']);
  }
  const service = await loadService(trx, businessId, input.serviceId);
  const partner = input.partnerId ? await loadActivePartner(trx, businessId, input.partnerId, 'partnerId', service) : null;
  return { service, startsAt: input.startsAt, endsAt: addMinutes(input.startsAt, service.durationMinutes), partner, city: input.city == null ? null : freeTextInput(input.city, ['input', 'city'], MAX_CITY_LENGTH) };
}

async function planFromSlots(trx: Trx, businessId: string, input: SlotClaimInput): Promise<Plan> {
  if (input.startsAt) abort('INVALID_INPUT', 'Expected `slotIds` or `startsAt`, not both.', ['input', 'startsAt']);
  const ids = [...new Set(input.slotIds!.map((gid) => rawIdOrAbort(gid, 'Slot', 'slotIds')))];
  const slots = (await findSlotsByIds(trx, ids)).filter((s) => s.businessId === businessId);
  if (slots.length !== ids.length) abort('NOT_FOUND', 'Some of the slots do not exist in the customer\'s business.', ['input', 'slotIds']);
  slots.sort((a, b) => Date.parse(a.startsAt) - Date.parse(b.startsAt));
  if (slots.some((s) => s.partnerId !== slots[0].partnerId)) abort('MISMATCH', 'Expected the slots of one partner.', ['input', 'slotIds']);
  if (slots.some((s, i) => i > 0 && s.startsAt !== slots[i - 1].endsAt)) abort('MISMATCH', 'Expected consecutive slots, with no gap between them.', ['input', 'slotIds']);
  const startsAt = slots[0].startsAt;
  const endsAt = slots[slots.length - 1].endsAt;
  const minutes = (Date.parse(endsAt) - Date.parse(startsAt)) / 60_000;

  if (input.partnerId && rawIdOf(input.partnerId, 'Partner') !== slots[0].partnerId) {
    abort('MISMATCH', 'The slots belong to another partner than `partnerId`.', ['input', 'partnerId']);
  }

  let service: ServiceModel;
  if (input.serviceId) {
    service = await loadService(trx, businessId, input.serviceId);
    if (service.durationMinutes !== minutes) {
      abort('MISMATCH', `The service takes ${service.durationMinutes} minutes; the slots cover ${minutes}.`, ['input', 'slotIds']);
    }
  } else {
    service = await findServiceByDuration(trx, businessId, minutes);
  }
  const partner = checkPartnerTakes((await findPartnerForService(trx, slots[0].partnerId, service.id))!, service, ['input', 'slotIds']);
  return { service, startsAt, endsAt, partner, city: null };
}

async function findServiceByDuration(trx: Trx, businessId: string, minutes: number): Promise<ServiceModel> {
  const matching = await findActiveServicesByDuration(trx, businessId, minutes);
  if (matching.length !== 1) {
    const message = matching.length ? `Several services take ${minutes} minutes: give \`serviceId\`.` : `No active service takes ${minutes} minutes: give \`serviceId\`.`;
    abort('INVALID_INPUT', message, ['input', 'serviceId']);
  }
  return matching[0];
}
