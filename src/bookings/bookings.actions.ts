import type { BookingStatus } from '../__generated__/resolvers-types.js';
import { canSeeBooking, isStaffOf } from '../auth/access.js';
import { forbidden } from '../shared/errors.js';
import type { Viewer } from '../auth/viewer.js';
import type { BookingEventType } from '../events/booking-event.model.js';
import { claimHeldSlots, consumeHold } from '../holds/hold-claims.js';
import { adjustActiveBookingCount } from '../partners/partner-load.repository.js';
import { findServicesByIds } from '../services/services.repository.js';
import type { Change } from '../shared/change-feed.js';
import { combine, type Effects, type Step } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { abort } from '../shared/user-errors.js';
import { coversRange, holdSlotsForBooking, lockFreeSlotsInRange, releaseSlotsOfBooking } from '../slots/slot-claims.repository.js';
import { addMinutes, buffersTaken, checkBookingWindow, claimSlots, loadActivePartner, rawIdOrAbort, type SlotClaim, type SlotClaimInput } from '../slots/slot-claims.js';
import type { BookingModel } from './booking.model.js';
import { canTransition, isActive, transitionError } from './booking-state-machine.js';
import { insertBooking, lockBookingById, updateBookingStatus, updateBookingTime } from './bookings.repository.js';

/**
 * Booking rules, as steps run inside a mutation's transaction (see src/shared/mutation.ts): each
 * also keeps the partners' active booking counts in step, and returns its audit entries, outbox
 * events and the change to announce; a refusal (`abort`) rolls all of it back.
 *
 * Double booking is prevented twice: slots are claimed under row locks (a slot is booked by
 * exactly one transaction), and the bookings_no_overlap exclusion constraint refuses any two
 * live bookings of one partner that overlap, whatever path wrote them (SQLSTATE 23P01).
 */

const MAX_CANCEL_REASON = 500;
const EXCLUSION_VIOLATION = '23P01';
const BOOKING_ID_FIELD = ['input', 'bookingId'];

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

function auditEntry(booking: BookingModel, action: string, before: Record<string, unknown> | undefined, after: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { businessId: booking.businessId, entity: 'booking' as const, entityId: booking.id, action, changes: { before, after, ...extra } };
}

// ---------------------------------------------------------------------------------------------
// bookingCreate

export interface CreateBookingInput extends SlotClaimInput {
  holdId?: string | null;
}

/** Books the claimed time: from a hold of the customer's, or from free slots. */
export async function createBooking(trx: Trx, viewer: Viewer, input: CreateBookingInput): Promise<Step<BookingModel>> {
  const claim = input.holdId ? await claimHeldSlots(trx, viewer, input) : await claimSlots(trx, viewer, input);
  return bookClaim(trx, claim);
}

/** Books claimed time: the booking, its slots, its partner's count, its event and audit; the hold it came from is used up. */
export async function bookClaim(trx: Trx, claim: SlotClaim): Promise<Step<BookingModel>> {
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
  const created: Effects = {
    changes: [bookingChange('booking.created', booking)],
    events: [{ type: 'BOOKING_CREATED', booking }],
    audit: [auditEntry(booking, 'booking.created', undefined, { ...snapshot(booking), slotIds: slots.map((s) => s.id), ...(claim.holdId ? { holdId: claim.holdId } : {}) })],
  };
  const consumed = claim.holdId ? await consumeHold(trx, claim.holdId, booking) : {};
  return { value: booking, ...combine(claim.registration, created, consumed) };
}

// ---------------------------------------------------------------------------------------------
// Status changes: confirm, cancel, complete, mark no-show

/** Locks a booking the caller can see; any other reads NOT_FOUND. */
async function lockVisibleBooking(trx: Trx, viewer: Viewer, bookingGid: string): Promise<BookingModel> {
  const booking = await lockBookingById(trx, rawIdOrAbort(bookingGid, 'Booking', 'bookingId'));
  if (!booking || !canSeeBooking(viewer, booking)) abort('NOT_FOUND', `No booking with ID "${bookingGid}".`, BOOKING_ID_FIELD);
  return booking;
}

/**
 * Moves a locked booking to `to`: frees its slots when cancelled, keeps its partner's count of active
 * bookings. The one place a booking's status changes, whoever changes it (a caller, a payment).
 * `note` goes into the audit entry (a payment's id when a payment confirms it).
 */
