import type { BookingStatus } from '../__generated__/resolvers-types.js';
import { canSeeBooking, canSeeCustomer, isStaffOf, requireSignedIn } from '../auth/access.js';
import { actorOf, type Viewer } from '../auth/viewer.js';
import { insertAuditLogs } from '../audit/audit.repository.js';
import { insertBookingEvents } from '../events/booking-events.repository.js';
import type { BookingEventType } from '../events/booking-event.model.js';
import { todayIn, withinAdvance } from '../availability/available-starts.js';
import { findBusinessesByIds } from '../businesses/businesses.repository.js';
import { findCustomersByIds } from '../customers/customers.repository.js';
import type { CustomerModel } from '../customers/customer.model.js';
import { lockSlotHoldById, markSlotHoldConsumed } from '../holds/slot-holds.repository.js';
import type { Db } from '../db/sql-helpers.js';
import { adjustActiveBookingCount } from '../partners/partner-load.repository.js';
import { findPartnersByIds } from '../partners/partners.repository.js';
import type { PartnerModel } from '../partners/partner.model.js';
import { findActiveServicesByDuration, findServicesByIds } from '../services/services.repository.js';
import type { ServiceModel } from '../services/service.model.js';
import {
  coversRange,
  findFreePartnerIds,
  hasTakenSlotsInBuffers,
  holdSlotsForBooking,
  lockFreeSlotsInRange,
  lockSlotsOfHold,
  releaseSlotsOfBooking,
  type ClaimableSlot,
} from '../slots/slot-claims.repository.js';
import { findSlotsByIds } from '../slots/slots.repository.js';
import { announce, type Change, type ChangeFeed } from '../shared/change-feed.js';
import { forbidden } from '../shared/errors.js';
import { rawIdOf, type NodeType } from '../shared/global-id.js';
import { inTransaction, type Trx } from '../shared/transaction.js';
import { abort, userError, type ActionResult } from '../shared/user-errors.js';
import type { BookingModel } from './booking.model.js';
import { canTransition, isActive, transitionError } from './booking-state-machine.js';
import { insertBooking, lockBookingById, updateBookingStatus, updateBookingTime } from './bookings.repository.js';
import { freeTextInput, MAX_CITY_LENGTH } from '../shared/free-text.js';

/**
 * Booking rules. Every change runs in one transaction that also keeps the partners' active
 * booking counts in step and writes the audit trail; a refusal (`abort`) rolls all of it back.
 *
 * Double booking is prevented twice: slots are claimed under row locks (a slot is booked by
 * exactly one transaction), and the bookings_no_overlap exclusion constraint refuses any two
 * live bookings of one partner that overlap, whatever path wrote them (SQLSTATE 23P01).
 */

export interface ActionContext {
  db: Db;
  viewer: Viewer;
  changes: ChangeFeed;
}

/** What a booking change touched: its partner's time (the old and the new one after a reschedule). */
function bookingChange(action: string, ...bookings: BookingModel[]): Change {
  return {
    action,
    businessId: bookings[0].businessId,
    partnerIds: [...new Set(bookings.map((b) => b.partnerId))],
    ranges: bookings.map((b) => ({ startsAt: b.startsAt, endsAt: b.endsAt })),
    bookingIds: [...new Set(bookings.map((b) => b.id))],
  };
}

/** How many free partners `bookingCreate` tries, least busy first, when none is named. */
const PARTNER_CANDIDATES = 10;
const MAX_CANCEL_REASON = 500;
const EXCLUSION_VIOLATION = '23P01';

function rawId(globalId: string | null | undefined, type: NodeType, field: string): string {
  const id = globalId ? rawIdOf(globalId, type) : null;
  if (!id) abort('NOT_FOUND', `No ${type.toLowerCase()} with ID "${globalId}".`, ['input', field]);
  return id;
}

function addMinutes(instant: string, minutes: number): string {
  return new Date(Date.parse(instant) + minutes * 60_000).toISOString();
}

