import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneProcessedEvents } from '../../src/payments/processed-payment-events.repository.js';
import { signatureHeader } from '../../src/shared/webhook-signature.js';
import { DEVELOPMENT_PAYMENT_WEBHOOK_SECRET } from '../../src/config.js';
import { loggedErrors, startTestApi, type TestApi } from '../support/api.js';
import { auditRows, bookingState, businessState, createProcessedPaymentEvent, paymentRow } from '../support/builders.js';
import { bookingScene, deliver, startPayment, testProviderOf } from './payment-scene.js';

describe('POST /webhooks/payments/:provider', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  /** A pending booking with a pending payment started by its customer. */
  async function scene() {
    const s = await bookingScene(api, 'pending');
    return { ...s, payment: await startPayment(api, s) };
  }

  const processedEvents = (eventId: string) => api.db.selectFrom('processed_payment_events').selectAll().where('event_id', '=', eventId).execute();

  it('confirms the pending booking on payment.succeeded: payment SUCCEEDED, booking CONFIRMED, audit rows by the provider, the partner count unchanged', async () => {
    const s = await scene();
    const event = testProviderOf(api).signedEvent({ type: 'payment.succeeded', txnId: s.payment.txnId, amountCents: s.service.priceCents });
    expect(await deliver(api, event)).toEqual({ status: 200, body: { received: true, outcome: 'applied' } });

    expect(await paymentRow(api.db, s.payment.id)).toMatchObject({ status: 'succeeded' });
    const state = await bookingState(api.db, s.booking.id);
    expect(state.booking?.status).toBe('confirmed');
    expect(state.partnerActiveCount).toBe(1);
    expect(await auditRows(api.db, s.payment.id, 'payment')).toMatchObject([
      { action: 'payment.created', actor: 'customer:customer-1' },
      { action: 'payment.succeeded', actor: 'provider:test', changes: { before: { status: 'PENDING' }, after: { status: 'SUCCEEDED' }, eventId: event.eventId } },
    ]);
    expect(await auditRows(api.db, s.booking.id)).toEqual([
      { businessId: s.business.id, entity: 'booking', action: 'booking.confirmed', actor: 'provider:test', changes: { before: { status: 'PENDING' }, after: { status: 'CONFIRMED' }, paymentId: s.payment.id } },
    ]);
  });

  it('costs a fixed handful of statements: 7 to apply a failure, 3 for a duplicate', async () => {
    const s = await scene();
    const event = testProviderOf(api).signedEvent({ type: 'payment.failed', txnId: s.payment.txnId });
    // BEGIN, record the event, lock the payment, update it, write its booking event, write the audit row, COMMIT
    expect((await api.countStatements(() => deliver(api, event))).statements).toBe(7);
    // BEGIN, record the event (already there: nothing else runs), COMMIT
    expect((await api.countStatements(() => deliver(api, event))).statements).toBe(3);
  });

  it('leaves the booking pending on payment.failed', async () => {
    const s = await scene();
    const res = await deliver(api, testProviderOf(api).signedEvent({ type: 'payment.failed', txnId: s.payment.txnId }));
    expect(res).toEqual({ status: 200, body: { received: true, outcome: 'applied' } });
    expect(await paymentRow(api.db, s.payment.id)).toMatchObject({ status: 'failed' });
    expect((await bookingState(api.db, s.booking.id)).booking?.status).toBe('pending');
    expect(await auditRows(api.db, s.booking.id)).toEqual([]);
  });

  it('applies the same event delivered 100 times at once exactly once: all 2xx, one transition, one audit row each', async () => {
    const s = await scene();
    const event = testProviderOf(api).signedEvent({ type: 'payment.succeeded', txnId: s.payment.txnId });
    const responses = await Promise.all(Array.from({ length: 100 }, () => deliver(api, event)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const outcomes = responses.map((r) => r.body.outcome);
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(99);
    expect((await auditRows(api.db, s.payment.id, 'payment')).map((r) => r.action)).toEqual(['payment.created', 'payment.succeeded']);
    expect((await auditRows(api.db, s.booking.id)).map((r) => r.action)).toEqual(['booking.confirmed']);
    expect((await bookingState(api.db, s.booking.id)).booking?.status).toBe('confirmed');
    expect(await processedEvents(event.eventId)).toHaveLength(1);
  });

  it('acknowledges a re-signed retry of an applied event (same id, new timestamp) and changes nothing', async () => {
    const s = await scene();
    const provider = testProviderOf(api);
    const now = Math.floor(Date.now() / 1000);
    const first = provider.signedEvent({ type: 'payment.succeeded', txnId: s.payment.txnId, timestamp: now - 120 });
    expect((await deliver(api, first)).body.outcome).toBe('applied');
    const before = await businessState(api.db, s.business.id);
    const payment = await paymentRow(api.db, s.payment.id);

    const retry = provider.signedEvent({ type: 'payment.succeeded', txnId: s.payment.txnId, eventId: first.eventId, timestamp: now });
    expect(retry.headers['payment-signature']).not.toBe(first.headers['payment-signature']);
    expect(await deliver(api, retry)).toEqual({ status: 200, body: { received: true, outcome: 'duplicate' } });
    expect(await businessState(api.db, s.business.id)).toEqual(before);
    expect(await paymentRow(api.db, s.payment.id)).toEqual(payment);
  });

  it('changes nothing for another event with the same effect on the same transaction', async () => {
    const s = await scene();
    const provider = testProviderOf(api);
    await deliver(api, provider.signedEvent({ type: 'payment.succeeded', txnId: s.payment.txnId }));
    const before = await businessState(api.db, s.business.id);
    expect((await deliver(api, provider.signedEvent({ type: 'payment.succeeded', txnId: s.payment.txnId }))).body.outcome).toBe('unchanged');
    expect(await businessState(api.db, s.business.id)).toEqual(before);
  });

  it('ends REFUNDED when the refund arrives before the success, and never confirms the booking', async () => {
    const s = await scene();
    const provider = testProviderOf(api);
    expect((await deliver(api, provider.signedEvent({ type: 'payment.refunded', txnId: s.payment.txnId }))).body.outcome).toBe('applied');
    expect((await deliver(api, provider.signedEvent({ type: 'payment.succeeded', txnId: s.payment.txnId }))).body.outcome).toBe('unchanged');
    expect(await paymentRow(api.db, s.payment.id)).toMatchObject({ status: 'refunded', amountRefundedCents: s.service.priceCents });
    expect((await bookingState(api.db, s.booking.id)).booking?.status).toBe('pending');
    expect((await auditRows(api.db, s.payment.id, 'payment')).map((r) => r.action)).toEqual(['payment.created', 'payment.refunded']);
    expect(await auditRows(api.db, s.booking.id)).toEqual([]);
  });

  it('moves a failed payment to succeeded when the provider retries the charge, and ignores a late failure after success', async () => {
    const s = await scene();
    const provider = testProviderOf(api);
    await deliver(api, provider.signedEvent({ type: 'payment.failed', txnId: s.payment.txnId }));
    expect((await deliver(api, provider.signedEvent({ type: 'payment.succeeded', txnId: s.payment.txnId }))).body.outcome).toBe('applied');
    expect((await deliver(api, provider.signedEvent({ type: 'payment.failed', txnId: s.payment.txnId }))).body.outcome).toBe('unchanged');
    expect(await paymentRow(api.db, s.payment.id)).toMatchObject({ status: 'succeeded' });
    expect((await bookingState(api.db, s.booking.id)).booking?.status).toBe('confirmed');
  });

  describe('refusals write nothing', () => {
    async function expectRefused(s: Awaited<ReturnType<typeof scene>>, request: { headers: Record<string, string>; body: string }, eventId: string, status = 400) {
      const before = await businessState(api.db, s.business.id);
      const payment = await paymentRow(api.db, s.payment.id);
      const res = await deliver(api, request);
      expect(res.status).toBe(status);
      expect(res.body.error).toEqual(expect.any(String));
      expect(await processedEvents(eventId)).toEqual([]);
      expect(await paymentRow(api.db, s.payment.id)).toEqual(payment);
      expect(await businessState(api.db, s.business.id)).toEqual(before);
      return res;
    }

    it('refuses a signature made with another secret (400)', async () => {
      const s = await scene();
      const event = testProviderOf(api).signedEvent({ type: 'payment.succeeded', txnId: s.payment.txnId });
      const forged = { ...event, headers: { ...event.headers, 'payment-signature': signatureHeader('not-the-secret', Math.floor(Date.now() / 1000), event.body) } };
      const res = await expectRefused(s, forged, event.eventId);
      expect(res.body.error).toMatch(/does not match/);
    });

    it('refuses a body changed after signing (400)', async () => {
      const s = await scene();
      const event = testProviderOf(api).signedEvent({ type: 'payment.failed', txnId: s.payment.txnId });
      await expectRefused(s, { ...event, body: event.body.replace('payment.failed', 'payment.succeeded') }, event.eventId);
    });

    it('refuses a request without a signature or with a malformed one (400)', async () => {
      const s = await scene();
      const event = testProviderOf(api).signedEvent({ type: 'payment.succeeded', txnId: s.payment.txnId });
      await expectRefused(s, { headers: { 'content-type': 'application/json' }, body: event.body }, event.eventId);
      await expectRefused(s, { headers: { ...event.headers, 'payment-signature': 'v1=abc' }, body: event.body }, event.eventId);
    });

    it('refuses a correctly signed event older than the tolerance (400)', async () => {
      const s = await scene();
      const event = testProviderOf(api).signedEvent({ type: 'payment.succeeded', txnId: s.payment.txnId, timestamp: Math.floor(Date.now() / 1000) - 301 });
      const res = await expectRefused(s, event, event.eventId);
      expect(res.body.error).toMatch(/within 300 s/);
    });

    it('refuses a signed event that is not one (400)', async () => {
      const s = await scene();
      const body = JSON.stringify({ id: 'evt_x', type: 'payment.stolen', data: { provider_txn_id: s.payment.txnId } });
      const t = Math.floor(Date.now() / 1000);
      await expectRefused(s, { headers: { 'payment-signature': signatureHeader(DEVELOPMENT_PAYMENT_WEBHOOK_SECRET, t, body) }, body }, 'evt_x');
    });

    it('answers 404 for an unknown provider, 405 for another method and 413 for an oversized body', async () => {
      const s = await scene();
      const event = testProviderOf(api).signedEvent({ type: 'payment.succeeded', txnId: s.payment.txnId });
      expect((await deliver(api, event, 'stripe')).status).toBe(404);
      const get = await fetch(api.app.url.replace(/\/graphql$/, '/webhooks/payments/test'));
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
      const big = await deliver(api, { headers: event.headers, body: 'x'.repeat(65 * 1024) });
      expect(big.status).toBe(413);
      expect(await processedEvents(event.eventId)).toEqual([]);
      expect(await paymentRow(api.db, s.payment.id)).toMatchObject({ status: 'pending' });
    });
  });

  it('acknowledges an event about an unknown transaction (200), logs it and changes no payment', async () => {
    const event = testProviderOf(api).signedEvent({ type: 'payment.succeeded', txnId: 'test_txn_nobody' });
    expect(await deliver(api, event)).toEqual({ status: 200, body: { received: true, outcome: 'unknown_payment' } });
    expect(await api.db.selectFrom('payments').select('id').where('provider_txn_id', '=', 'test_txn_nobody').execute()).toEqual([]);
    expect(loggedErrors.filter((e) => e.message.includes('payment'))).toEqual([]);
  });

  it('prunes processed events past the retention in bounded batches, oldest first, and keeps recent ones', async () => {
    const days = (n: number) => new Date(Date.now() - n * 86_400_000);
    const old = [await createProcessedPaymentEvent(api.db, { receivedAt: days(10) }), await createProcessedPaymentEvent(api.db, { receivedAt: days(5) })];
    const recent = await createProcessedPaymentEvent(api.db, { receivedAt: days(2) });
    const remaining = async () => (await api.db.selectFrom('processed_payment_events').select('event_id').where('event_id', 'in', [...old, recent]).execute()).map((r) => r.event_id).sort();
    // Other tests' events are recent: only these two are past 3 days.
    expect(await pruneProcessedEvents(api.db, days(3), 1)).toBe(1);
    expect(await remaining()).toEqual([old[1], recent].sort());
    expect(await pruneProcessedEvents(api.db, days(3), 1000)).toBe(1);
    expect(await remaining()).toEqual([recent]);
  });
});