export async function transitionBooking(trx: Trx, before: BookingModel, to: BookingStatus, options: { cancelReason?: string | null; note?: Record<string, unknown> } = {}): Promise<Step<BookingModel>> {
  if (!canTransition(before.status, to)) abort('INVALID_TRANSITION', transitionError(before.status, to), BOOKING_ID_FIELD);
  const cancelReason = options.cancelReason ?? null;
  const after = await updateBookingStatus(trx, before.id, to, cancelReason);
  if (to === 'CANCELLED') await releaseSlotsOfBooking(trx, before.id);
  if (isActive(before.status) && !isActive(to)) await adjustActiveBookingCount(trx, before.partnerId, -1);
  const action = `booking.${to.toLowerCase()}`;
  return {
    value: after,
    changes: [bookingChange(action, after)],
    events: [{ type: `BOOKING_${to}` as BookingEventType, booking: after }],
    audit: [auditEntry(after, action, { status: before.status }, { status: after.status, ...(cancelReason ? { cancelReason } : {}) }, options.note)],
  };
}

/** A status change asked for by a caller: of a booking they can see (`who` decided which callers may ask). */
export async function changeBookingStatus(trx: Trx, viewer: Viewer, bookingGid: string, to: BookingStatus, cancelReason: string | null = null): Promise<Step<BookingModel>> {
  return transitionBooking(trx, await lockVisibleBooking(trx, viewer, bookingGid), to, { cancelReason });
}

/** A cancellation's reason, trimmed; refused when too long. */
export function checkCancelReason(reason: string | null | undefined): string | null {
  const trimmed = reason?.trim() || null;
  if (trimmed && trimmed.length > MAX_CANCEL_REASON) {
    abort('INVALID_INPUT', `Expected a reason of at most ${MAX_CANCEL_REASON} characters, got ${trimmed.length}.`, ['input', 'reason']);
  }
  return trimmed;
}

// ---------------------------------------------------------------------------------------------
// bookingReschedule

export async function rescheduleBooking(trx: Trx, viewer: Viewer, input: { bookingId: string; startsAt: string; partnerId?: string | null }): Promise<Step<BookingModel>> {
  const before = await lockVisibleBooking(trx, viewer, input.bookingId);
  if (!isActive(before.status)) abort('INVALID_TRANSITION', `A ${before.status.toLowerCase().replace('_', '-')} booking cannot be rescheduled.`, BOOKING_ID_FIELD);
  await checkBookingWindow(trx, before.businessId, input.startsAt, ['input', 'startsAt']);
  const service = (await findServicesByIds(trx, [before.serviceId]))[0];
  const partnerId = input.partnerId ? (await loadActivePartner(trx, before.businessId, input.partnerId, 'partnerId', service)).id : before.partnerId;
  // An account that sees the booking only as its partner (a partner here, staff elsewhere) moves it in time only.
  if (partnerId !== before.partnerId && !isStaffOf(viewer, before.businessId) && !viewer.customers.some((c) => c.customerId === before.customerId)) {
    throw forbidden('Expected a partner to move their bookings in time only, got another partner\'s ID.');
  }
  const startsAt = new Date(input.startsAt).toISOString();
  const endsAt = addMinutes(startsAt, (Date.parse(before.endsAt) - Date.parse(before.startsAt)) / 60_000);
  if (partnerId === before.partnerId && Date.parse(startsAt) === Date.parse(before.startsAt)) return { value: before };

  // The new slots are taken first; the old ones are let go only once the new ones are held.
  const slots = await lockFreeSlotsInRange(trx, { partnerId, startsAt, endsAt, ownBookingId: before.id, skipLocked: false });
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
  return {
    value: after,
    changes: [bookingChange('booking.rescheduled', before, after)],
    events: [{ type: 'BOOKING_RESCHEDULED', booking: after, previous: before }],
    audit: [auditEntry(after, 'booking.rescheduled', pick(before), { ...pick(after), slotIds })],
  };
}

// ---------------------------------------------------------------------------------------------

function pick(b: BookingModel) {
  return { partnerId: b.partnerId, startsAt: b.startsAt, endsAt: b.endsAt };
}

function snapshot(b: BookingModel) {
  return { status: b.status, customerId: b.customerId, serviceId: b.serviceId, totalCents: b.totalCents, ...pick(b) };
}
