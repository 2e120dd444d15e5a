import { randomUUID } from 'node:crypto';
import { canSeeBooking, isStaffOf } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import type { BookingModel } from '../bookings/booking.model.js';
import { findBookingsByIds, lockBookingById } from '../bookings/bookings.repository.js';
import type { Db } from '../db/sql-helpers.js';
import type { Logger } from '../shared/logger.js';
import type { Change, ChangeFeed } from '../shared/change-feed.js';
import { rawIdOf } from '../shared/global-id.js';
import { commitStep, type Step } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { abort, runAction, type ActionResult } from '../shared/user-errors.js';
import type { PaymentModel } from './payment.model.js';
import type { CreatedPayment, PaymentProvider, PaymentProviderRegistry, RefundResult } from './payment-provider.js';
import {
  findPaymentByProviderTxnId,
  findPaymentsByIds,
  hasSucceededPayment,
  insertPayment,
  lockPaymentById,
  updatePaymentStatus,
} from './payments.repository.js';

/**
 * Payment rules. A provider is called over the network, so its calls are the mutation's step
 * outside any database transaction: before the insert when a payment starts (a refused or failed
 * call leaves no row), before the status change when a payment is refunded (the refund is
 * idempotent toward the provider, so a retry after a failed write never refunds twice). What is
 * written afterwards is a step inside the transaction, which returns its audit entry and event.
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

export interface PaymentCreateInput {
  bookingId: string;
  provider: string;
}

/** A payment started at the provider, not yet recorded. */
export interface StartedPayment {
  booking: BookingModel;
  provider: PaymentProvider;
  created: CreatedPayment;
}

/**
 * Checks the booking, then asks the provider to start a payment: outside any transaction, so a
 * refused request starts nothing at the provider and a slow provider holds no connection.
 * The mutation's idempotency key (header or input) reaches the provider too: a retry after a lost
 * answer gets the same transaction back (and finds the row it made) instead of a second payment.
 */
export async function startPayment(db: Db, services: Pick<PaymentServices, 'providers' | 'log'>, viewer: Viewer, input: PaymentCreateInput, idempotencyKey: string | null): Promise<StartedPayment> {
  const id = rawIdOf(input.bookingId, 'Booking');
  const booking = id ? (await findBookingsByIds(db, [id]))[0] : undefined;
  if (!booking || !canSeeBooking(viewer, booking)) abort('NOT_FOUND', `No booking with ID "${input.bookingId}".`, ['input', 'bookingId']);
  await checkPayable(db, booking);
  const provider = providerOf(services.providers, input.provider, ['input', 'provider']);
  const providerKey = idempotencyKey ? `paymentCreate:${booking.id}:${idempotencyKey}` : randomUUID();
  try {
    const created = await provider.createPayment({ amountCents: booking.totalCents, currency: booking.currency, reference: booking.id, idempotencyKey: providerKey });
    return { booking, provider, created };
  } catch (error) {
    services.log.error('A payment provider failed to start a payment', { provider: provider.name, bookingId: booking.id, message: (error as Error).message });
    return abort('PROVIDER_ERROR', `The payment provider "${provider.name}" did not answer; nothing was charged. Try again.`, ['input', 'provider']);
  }
}

/**
 * Records a started payment, under the booking's lock. If this fails, the provider holds a payment
 * nobody can complete: the client secret is only handed out after the commit, and an unpaid intent
 * lapses at the provider by itself.
 */
export async function recordStartedPayment(trx: Trx, { booking, provider, created }: StartedPayment, input: PaymentCreateInput): Promise<Step<CreatedPaymentResult>> {
  const locked = await lockBookingById(trx, booking.id);
  if (!locked) abort('NOT_FOUND', `No booking with ID "${input.bookingId}".`, ['input', 'bookingId']);
  const earlier = await findPaymentByProviderTxnId(trx, provider.name, created.providerTxnId);
  if (earlier) return { value: { payment: earlier, clientSecret: created.clientSecret } };
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
  return {
    value: { payment, clientSecret: created.clientSecret },
    changes: [paymentChange(payment)],
    events: [{ type: 'PAYMENT_STATUS_CHANGED', payment, previousStatus: null }],
    audit: [{
      businessId: payment.businessId,
      entity: 'payment',
      entityId: payment.id,
      action: 'payment.created',
      changes: { after: { status: payment.status, bookingId: payment.bookingId, provider: payment.provider, providerTxnId: payment.providerTxnId, amountCents: payment.amountCents, currency: payment.currency } },
    }],
  };
}

