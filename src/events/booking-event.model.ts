import type { BookingStatus, PaymentStatus } from '../__generated__/resolvers-types.js';
import type { BookingEventType } from '../db/tables.js';

export type { BookingEventType };

/** What a booking looked like at an event (and, for a reschedule, just before it). */
export interface BookingSnapshot {
  status: BookingStatus;
  partnerId: string;
  startsAt: string;
  endsAt: string;
}

/** The data an event keeps: the booking right after the change, and what it changed from. */
export interface BookingEventData {
  booking: BookingSnapshot;
  /** Before a reschedule. */
  previous?: Pick<BookingSnapshot, 'partnerId' | 'startsAt' | 'endsAt'>;
  /** For PAYMENT_STATUS_CHANGED: the payment after the change, and its status before (null for a new payment). */
  payment?: { status: PaymentStatus; previousStatus: PaymentStatus | null; amountCents: number; currency: string; provider: string };
  /** For MESSAGE_POSTED: the message's id and who wrote it (`customer` or `business`), never its text. */
  message?: { id: string; senderSide: 'customer' | 'business' };
}

/**
 * A relayed booking event, as subscribers, the replay query and outbound webhooks see it.
 * `position` is its cursor: dense and increasing in the order events became visible.
 */
export interface BookingEventModel {
  id: string;
  position: string;
  type: BookingEventType;
  businessId: string;
  bookingId: string;
  paymentId: string | null;
  /** The booking's partner, then the previous one after a move to another partner. */
  partnerIds: string[];
  occurredAt: string;
  data: BookingEventData;
}

export interface BookingEventsPageModel {
  events: BookingEventModel[];
  endCursor: string | null;
  hasMore: boolean;
}
