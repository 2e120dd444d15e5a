import type { PaymentStatus } from '../__generated__/resolvers-types.js';
import { transitionBooking } from '../bookings/bookings.actions.js';
import { lockBookingById } from '../bookings/bookings.repository.js';
import type { Db } from '../db/sql-helpers.js';
import type { Logger } from '../shared/logger.js';
import type { ChangeFeed } from '../shared/change-feed.js';
import { combine, commitStep, type Step } from '../shared/mutation.js';
import type { PaymentEvent, PaymentEventType } from './payment-provider.js';
import { recordProcessedEvent } from './processed-payment-events.repository.js';
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

/**
 * A succeeded payment confirms its pending booking through the bookings domain's own step, so the
 * confirmation is the same rule (and the same audit entry, event and announcement) as a
 * `bookingConfirm`'s, done by the provider.
 */
export async function applyPaymentEvent(services: WebhookServices, provider: string, event: PaymentEvent): Promise<WebhookOutcome> {
  const result = await commitStep(services, `provider:${provider}`, async (trx): Promise<Step<WebhookOutcome>> => {
    if (!(await recordProcessedEvent(trx, { provider, eventId: event.id, type: event.type }))) return { value: 'duplicate' };
    const before = await lockPaymentByProviderTxnId(trx, provider, event.providerTxnId);
    if (!before) return { value: 'unknown_payment' };
    const to = TARGET[event.type];
    if (PRECEDENCE[to] <= PRECEDENCE[before.status]) return { value: 'unchanged' };

    const after = await updatePaymentStatus(trx, before.id, to);
    const changed = {
      events: [{ type: 'PAYMENT_STATUS_CHANGED' as const, payment: after, previousStatus: before.status }],
      audit: [{
        businessId: after.businessId,
        entity: 'payment' as const,
        entityId: after.id,
        action: `payment.${to.toLowerCase()}`,
        changes: { before: { status: before.status }, after: { status: after.status }, eventId: event.id, eventAmountCents: event.amountCents },
      }],
    };
    if (to !== 'SUCCEEDED') return { value: 'applied', ...changed, changes: [paymentChange(after)] };
    if (event.amountCents !== null && event.amountCents !== after.amountCents) {
      services.log.error('A payment succeeded with another amount than was asked for', { provider, paymentId: after.id, expected: after.amountCents, got: event.amountCents });
    }
    const booking = await lockBookingById(trx, after.bookingId);
    if (booking && booking.status === 'PENDING') {
      // The payment's event shows the booking as the payment found it, before the confirmation
      // (the insert of a payment event alone would read the booking as it is when written).
      const paid = { ...changed, events: [{ type: 'PAYMENT_STATUS_CHANGED' as const, booking, payment: { after, previousStatus: before.status } }] };
      // The confirmation's change also runs the relay, so the payment's own is not announced.
      const confirmed = await transitionBooking(trx, booking, 'CONFIRMED', { note: { paymentId: after.id } });
      return { value: 'applied', ...combine(paid, confirmed) };
    }
    if (booking && booking.status !== 'CONFIRMED') {
      // Money taken for a booking that is no longer live (cancelled while the customer paid).
      services.log.error('A payment succeeded for a booking that is not live; it may need a refund', { provider, paymentId: after.id, bookingId: booking.id, bookingStatus: booking.status });
    }
    return { value: 'applied', ...changed, changes: [paymentChange(after)] };
  });
  if (!result.ok) throw new Error(`Applying a payment event was refused: ${result.errors.map((e) => e.message).join(' ')}`);
  return result.value;
}
