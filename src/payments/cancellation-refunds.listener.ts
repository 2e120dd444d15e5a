import type { ChangeListener } from '../shared/change-feed.js';
import { refundPayment, type PaymentServices } from './payments.actions.js';
import { findRefundableCancelledPayments } from './payments.repository.js';

/** The audit actor of refunds this listener makes. */
export const CANCELLATION_REFUND_ACTOR = 'system:cancellation-refund';

/**
 * Refunds in full the succeeded payments of a booking cancelled at least its business's
 * `cancellation_window_minutes` before its start; a later cancellation refunds nothing. It listens
 * to the change feed, so the booking actions need not know about payments, and it runs after the
 * cancellation committed: a refund never holds the booking's transaction open across a network call.
 *
 * A failed refund (provider down) is logged with the payment id and does not undo the cancellation.
 * Nothing retries it automatically yet: staff can run `paymentRefund`, and a periodic sweep over
 * `findRefundableCancelledPayments` would. Either is safe to repeat, since the provider call carries
 * the idempotency key `refund:<paymentId>` and a refunded payment is skipped.
 */
export function cancellationRefundListener(services: PaymentServices): ChangeListener {
  return async (change) => {
    if (change.action !== 'booking.cancelled') return;
    const payments = await findRefundableCancelledPayments(services.db, change.bookingIds ?? []);
    for (const payment of payments) {
      const result = await refundPayment(services, payment, CANCELLATION_REFUND_ACTOR);
      if (!result.ok) {
        services.log.error('A cancellation refund failed; the payment is still succeeded', { paymentId: payment.id, bookingId: payment.bookingId, errors: result.errors.map((e) => e.message) });
      }
    }
  };
}
