import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, tokensFor, loggedErrors, type TestApi } from '../support/api.js';
import { auditRows, bookingState, businessState, createBusiness, createPayment, paymentRow, setCancellationWindow } from '../support/builders.js';
import { bookingScene, deliver, PAYMENT_REFUND, testProviderOf } from './payment-scene.js';

describe('Refunds: paymentRefund and cancellation refunds', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  /** A booking in `status` with a payment in `paymentStatus` (made by the builder: provider `test`). */
  async function scene(status: 'pending' | 'confirmed' = 'confirmed', paymentStatus: 'pending' | 'succeeded' | 'failed' | 'refunded' = 'succeeded') {
    const s = await bookingScene(api, status);
    const payment = await createPayment(api.db, { business: s.business, booking: s.booking, amountCents: s.service.priceCents, status: paymentStatus });
    return { ...s, payment };
  }
  const refundsOf = (paymentId: string) => testProviderOf(api).refunds.filter((r) => r.idempotencyKey === `refund:${paymentId}`);
  const refund = (paymentGid: string, token: string | undefined) => api.gql(PAYMENT_REFUND, { input: { paymentId: paymentGid } }, { token });

  describe('paymentRefund', () => {
    it('refunds a succeeded payment through the provider once and records it: REFUNDED, the amount, one audit row', async () => {
      const s = await scene();
      const res = await refund(s.payment.gid, s.tokens.staff);
      expect(res.errors).toBeUndefined();
      expect(res.data.paymentRefund).toMatchObject({ payment: { id: s.payment.gid, status: 'REFUNDED', booking: { status: 'CONFIRMED' } }, userErrors: [] });
      expect(await paymentRow(api.db, s.payment.id)).toMatchObject({ status: 'refunded', amountRefundedCents: s.service.priceCents, refundedAt: expect.any(String) });
      const [made] = refundsOf(s.payment.id);
      expect(refundsOf(s.payment.id)).toHaveLength(1);
      expect(made).toMatchObject({ amountCents: s.service.priceCents, currency: s.business.currency });
      expect(await auditRows(api.db, s.payment.id, 'payment')).toEqual([
        { businessId: s.business.id, entity: 'payment', action: 'payment.refunded', actor: 'staff:staff-1', changes: { before: { status: 'SUCCEEDED' }, after: { status: 'REFUNDED', amountRefundedCents: s.service.priceCents, refundId: made.refundId } } },
      ]);
    });

    it('finds nothing left to do when the provider’s payment.refunded event follows', async () => {
      const s = await scene();
      await refund(s.payment.gid, s.tokens.admin);
      const before = await businessState(api.db, s.business.id);
      const { providerTxnId } = (await paymentRow(api.db, s.payment.id))!;
      const res = await deliver(api, testProviderOf(api).signedEvent({ type: 'payment.refunded', txnId: providerTxnId }));
      expect(res).toEqual({ status: 200, body: { received: true, outcome: 'unchanged' } });
      expect(await businessState(api.db, s.business.id)).toEqual(before);
    });

    for (const status of ['pending', 'failed', 'refunded'] as const) {
      it(`refuses a ${status} payment with PAYMENT_NOT_ALLOWED and calls no provider`, async () => {
        const s = await scene('confirmed', status);
        const res = await refund(s.payment.gid, s.tokens.staff);
        expect(res.data.paymentRefund).toEqual({ payment: null, userErrors: [{ field: ['input', 'paymentId'], message: expect.any(String), code: 'PAYMENT_NOT_ALLOWED' }] });
        expect(refundsOf(s.payment.id)).toEqual([]);
        expect(await paymentRow(api.db, s.payment.id)).toMatchObject({ status });
      });
    }

    it('refunds once when asked twice: the second answer is PAYMENT_NOT_ALLOWED', async () => {
      const s = await scene();
      await refund(s.payment.gid, s.tokens.staff);
      const again = await refund(s.payment.gid, s.tokens.staff);
      expect(again.data.paymentRefund.userErrors.map((e: { code: string }) => e.code)).toEqual(['PAYMENT_NOT_ALLOWED']);
      expect(refundsOf(s.payment.id)).toHaveLength(1);
      expect((await auditRows(api.db, s.payment.id, 'payment')).map((r) => r.action)).toEqual(['payment.refunded']);
    });

    it('answers a retry with the same idempotency key with the first result, refunding once', async () => {
      const s = await scene();
      const input = { paymentId: s.payment.gid, idempotencyKey: 'refund-once-1' };
      const first = await api.gql(PAYMENT_REFUND, { input }, { token: s.tokens.staff });
      const again = await api.gql(PAYMENT_REFUND, { input }, { token: s.tokens.staff });
      expect(again.data.paymentRefund).toEqual(first.data.paymentRefund);
      expect(again.data.paymentRefund).toMatchObject({ payment: { status: 'REFUNDED' }, userErrors: [] });
      expect(refundsOf(s.payment.id)).toHaveLength(1);
    });

    it('answers PROVIDER_ERROR and keeps the payment SUCCEEDED when the provider fails', async () => {
      const s = await scene();
      testProviderOf(api).failNext('refund');
      const res = await refund(s.payment.gid, s.tokens.staff);
      expect(res.data.paymentRefund.userErrors.map((e: { code: string }) => e.code)).toEqual(['PROVIDER_ERROR']);
      expect(await paymentRow(api.db, s.payment.id)).toMatchObject({ status: 'succeeded', amountRefundedCents: 0 });
      expect(await auditRows(api.db, s.payment.id, 'payment')).toEqual([]);
    });

    it('is for staff and admins: customers and partners are FORBIDDEN, staff of another business get NOT_FOUND', async () => {
      const s = await scene();
      for (const token of [s.tokens.customer, s.tokens.partner]) {
        expect((await refund(s.payment.gid, token)).errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      }
      const otherStaff = (await tokensFor(api, { businessGid: (await createBusiness(api.db)).gid })).staff;
      expect((await refund(s.payment.gid, otherStaff)).data.paymentRefund.userErrors.map((e: { code: string }) => e.code)).toEqual(['NOT_FOUND']);
      expect(refundsOf(s.payment.id)).toEqual([]);
      expect(await paymentRow(api.db, s.payment.id)).toMatchObject({ status: 'succeeded' });
    });
  });

  describe('cancellation', () => {
    const CANCEL = 'mutation($input: BookingCancelInput!) { bookingCancel(input: $input) { booking { status payments { status } } userErrors { code } } }';

    it('refunds the succeeded payments of a booking cancelled at least the cancellation window before its start', async () => {
      const s = await scene();
      const failed = await createPayment(api.db, { business: s.business, booking: s.booking, status: 'failed' });
      await setCancellationWindow(api.db, s.business, 60); // the booking starts tomorrow at 09:00 UTC, more than an hour away
      const res = await api.gql(CANCEL, { input: { bookingId: s.booking.gid } }, { token: s.tokens.customer });
      expect(res.data.bookingCancel).toEqual({ booking: { status: 'CANCELLED', payments: [{ status: 'REFUNDED' }, { status: 'FAILED' }] }, userErrors: [] });
      expect(refundsOf(s.payment.id)).toHaveLength(1);
      expect(refundsOf(failed.id)).toEqual([]);
      expect(await auditRows(api.db, s.payment.id, 'payment')).toMatchObject([{ action: 'payment.refunded', actor: 'system:cancellation-refund' }]);
    });

    it('refunds nothing when the booking is cancelled later than the window', async () => {
      const s = await scene();
      await setCancellationWindow(api.db, s.business, 43_200); // 30 days
      const res = await api.gql(CANCEL, { input: { bookingId: s.booking.gid } }, { token: s.tokens.customer });
      expect(res.data.bookingCancel.booking).toEqual({ status: 'CANCELLED', payments: [{ status: 'SUCCEEDED' }] });
      expect(refundsOf(s.payment.id)).toEqual([]);
      expect(await auditRows(api.db, s.payment.id, 'payment')).toEqual([]);
    });

    it('keeps the cancellation when the refund fails, and logs the payment for a retry', async () => {
      const s = await scene();
      await setCancellationWindow(api.db, s.business, 60);
      testProviderOf(api).failNext('refund');
      const logged = loggedErrors.length;
      const res = await api.gql(CANCEL, { input: { bookingId: s.booking.gid } }, { token: s.tokens.staff });
      expect(res.data.bookingCancel.booking).toEqual({ status: 'CANCELLED', payments: [{ status: 'SUCCEEDED' }] });
      expect((await bookingState(api.db, s.booking.id)).booking?.status).toBe('cancelled');
      expect(loggedErrors.slice(logged).map((e) => e.message)).toContain('A cancellation refund failed; the payment is still succeeded');
      // The retry is staff's paymentRefund, safe to repeat.
      expect((await refund(s.payment.gid, s.tokens.staff)).data.paymentRefund.payment.status).toBe('REFUNDED');
      expect(refundsOf(s.payment.id)).toHaveLength(1);
    });
  });
});
