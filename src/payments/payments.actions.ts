import { randomUUID } from 'node:crypto';
import { canSeeBooking, isStaffOf, requireSignedIn } from '../auth/access.js';
import { actorOf, type Viewer } from '../auth/viewer.js';
import { insertAuditLogs } from '../audit/audit.repository.js';
import type { BookingModel } from '../bookings/booking.model.js';
import { findBookingsByIds, lockBookingById } from '../bookings/bookings.repository.js';
import type { Db } from '../db/sql-helpers.js';
import type { Logger } from '../server/context.js';
import { forbidden } from '../shared/errors.js';
import { rawIdOf } from '../shared/global-id.js';
import { announce, type Change, type ChangeFeed } from '../shared/change-feed.js';
import { inTransaction } from '../shared/transaction.js';
import { insertPaymentEvent } from '../events/booking-events.repository.js';
import { abort, ok, runAction, userError, type ActionResult } from '../shared/user-errors.js';
import type { PaymentModel } from './payment.model.js';
import type { PaymentProvider, PaymentProviderRegistry } from './payment-provider.js';
import {
  findPaymentByProviderTxnId,
  findPaymentsByIds,
  hasSucceededPayment,
  insertPayment,
  lockPaymentById,
  updatePaymentStatus,
} from './payments.repository.js';

/**
 * Payment rules. A provider is called over the network, so its calls happen outside any database
 * transaction: before the insert when a payment starts (a refused or failed call leaves no row),
 * before the status change when a payment is refunded (the refund is idempotent toward the
 * provider, so a retry after a failed write never refunds twice).
 */

export interface PaymentServices {
  db: Db;
  providers: PaymentProviderRegistry;
  log: Logger;
  /** Told about committed payment changes (the outbox relay listens). */
  changes: ChangeFeed;
}

/** A payment's status changed: no partner's time did, so availability stays; the booking event relay runs. */
export function paymentChange(payment: PaymentModel): Change {
  return { action: 'payment.status_changed', businessId: payment.businessId, partnerIds: [], ranges: [], bookingIds: [payment.bookingId], availability: false };
}

export interface PaymentActionContext extends PaymentServices {
  viewer: Viewer;
}

/** Booking states a payment can be started for. */
const PAYABLE: readonly BookingModel['status'][] = ['PENDING', 'CONFIRMED'];

function providerOf(providers: PaymentProviderRegistry, name: string, field: string[]): PaymentProvider {
  const provider = providers.get(name);
  if (!provider) {
    const known = providers.names().map((n) => `"${n}"`).join(', ') || 'none';
    abort('PROVIDER_ERROR', `Expected a known payment provider (${known}), got "${name}".`, field);
  }
  return provider;
}

/** Refuses (aborts) a payment for a booking that is not live or is already paid. */
async function checkPayable(db: Db, booking: BookingModel): Promise<void> {
  if (!PAYABLE.includes(booking.status)) {
    abort('PAYMENT_NOT_ALLOWED', `Expected a pending or confirmed booking to pay for, got a ${booking.status.toLowerCase().replace('_', '-')} one.`, ['input', 'bookingId']);
  }
  if (await hasSucceededPayment(db, booking.id)) {
    abort('PAYMENT_NOT_ALLOWED', 'The booking is already paid: it has a succeeded payment.', ['input', 'bookingId']);
  }
}

// ---------------------------------------------------------------------------------------------
// paymentCreate

export interface CreatedPaymentResult {
  payment: PaymentModel;
  clientSecret: string;
}

export async function createPayment(
  ctx: PaymentActionContext,
  input: { bookingId: string; provider: string; idempotencyKey?: string | null },
): Promise<ActionResult<CreatedPaymentResult>> {
  requireSignedIn(ctx.viewer);
  if (ctx.viewer.role === 'PARTNER') throw forbidden('Expected the booking\'s customer, staff or an admin to start a payment, got a partner token.');

  // Checked before the provider is called, so a refused request starts nothing at the provider.
  const checked = await runAction(async () => {
    const id = rawIdOf(input.bookingId, 'Booking');
    const booking = id ? (await findBookingsByIds(ctx.db, [id]))[0] : undefined;
    if (!booking || !canSeeBooking(ctx.viewer, booking)) abort('NOT_FOUND', `No booking with ID "${input.bookingId}".`, ['input', 'bookingId']);
    await checkPayable(ctx.db, booking);
    return { booking, provider: providerOf(ctx.providers, input.provider, ['input', 'provider']) };
  });
  if (!checked.ok) return checked;
  const { booking, provider } = checked.value;

  // A client's idempotency key reaches the provider too: a retry after a lost answer gets the same
  // transaction back (and finds the row it made) instead of a second payment.
  const idempotencyKey = input.idempotencyKey ? `paymentCreate:${booking.id}:${input.idempotencyKey}` : randomUUID();
  let created;
  try {
    created = await provider.createPayment({ amountCents: booking.totalCents, currency: booking.currency, reference: booking.id, idempotencyKey });
  } catch (error) {
    ctx.log.error('A payment provider failed to start a payment', { provider: provider.name, bookingId: booking.id, message: (error as Error).message });
    return userError('PROVIDER_ERROR', `The payment provider "${provider.name}" did not answer; nothing was charged. Try again.`, ['input', 'provider']);
  }

  // If this transaction fails, the provider holds a payment nobody can complete: the client secret
  // is only handed out after the commit, and an unpaid intent lapses at the provider by itself.
  const result = await inTransaction(ctx.db, async (trx) => {
    const locked = await lockBookingById(trx, booking.id);
    if (!locked) abort('NOT_FOUND', `No booking with ID "${input.bookingId}".`, ['input', 'bookingId']);
    const earlier = await findPaymentByProviderTxnId(trx, provider.name, created.providerTxnId);
    if (earlier) return earlier;
    // Again under the booking's lock: it may have been cancelled or paid since the first check.
    await checkPayable(trx, locked);
    const payment = await insertPayment(trx, {
      businessId: locked.businessId,
      bookingId: locked.id,
      provider: provider.name,
      providerTxnId: created.providerTxnId,
      amountCents: locked.totalCents,
      currency: locked.currency,
    });
    await insertAuditLogs(trx, [{
      businessId: payment.businessId,
      entity: 'payment',
      entityId: payment.id,
      action: 'payment.created',
      actor: actorOf(ctx.viewer),
      changes: { after: { status: payment.status, bookingId: payment.bookingId, provider: payment.provider, providerTxnId: payment.providerTxnId, amountCents: payment.amountCents, currency: payment.currency } },
    }]);
    await insertPaymentEvent(trx, payment, null);
    return payment;
  });
  await announce(ctx.changes, result, paymentChange);
  return result.ok ? ok({ payment: result.value, clientSecret: created.clientSecret }) : result;
}