/** Runs `work`; an overlap refused by the exclusion constraint becomes SLOT_UNAVAILABLE. */
async function guardOverlap<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if ((error as { code?: string }).code === EXCLUSION_VIOLATION) {
      abort('SLOT_UNAVAILABLE', 'The partner already has a booking at that time.');
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// bookingCreate

export interface CreateBookingInput {
  serviceId?: string | null;
  startsAt?: string | null;
  partnerId?: string | null;
  city?: string | null;
  slotIds?: readonly string[] | null;
  customerId?: string | null;
  holdId?: string | null;
}

interface Plan {
  service: ServiceModel;
  startsAt: string;
  endsAt: string;
  /** The partner asked for, or null to assign the least busy free one. */
  partner: PartnerModel | null;
  city: string | null;
}

export async function createBooking(ctx: ActionContext, input: CreateBookingInput): Promise<ActionResult<BookingModel>> {
  requireSignedIn(ctx.viewer);
  if (ctx.viewer.role === 'PARTNER') throw forbidden('Partners cannot create bookings; staff or the customer can.');
  const result = await inTransaction(ctx.db, async (trx) => {
    const claim = input.holdId ? await claimHeldSlots(trx, ctx.viewer, input) : await claimSlots(trx, ctx.viewer, input);
    const { customer, service, partnerId, slots } = claim;
    const booking = await guardOverlap(() =>
      insertBooking(trx, {
        businessId: customer.businessId,
        customerId: customer.id,
        partnerId,
        serviceId: service.id,
        startsAt: claim.startsAt,
        endsAt: claim.endsAt,
        totalCents: service.priceCents,
        currency: service.currency,
      }),
    );
    // Booking the slots also clears their hold columns.
    await holdSlotsForBooking(trx, slots.map((s) => s.id), booking.id);
    await adjustActiveBookingCount(trx, partnerId, 1);
    await insertBookingEvents(trx, [{ type: 'BOOKING_CREATED', booking }]);
    await audit(trx, ctx.viewer, booking, 'booking.created', undefined, {
      ...snapshot(booking),
      slotIds: slots.map((s) => s.id),
      ...(claim.holdId ? { holdId: claim.holdId } : {}),
    });
    if (claim.holdId) {
      await markSlotHoldConsumed(trx, claim.holdId, booking.id);
      await insertAuditLogs(trx, [
        { businessId: booking.businessId, entity: 'hold', entityId: claim.holdId, action: 'hold.consumed', actor: actorOf(ctx.viewer), changes: { after: { bookingId: booking.id } } },
      ]);
    }
    return booking;
  });
  await announce(ctx.changes, result, (booking) => bookingChange('booking.created', booking));
  return result;
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
}

/**
 * Plans a booking (or a hold: slotHold shares this) from `slotIds`, or from a service and a start
 * time with the partner given or the least busy free one, and locks the slots, in the caller's
 * transaction. Aborts with the user error when the input does not name bookable free time.
 */
export async function claimSlots(trx: Trx, viewer: Viewer, input: CreateBookingInput): Promise<SlotClaim> {
  const customer = await loadCustomer(trx, viewer, input);
  const plan = input.slotIds?.length ? await planFromSlots(trx, customer.businessId, input) : await planFromTime(trx, customer.businessId, input);
  await checkBookingWindow(trx, customer.businessId, plan.startsAt, input.slotIds?.length ? ['input', 'slotIds'] : ['input', 'startsAt']);

  const candidates = plan.partner
    ? [plan.partner.id]
    : await findFreePartnerIds(trx, { businessId: customer.businessId, city: plan.city, startsAt: plan.startsAt, endsAt: plan.endsAt, limit: PARTNER_CANDIDATES });
  for (const partnerId of candidates) {
    const slots = await lockFreeSlotsInRange(trx, { partnerId, startsAt: plan.startsAt, endsAt: plan.endsAt, skipLocked: plan.partner === null });
    if (!coversRange(slots, plan.startsAt, plan.endsAt)) continue;
    if (await buffersTaken(trx, plan.service, { partnerId, startsAt: plan.startsAt, endsAt: plan.endsAt })) continue;
    return { customer, service: plan.service, partnerId, startsAt: plan.startsAt, endsAt: plan.endsAt, slots };
  }
  return abort(
    'SLOT_UNAVAILABLE',
    plan.partner ? `The partner is not free from ${plan.startsAt} to ${plan.endsAt}.` : `No partner is free from ${plan.startsAt} to ${plan.endsAt}.`,
    input.slotIds?.length ? ['input', 'slotIds'] : ['input', 'startsAt'],
  );
}

/** Whether the service's buffers around the time are taken; no statement when it has none. */
async function buffersTaken(trx: Trx, service: ServiceModel, at: { partnerId: string; startsAt: string; endsAt: string; ownBookingId?: string }): Promise<boolean> {
  if (!service.bufferBeforeMinutes && !service.bufferAfterMinutes) return false;
  return hasTakenSlotsInBuffers(trx, { ...at, beforeMinutes: service.bufferBeforeMinutes, afterMinutes: service.bufferAfterMinutes });
}

/**
 * A start time must respect the business's booking window, the same rules `availableSlots` applies:
 * no earlier than now plus the minimum notice, and on a local date no later than today plus the
 * maximum advance. A client cannot book what availability would never offer.
 */
async function checkBookingWindow(trx: Trx, businessId: string, startsAt: string, field: string[]): Promise<void> {
  const start = Date.parse(startsAt);
  const now = Date.now();
  if (start <= now) abort('IN_THE_PAST', `Expected a start time in the future, got ${startsAt}.`, field);
  const business = (await findBusinessesByIds(trx, [businessId]))[0];
  if (start < now + business.minNoticeMinutes * 60_000) {
    abort('IN_THE_PAST', `The business takes bookings at least ${business.minNoticeMinutes} minutes ahead; ${startsAt} is too soon.`, field);
  }
  if (!withinAdvance(todayIn(business.timeZone, start), business.timeZone, business.maxAdvanceDays, now)) {
    abort('TOO_FAR_AHEAD', `The business takes bookings at most ${business.maxAdvanceDays} days ahead; ${startsAt} is further.`, field);
  }
}

async function loadCustomer(trx: Trx, viewer: Viewer, input: CreateBookingInput): Promise<CustomerModel> {
  const customerId = await resolveCustomer(viewer, input);
  const customer = (await findCustomersByIds(trx, [customerId]))[0];
  if (!customer || !canSeeCustomer(viewer, customer)) abort('NOT_FOUND', `No customer with ID "${input.customerId}".`, ['input', 'customerId']);
  return customer;
}

const HOLD_ID_FIELD = ['input', 'holdId'];

/**
 * The slots of a live hold of the booking's customer, locked, for the booking that uses the hold.
 * Other fields of the input may repeat the hold's service, partner, time or slots, not contradict them.
 * A hold that is missing or of another business reads NOT_FOUND, like any object of another tenant.
 */
async function claimHeldSlots(trx: Trx, viewer: Viewer, input: CreateBookingInput): Promise<SlotClaim> {
  const customer = await loadCustomer(trx, viewer, input);
  const hold = await lockSlotHoldById(trx, rawId(input.holdId, 'SlotHold', 'holdId'));
  if (!hold || hold.businessId !== customer.businessId) abort('NOT_FOUND', `No hold with ID "${input.holdId}".`, HOLD_ID_FIELD);
  if (hold.customerId !== customer.id) abort('HOLD_EXPIRED', 'The hold was made for another customer.', HOLD_ID_FIELD);
  if (hold.bookingId !== null) abort('HOLD_EXPIRED', 'The hold was already used by a booking.', HOLD_ID_FIELD);
  if (!hold.live) abort('HOLD_EXPIRED', `The hold lapsed at ${hold.expiresAt}; hold the slots again.`, HOLD_ID_FIELD);

  if (input.serviceId && rawIdOf(input.serviceId, 'Service') !== hold.serviceId) abort('MISMATCH', 'The hold is for another service than `serviceId`.', ['input', 'serviceId']);
  if (input.partnerId && rawIdOf(input.partnerId, 'Partner') !== hold.partnerId) abort('MISMATCH', 'The hold is with another partner than `partnerId`.', ['input', 'partnerId']);
  if (input.startsAt && Date.parse(input.startsAt) !== Date.parse(hold.startsAt)) {
    abort('MISMATCH', `The hold starts at ${hold.startsAt}, not at ${input.startsAt}.`, ['input', 'startsAt']);
  }
  const slots = await lockSlotsOfHold(trx, hold);
  if (input.slotIds?.length) {
    const asked = [...new Set(input.slotIds.map((gid) => rawIdOf(gid, 'Slot')))].sort();
    const held = slots.map((s) => s.id).sort();
    if (asked.length !== held.length || asked.some((id, i) => id !== held[i])) abort('MISMATCH', 'Expected `slotIds` to be the slots of the hold.', ['input', 'slotIds']);
  }
  // Only a slot removed from under a live hold gets here (holds lapse by time, checked above).
  if (!coversRange(slots, hold.startsAt, hold.endsAt)) abort('SLOT_UNAVAILABLE', 'Some of the held slots are no longer there.', HOLD_ID_FIELD);

  const service = (await findServicesByIds(trx, [hold.serviceId]))[0];
  if (!service.isActive) abort('SERVICE_INACTIVE', `The service "${service.name}" is not bookable at the moment.`, HOLD_ID_FIELD);
  const partner = (await findPartnersByIds(trx, [hold.partnerId]))[0];
  if (!partner.isActive) abort('PARTNER_INACTIVE', `${partner.name} does not take bookings at the moment.`, HOLD_ID_FIELD);
  if (input.city && partner.city !== freeTextInput(input.city, ['input', 'city'], MAX_CITY_LENGTH)) abort('MISMATCH', `The hold is with a partner in ${partner.city}, not ${input.city}.`, ['input', 'city']);
  if (Date.parse(hold.startsAt) <= Date.now()) abort('IN_THE_PAST', `Expected a start time in the future, got ${hold.startsAt}.`, HOLD_ID_FIELD);
  return { customer, service, partnerId: hold.partnerId, startsAt: hold.startsAt, endsAt: hold.endsAt, slots, holdId: hold.id };
}

/** A customer books for themself; staff and admins name the customer. */
async function resolveCustomer(viewer: Viewer, input: CreateBookingInput): Promise<string> {
  if (viewer.role === 'CUSTOMER') {
    if (input.customerId && rawIdOf(input.customerId, 'Customer') !== viewer.customerId) {
      abort('NOT_FOUND', `No customer with ID "${input.customerId}".`, ['input', 'customerId']);
    }
    return viewer.customerId!;
  }
  if (!input.customerId) abort('INVALID_INPUT', 'Expected `customerId`: staff book on behalf of a customer.', ['input', 'customerId']);
  return rawId(input.customerId, 'Customer', 'customerId');
}

async function loadService(trx: Trx, businessId: string, serviceGid: string): Promise<ServiceModel> {
  const service = (await findServicesByIds(trx, [rawId(serviceGid, 'Service', 'serviceId')]))[0];
  if (!service || service.businessId !== businessId) abort('NOT_FOUND', `No service with ID "${serviceGid}" in the customer's business.`, ['input', 'serviceId']);
  if (!service.isActive) abort('SERVICE_INACTIVE', `The service "${service.name}" is not bookable at the moment.`, ['input', 'serviceId']);
  return service;
}

async function loadActivePartner(trx: Trx, businessId: string, partnerGid: string, field: string): Promise<PartnerModel> {
  const partner = (await findPartnersByIds(trx, [rawId(partnerGid, 'Partner', field)]))[0];
  if (!partner || partner.businessId !== businessId) abort('NOT_FOUND', `No partner with ID "${partnerGid}" in this business.`, ['input', field]);
  if (!partner.isActive) abort('PARTNER_INACTIVE', `${partner.name} does not take bookings at the moment.`, ['input', field]);
  return partner;
}

async function planFromTime(trx: Trx, businessId: string, input: CreateBookingInput): Promise<Plan> {
  if (!input.serviceId || !input.startsAt) {
    abort('INVALID_INPUT', 'Expected either `slotIds`, or `serviceId` with `startsAt`.', ['input', input.serviceId ? 'startsAt' : 'serviceId']);
  }
  const service = await loadService(trx, businessId, input.serviceId);
  const partner = input.partnerId ? await loadActivePartner(trx, businessId, input.partnerId, 'partnerId') : null;
  return { service, startsAt: input.startsAt, endsAt: addMinutes(input.startsAt, service.durationMinutes), partner, city: input.city == null ? null : freeTextInput(input.city, ['input', 'city'], MAX_CITY_LENGTH) };
}

async function planFromSlots(trx: Trx, businessId: string, input: CreateBookingInput): Promise<Plan> {
  if (input.startsAt) abort('INVALID_INPUT', 'Expected `slotIds` or `startsAt`, not both.', ['input', 'startsAt']);
  const ids = [...new Set(input.slotIds!.map((gid) => rawId(gid, 'Slot', 'slotIds')))];
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
  const partner = (await findPartnersByIds(trx, [slots[0].partnerId]))[0];
  if (!partner.isActive) abort('PARTNER_INACTIVE', `${partner.name} does not take bookings at the moment.`, ['input', 'slotIds']);

  let service: ServiceModel;
  if (input.serviceId) {
    service = await loadService(trx, businessId, input.serviceId);
    if (service.durationMinutes !== minutes) {
      abort('MISMATCH', `The service takes ${service.durationMinutes} minutes; the slots cover ${minutes}.`, ['input', 'slotIds']);
    }
  } else {
    service = await findServiceByDuration(trx, businessId, minutes);
  }
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

// ---------------------------------------------------------------------------------------------
// Status changes: confirm, cancel, complete, mark no-show

type Permission = 'any' | 'operator';

/**
 * Locks the booking and checks that the viewer may change it: `any` viewer who can see it
 * (cancel), or an `operator` of it: staff, admin, or the booking's own partner (confirm, complete).
 */
async function lockForChange(trx: Trx, viewer: Viewer, bookingGid: string, permission: Permission): Promise<BookingModel> {
  const booking = await lockBookingById(trx, rawId(bookingGid, 'Booking', 'bookingId'));
  if (!booking || !canSeeBooking(viewer, booking)) abort('NOT_FOUND', `No booking with ID "${bookingGid}".`, ['input', 'bookingId']);
  if (permission === 'operator' && !isStaffOf(viewer, booking.businessId) && viewer.partnerId !== booking.partnerId) {
    throw forbidden('Only staff or the booking\'s partner can do this.');
  }
  return booking;
}

async function changeStatus(
  ctx: ActionContext,
  bookingGid: string,
  to: BookingStatus,
  permission: Permission,
  cancelReason: string | null = null,
): Promise<ActionResult<BookingModel>> {
  requireSignedIn(ctx.viewer);
  if (permission === 'operator' && ctx.viewer.role === 'CUSTOMER') throw forbidden('Only staff or the booking\'s partner can do this.');
  const result = await inTransaction(ctx.db, async (trx) => {
    const before = await lockForChange(trx, ctx.viewer, bookingGid, permission);
    if (!canTransition(before.status, to)) abort('INVALID_TRANSITION', transitionError(before.status, to), ['input', 'bookingId']);
    const after = await updateBookingStatus(trx, before.id, to, cancelReason);
    if (to === 'CANCELLED') await releaseSlotsOfBooking(trx, before.id);
    if (isActive(before.status) && !isActive(to)) await adjustActiveBookingCount(trx, before.partnerId, -1);
    await audit(trx, ctx.viewer, after, `booking.${to.toLowerCase()}`, { status: before.status }, { status: after.status, ...(cancelReason ? { cancelReason } : {}) });
    await insertBookingEvents(trx, [{ type: `BOOKING_${to}` as BookingEventType, booking: after }]);
    return after;
  });
  await announce(ctx.changes, result, (booking) => bookingChange(`booking.${to.toLowerCase()}`, booking));
  return result;
}

export function confirmBooking(ctx: ActionContext, input: { bookingId: string }) {
  return changeStatus(ctx, input.bookingId, 'CONFIRMED', 'operator');
}

export function completeBooking(ctx: ActionContext, input: { bookingId: string }) {
  return changeStatus(ctx, input.bookingId, 'COMPLETED', 'operator');
}

export function markBookingNoShow(ctx: ActionContext, input: { bookingId: string }) {
  return changeStatus(ctx, input.bookingId, 'NO_SHOW', 'operator');
}

export async function cancelBooking(ctx: ActionContext, input: { bookingId: string; reason?: string | null }): Promise<ActionResult<BookingModel>> {
  requireSignedIn(ctx.viewer);
  const reason = input.reason?.trim() || null;
  if (reason && reason.length > MAX_CANCEL_REASON) {
    return userError('INVALID_INPUT', `Expected a reason of at most ${MAX_CANCEL_REASON} characters, got ${reason.length}.`, ['input', 'reason']);
  }
  return changeStatus(ctx, input.bookingId, 'CANCELLED', 'any', reason);
}

// ---------------------------------------------------------------------------------------------
// bookingReschedule

export async function rescheduleBooking(ctx: ActionContext, input: { bookingId: string; startsAt: string; partnerId?: string | null }): Promise<ActionResult<BookingModel>> {
  requireSignedIn(ctx.viewer);
  let moved: BookingModel | undefined;
  const result = await inTransaction(ctx.db, async (trx) => {
    const before = await lockForChange(trx, ctx.viewer, input.bookingId, 'any');
    moved = before;
    if (!isActive(before.status)) abort('INVALID_TRANSITION', `A ${before.status.toLowerCase().replace('_', '-')} booking cannot be rescheduled.`, ['input', 'bookingId']);
    await checkBookingWindow(trx, before.businessId, input.startsAt, ['input', 'startsAt']);
    const partnerId = input.partnerId ? (await loadActivePartner(trx, before.businessId, input.partnerId, 'partnerId')).id : before.partnerId;
    if (ctx.viewer.role === 'PARTNER' && partnerId !== before.partnerId) throw forbidden('A partner can move their bookings in time, not to another partner.');
    const startsAt = new Date(input.startsAt).toISOString();
    const endsAt = addMinutes(startsAt, (Date.parse(before.endsAt) - Date.parse(before.startsAt)) / 60_000);
    if (partnerId === before.partnerId && Date.parse(startsAt) === Date.parse(before.startsAt)) return before;

    // The new slots are taken first; the old ones are let go only once the new ones are held.
    const slots = await lockFreeSlotsInRange(trx, { partnerId, startsAt, endsAt, ownBookingId: before.id, skipLocked: false });
    const service = (await findServicesByIds(trx, [before.serviceId]))[0];
    if (!coversRange(slots, startsAt, endsAt) || (await buffersTaken(trx, service, { partnerId, startsAt, endsAt, ownBookingId: before.id }))) {
      abort('SLOT_UNAVAILABLE', `The partner is not free from ${startsAt} to ${endsAt}${service.bufferBeforeMinutes || service.bufferAfterMinutes ? ' with the service\'s buffers' : ''}.`, ['input', 'startsAt']);
    }
    const after = await guardOverlap(() => updateBookingTime(trx, before.id, { partnerId, startsAt, endsAt }));
    const slotIds = slots.map((s) => s.id);
    await releaseSlotsOfBooking(trx, before.id, slotIds);
    await holdSlotsForBooking(trx, slotIds, before.id);
    if (partnerId !== before.partnerId) {
      // Partner rows are locked in id order: two bookings moving in opposite directions between
      // the same partners would otherwise each hold one row and wait for the other (deadlock).
      const moves: Array<[string, 1 | -1]> = [[before.partnerId, -1], [partnerId, 1]];
      moves.sort(([a], [b]) => (BigInt(a) < BigInt(b) ? -1 : 1));
      for (const [id, delta] of moves) await adjustActiveBookingCount(trx, id, delta);
    }
    await audit(trx, ctx.viewer, after, 'booking.rescheduled', pick(before), { ...pick(after), slotIds });
    await insertBookingEvents(trx, [{ type: 'BOOKING_RESCHEDULED', booking: after, previous: before }]);
    return after;
  });
  await announce(ctx.changes, result, (after) => (after === moved ? null : bookingChange('booking.rescheduled', moved!, after)));
  return result;
}

// ---------------------------------------------------------------------------------------------

function pick(b: BookingModel) {
  return { partnerId: b.partnerId, startsAt: b.startsAt, endsAt: b.endsAt };
}

function snapshot(b: BookingModel) {
  return { status: b.status, customerId: b.customerId, serviceId: b.serviceId, totalCents: b.totalCents, ...pick(b) };
}

function audit(trx: Trx, viewer: Viewer, booking: BookingModel, action: string, before: Record<string, unknown> | undefined, after: Record<string, unknown>) {
  return insertAuditLogs(trx, [{ businessId: booking.businessId, entity: 'booking', entityId: booking.id, action, actor: actorOf(viewer), changes: { before, after } }]);
}
