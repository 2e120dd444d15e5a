import type { PaymentStatus } from '../__generated__/resolvers-types.js';
import { insertAuditLogs, type AuditEntry } from '../audit/audit.repository.js';
import type { BookingModel } from '../bookings/booking.model.js';
import { canTransition } from '../bookings/booking-state-machine.js';
import { lockBookingById, updateBookingStatus } from '../bookings/bookings.repository.js';
import type { Db } from '../db/sql-helpers.js';
import type { Logger } from '../server/context.js';
import type { ChangeFeed } from '../shared/change-feed.js';
import type { PaymentEvent, PaymentEventType } from './payment-provider.js';
import { insertBookingEvents, insertPaymentEvent } from '../events/booking-events.repository.js';
import { recordProcessedEvent } from './processed-payment-events.repository.js';
import type { PaymentModel } from './payment.model.js';
import { paymentChange } from './payments.actions.js';
import { lockPaymentByProviderTxnId, updatePaymentStatus } from './payments.repository.js';

/**
 * Applies a verified provider event, once.
 *
 * Deduplication is twofold. The event id goes into processed_payment_events in the same
 * transaction as its effect: a replay finds it, and a concurrent duplicate waits on the first
 * one's row lock and then finds it (or, if the first rolled back, applies it itself). And the
 * payment's status only moves forward (PENDING < FAILED < SUCCEEDED < REFUNDED): another event
 * with the same effect on the same (provider, provider_txn_id) changes nothing, and events that
 * arrive out of order end in the right state. REFUNDED is final: a `payment.succeeded` arriving
 * after the refund changes nothing, so it never confirms the booking of a refunded payment; a
 * refund arriving before the success leaves a pending booking pending.
 */

export type WebhookOutcome =
  /** The event changed the payment (and maybe confirmed its booking). */
  | 'applied'
  /** The event id was processed before. */
  | 'duplicate'
  /** The payment is already at or past the event's state. */
  | 'unchanged'
  /** No payment has the event's transaction id. */
  | 'unknown_payment';

const TARGET: Record<PaymentEventType, PaymentStatus> = {
  'payment.succeeded': 'SUCCEEDED',
  'payment.failed': 'FAILED',
  'payment.refunded': 'REFUNDED',
};

const PRECEDENCE: Record<PaymentStatus, number> = { PENDING: 0, FAILED: 1, SUCCEEDED: 2, REFUNDED: 3 };

export interface WebhookServices {
  db: Db;
  changes: ChangeFeed;
  log: Logger;
}

export async function applyPaymentEvent(services: WebhookServices, provider: string, event: PaymentEvent): Promise<WebhookOutcome> {
  const actor = `provider:${provider}`;
  let confirmed: BookingModel | null = null;
  let changedPayment: PaymentModel | null = null;
  const outcome = await services.db.transaction().execute(async (trx): Promise<WebhookOutcome> => {
    if (!(await recordProcessedEvent(trx, { provider, eventId: event.id, type: event.type }))) return 'duplicate';
    const before = await lockPaymentByProviderTxnId(trx, provider, event.providerTxnId);
    if (!before) return 'unknown_payment';
    const to = TARGET[event.type];
    if (PRECEDENCE[to] <= PRECEDENCE[before.status]) return 'unchanged';

    const after = await updatePaymentStatus(trx, before.id, to);
    changedPayment = after;
    await insertPaymentEvent(trx, after, before.status);
    const entries: AuditEntry[] = [{
      businessId: after.businessId,
      entity: 'payment',
      entityId: after.id,
      action: `payment.${to.toLowerCase()}`,
      actor,
      changes: { before: { status: before.status }, after: { status: after.status }, eventId: event.id, eventAmountCents: event.amountCents },
    }];
    if (to === 'SUCCEEDED' && event.amountCents !== null && event.amountCents !== after.amountCents) {
      services.log.error('A payment succeeded with another amount than was asked for', { provider, paymentId: after.id, expected: after.amountCents, got: event.amountCents });
    }
    if (to === 'SUCCEEDED') {
      const booking = await lockBookingById(trx, after.bookingId);
      if (booking && booking.status === 'PENDING' && canTransition(booking.status, 'CONFIRMED')) {
        confirmed = await updateBookingStatus(trx, booking.id, 'CONFIRMED');
        await insertBookingEvents(trx, [{ type: 'BOOKING_CONFIRMED', booking: confirmed }]);
        entries.push({
          businessId: booking.businessId,
          entity: 'booking',
          entityId: booking.id,
          action: 'booking.confirmed',
          actor,
          changes: { before: { status: booking.status }, after: { status: confirmed.status }, paymentId: after.id },
        });
      } else if (booking && booking.status !== 'CONFIRMED') {
        // Money taken for a booking that is no longer live (cancelled while the customer paid).
        services.log.error('A payment succeeded for a booking that is not live; it may need a refund', { provider, paymentId: after.id, bookingId: booking.id, bookingStatus: booking.status });
      }
    }
    await insertAuditLogs(trx, entries);
    return 'applied';
  });
  const booking = confirmed as BookingModel | null;
  const payment = changedPayment as PaymentModel | null;
  // The confirmation's change below also runs the relay; a payment change alone announces itself.
  if (payment && !booking) await services.changes.publish(paymentChange(payment));
  if (booking) {
    await services.changes.publish({
      action: 'booking.confirmed',
      businessId: booking.businessId,
      partnerIds: [booking.partnerId],
      ranges: [{ startsAt: booking.startsAt, endsAt: booking.endsAt }],
      bookingIds: [booking.id],
    });
  }
  return outcome;
}