// ---------------------------------------------------------------------------------------------
// paymentRefund

export async function refundPaymentForStaff(ctx: PaymentActionContext, input: { paymentId: string }): Promise<ActionResult<PaymentModel>> {
  requireSignedIn(ctx.viewer);
  if (ctx.viewer.role !== 'STAFF' && ctx.viewer.role !== 'ADMIN') {
    throw forbidden(`Expected a staff or admin token to refund a payment, got a ${ctx.viewer.role.toLowerCase()} token.`);
  }
  const id = rawIdOf(input.paymentId, 'Payment');
  const payment = id ? (await findPaymentsByIds(ctx.db, [id]))[0] : undefined;
  if (!payment || !isStaffOf(ctx.viewer, payment.businessId)) return userError('NOT_FOUND', `No payment with ID "${input.paymentId}".`, ['input', 'paymentId']);
  return refundPayment(ctx, payment, actorOf(ctx.viewer), ['input', 'paymentId']);
}

/**
 * Refunds a succeeded payment in full through its provider, then records it. The provider answers
 * synchronously, so the payment is REFUNDED when this returns; the provider's later
 * `payment.refunded` event then finds nothing to change. If the write fails after the provider
 * refunded, that event records the refund.
 */
export async function refundPayment(services: PaymentServices, payment: PaymentModel, actor: string, field: string[] | null = null): Promise<ActionResult<PaymentModel>> {
  const at = field ?? undefined;
  if (payment.status !== 'SUCCEEDED') {
    return userError('PAYMENT_NOT_ALLOWED', `Expected a succeeded payment to refund, got a ${payment.status.toLowerCase()} one.`, at);
  }
  const provider = services.providers.get(payment.provider);
  if (!provider) return userError('PROVIDER_ERROR', `The payment's provider "${payment.provider}" is not configured here; nothing was refunded.`, at);
  let refund;
  try {
    // One key per payment: however often this runs (staff twice, staff and a cancellation), the
    // provider refunds once.
    refund = await provider.refund({ providerTxnId: payment.providerTxnId, amountCents: payment.amountCents, currency: payment.currency, idempotencyKey: `refund:${payment.id}` });
  } catch (error) {
    services.log.error('A payment provider failed to refund a payment', { provider: provider.name, paymentId: payment.id, message: (error as Error).message });
    return userError('PROVIDER_ERROR', `The payment provider "${provider.name}" did not answer; nothing was refunded. Try again.`, at);
  }
  let changed = false;
  const result = await inTransaction(services.db, async (trx) => {
    const before = await lockPaymentById(trx, payment.id);
    if (!before) throw new Error(`Payment ${payment.id} disappeared while it was refunded.`);
    // Recorded meanwhile by a concurrent refund or the provider's event: the refund is done once.
    if (before.status === 'REFUNDED') return before;
    if (before.status !== 'SUCCEEDED') abort('PAYMENT_NOT_ALLOWED', `Expected a succeeded payment to refund, got a ${before.status.toLowerCase()} one.`, at);
    const after = await updatePaymentStatus(trx, before.id, 'REFUNDED');
    await insertAuditLogs(trx, [{
      businessId: after.businessId,
      entity: 'payment',
      entityId: after.id,
      action: 'payment.refunded',
      actor,
      changes: { before: { status: before.status }, after: { status: after.status, amountRefundedCents: after.amountCents, refundId: refund.refundId } },
    }]);
    await insertPaymentEvent(trx, after, before.status);
    changed = true;
    return after;
  });
  await announce(services.changes, result, (after) => (changed ? paymentChange(after) : null));
  return result;
}