// ---------------------------------------------------------------------------------------------
// paymentRefund

/** A payment staff may refund: of their business (an admin's: any); any other reads NOT_FOUND. */
export async function findPaymentForStaff(db: Db, viewer: Viewer, input: { paymentId: string }): Promise<PaymentModel> {
  const id = rawIdOf(input.paymentId, 'Payment');
  const payment = id ? (await findPaymentsByIds(db, [id]))[0] : undefined;
  if (!payment || !isStaffOf(viewer, payment.businessId)) abort('NOT_FOUND', `No payment with ID "${input.paymentId}".`, ['input', 'paymentId']);
  return payment;
}

/**
 * Refunds a succeeded payment in full through its provider: the step outside the transaction. One
 * key per payment: however often this runs (staff twice, staff and a cancellation), the provider
 * refunds once.
 */
export async function refundAtProvider(services: Pick<PaymentServices, 'providers' | 'log'>, payment: PaymentModel, field: string[] | null = null): Promise<RefundResult> {
  const at = field ?? undefined;
  if (payment.status !== 'SUCCEEDED') abort('PAYMENT_NOT_ALLOWED', `Expected a succeeded payment to refund, got a ${payment.status.toLowerCase()} one.`, at);
  const provider = services.providers.get(payment.provider);
  if (!provider) abort('PROVIDER_ERROR', `The payment's provider "${payment.provider}" is not configured here; nothing was refunded.`, at);
  try {
    return await provider.refund({ providerTxnId: payment.providerTxnId, amountCents: payment.amountCents, currency: payment.currency, idempotencyKey: `refund:${payment.id}` });
  } catch (error) {
    services.log.error('A payment provider failed to refund a payment', { provider: provider.name, paymentId: payment.id, message: (error as Error).message });
    return abort('PROVIDER_ERROR', `The payment provider "${provider.name}" did not answer; nothing was refunded. Try again.`, at);
  }
}

/**
 * Records a refund the provider made. The provider answers synchronously, so the payment is
 * REFUNDED when this commits; the provider's later `payment.refunded` event then finds nothing to
 * change. If this write fails after the provider refunded, that event records the refund.
 */
export async function recordRefund(trx: Trx, payment: PaymentModel, refund: RefundResult, field: string[] | null = null): Promise<Step<PaymentModel>> {
  const before = await lockPaymentById(trx, payment.id);
  if (!before) throw new Error(`Payment ${payment.id} disappeared while it was refunded.`);
  // Recorded meanwhile by a concurrent refund or the provider's event: the refund is done once.
  if (before.status === 'REFUNDED') return { value: before };
  if (before.status !== 'SUCCEEDED') abort('PAYMENT_NOT_ALLOWED', `Expected a succeeded payment to refund, got a ${before.status.toLowerCase()} one.`, field ?? undefined);
  const after = await updatePaymentStatus(trx, before.id, 'REFUNDED');
  return {
    value: after,
    changes: [paymentChange(after)],
    events: [{ type: 'PAYMENT_STATUS_CHANGED', payment: after, previousStatus: before.status }],
    audit: [{
      businessId: after.businessId,
      entity: 'payment',
      entityId: after.id,
      action: 'payment.refunded',
      changes: { before: { status: before.status }, after: { status: after.status, amountRefundedCents: after.amountCents, refundId: refund.refundId } },
    }],
  };
}

/** Refunds a payment outside any request (a cancellation's refund): the provider first, then the record, as `actor`. */
export async function refundPayment(services: PaymentServices, payment: PaymentModel, actor: string): Promise<ActionResult<PaymentModel>> {
  const refund = await runAction(() => refundAtProvider(services, payment));
  if (!refund.ok) return refund;
  return commitStep(services, actor, (trx) => recordRefund(trx, payment, refund.value));
}
