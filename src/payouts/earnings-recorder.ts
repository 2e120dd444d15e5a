import type { BookingEventModel } from '../events/booking-event.model.js';
import type { PositionedHook } from '../events/outbox-relay.js';
import { insertCaptureEarnings, insertRefundEarnings } from './earnings.repository.js';

/**
 * The outbox relay's hook that records partners' earnings from payment events, in the transaction
 * that gives the events their positions (as the webhook fan-out does). Why there and not in the
 * capture's own transaction: every path that changes a payment (a provider's webhook, a refund by
 * staff, a cancellation's refund, and any later one) already writes its PAYMENT_STATUS_CHANGED
 * event in its transaction, so reading the events covers them all without the payments domain
 * knowing about payouts; and an event is positioned exactly once, by whichever process relays it,
 * so each earning is written exactly once (the unique source_event_id guards it as well). The cost:
 * an earning appears when the relay runs, right after the payment's commit (kicked by it) or at
 * the latest one EVENT_RELAY_INTERVAL_MS later.
 */
export const recordPartnerEarnings: PositionedHook = async (trx, events) => {
  const captures: string[] = [];
  // The last refund event of each payment in this batch: a refund's reversal is computed from the
  // amount refunded so far, so two of one payment in one statement would both give it back.
  const refunds = new Map<string, string>();
  for (const event of events) {
    const change = paymentChangeOf(event);
    if (change === 'captured') captures.push(event.id);
    else if (change === 'refunded') refunds.set(event.paymentId!, event.id);
  }
  if (captures.length) await insertCaptureEarnings(trx, captures);
  if (refunds.size) await insertRefundEarnings(trx, [...refunds.values()]);
};

function paymentChangeOf(event: BookingEventModel): 'captured' | 'refunded' | null {
  const payment = event.type === 'PAYMENT_STATUS_CHANGED' && event.paymentId ? event.data.payment : undefined;
  if (!payment || payment.status === payment.previousStatus) return null;
  if (payment.status === 'SUCCEEDED') return 'captured';
  if (payment.status === 'REFUNDED') return 'refunded';
  return null;
}
