import { canSeeBooking } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import type { BookingModel } from '../bookings/booking.model.js';
import { lockBookingById } from '../bookings/bookings.repository.js';
import { accountKey, refusalMessage, type RateLimits } from '../server/rate-limits.js';
import type { Step } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { abort } from '../shared/user-errors.js';
import { rawIdOrAbort } from '../slots/slot-claims.js';
import type { MessageModel, MessageSide } from './message.model.js';
import { insertMessage, markThreadRead } from './messages.repository.js';

/**
 * Conversations: one thread per booking, between its customer and the business. Who may read a
 * booking may read and write its thread (canSeeBooking, the rule every booking read applies);
 * anyone else reads NOT_FOUND, as for the booking itself.
 */

export const MAX_MESSAGE_LENGTH = 2000;
const BOOKING_ID_FIELD = ['input', 'bookingId'];

/**
 * The side of the thread the viewer is on for this booking: the business when they see it through
 * a membership (its partner, staff, owners) or as an admin, else the customer. An account that is
 * both (staff booking with their own business) speaks for the business.
 */
export function sideOf(viewer: Viewer, booking: Pick<BookingModel, 'businessId' | 'partnerId'>): MessageSide {
  if (viewer.admin) return 'business';
  const member = viewer.memberships.some((m) => m.businessId === booking.businessId && (m.role !== 'PARTNER' || m.partnerId === booking.partnerId));
  return member ? 'business' : 'customer';
}

/** The trimmed body; refused when empty or too long. */
export function checkMessageBody(body: string): string {
  const trimmed = body.trim();
  if (!trimmed.length || trimmed.length > MAX_MESSAGE_LENGTH) {
    abort('INVALID_INPUT', `Expected a message of 1 to ${MAX_MESSAGE_LENGTH} characters, got ${trimmed.length}.`, ['input', 'body']);
  }
  return trimmed;
}

/** Takes one point of the sender's `messages` budget (outside any transaction); RATE_LIMITED when it is spent. */
export async function chargeMessage(rateLimits: RateLimits, viewer: Viewer): Promise<void> {
  const verdict = await rateLimits.consumeOne('messages', accountKey(viewer) ?? 'anonymous');
  if (!verdict.allowed) abort('RATE_LIMITED', refusalMessage(verdict), ['input', 'body']);
}

/** Locks a booking the caller can see (sends and read markers of one thread are serialized by it); any other reads NOT_FOUND. */
async function lockVisibleBooking(trx: Trx, viewer: Viewer, bookingGid: string): Promise<BookingModel> {
  const booking = await lockBookingById(trx, rawIdOrAbort(bookingGid, 'Booking', 'bookingId'));
  if (!booking || !canSeeBooking(viewer, booking)) abort('NOT_FOUND', `No booking with ID "${bookingGid}".`, BOOKING_ID_FIELD);
  return booking;
}

/** Posts a message and writes its MESSAGE_POSTED event in the same transaction (the outbox). */
export async function postMessage(trx: Trx, viewer: Viewer, actor: string, input: { bookingId: string }, body: string): Promise<Step<MessageModel>> {
  const booking = await lockVisibleBooking(trx, viewer, input.bookingId);
  const senderSide = sideOf(viewer, booking);
  const message = await insertMessage(trx, { businessId: booking.businessId, bookingId: booking.id, senderSide, sender: actor, body });
  return {
    value: message,
    // The event names the message and its side only: a subscriber reads the text through
    // BookingEvent.message, which applies the booking's visibility when it is delivered.
    events: [{ type: 'MESSAGE_POSTED', booking, message: { id: message.id, senderSide } }],
    // No body in the audit row: the thread is the record.
    audit: [{ businessId: booking.businessId, entity: 'message', entityId: message.id, action: 'message.posted', changes: { after: { bookingId: booking.id, senderSide } } }],
    changes: [{ action: 'message.posted', businessId: booking.businessId, partnerIds: [booking.partnerId], ranges: [], bookingIds: [booking.id], availability: false }],
  };
}

/** Moves the caller's side's read marker to the thread's newest message. */
export async function markRead(trx: Trx, viewer: Viewer, input: { bookingId: string }): Promise<Step<BookingModel>> {
  const booking = await lockVisibleBooking(trx, viewer, input.bookingId);
  await markThreadRead(trx, { businessId: booking.businessId, bookingId: booking.id, side: sideOf(viewer, booking) });
  return { value: booking };
}
