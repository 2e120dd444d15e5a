import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/shared/global-id.js';
import { startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { auditRows, businessState, createBusiness, createCustomer, createPayment } from '../support/builders.js';
import { bookingScene, PAYMENT_CREATE, testProviderOf } from './payment-scene.js';

describe('Mutation: paymentCreate', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  type Scene = Awaited<ReturnType<typeof bookingScene>>;
  const create = (input: Record<string, unknown>, token: string | undefined) => api.gql(PAYMENT_CREATE, { input }, { token });

  async function expectRefused(s: Scene, input: Record<string, unknown>, token: string | undefined, code: string, field: string[]) {
    const before = await businessState(api.db, s.business.id);
    const payments = await api.db.selectFrom('payments').select('id').where('business_id', '=', s.business.id).execute();
    const res = await create(input, token);
    expect(res.errors).toBeUndefined();
    expect(res.data.paymentCreate).toEqual({ payment: null, clientSecret: null, userErrors: [{ field, message: expect.any(String), code }] });
    expect(await businessState(api.db, s.business.id)).toEqual(before);
    expect(await api.db.selectFrom('payments').select('id').where('business_id', '=', s.business.id).execute()).toEqual(payments);
    return res.data.paymentCreate.userErrors[0].message as string;
  }

  async function expectTopLevel(s: Scene, input: Record<string, unknown>, token: string | undefined, code: string) {
    const before = await businessState(api.db, s.business.id);
    const res = await create(input, token);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual([code]);
    expect(await businessState(api.db, s.business.id)).toEqual(before);
  }

  it('starts a pending payment for the booking’s customer: the booking’s amount and currency, a client secret, one audit row', async () => {
    const s = await bookingScene(api);
    const res = await create({ bookingId: s.booking.gid, provider: 'test' }, s.tokens.customer);
    expect(res.errors).toBeUndefined();
    const { payment, clientSecret, userErrors } = res.data.paymentCreate;
    expect(userErrors).toEqual([]);
    expect(payment).toEqual({
      id: expect.any(String),
      status: 'PENDING',
      amountCents: s.service.priceCents,
      currency: s.business.currency,
      provider: 'test',
      providerTxnId: expect.stringMatching(/^test_txn_/),
      booking: { id: s.booking.gid, status: 'PENDING' },
    });
    expect(clientSecret).toMatch(new RegExp(`^${payment.providerTxnId}_secret_`));
    const [row] = await api.db.selectFrom('payments').select(['id']).where('booking_id', '=', s.booking.id).execute();
    expect(await auditRows(api.db, row.id, 'payment')).toEqual([
      {
        businessId: s.business.id,
        entity: 'payment',
        action: 'payment.created',
        actor: 'customer:customer-1',
        changes: { after: { status: 'PENDING', bookingId: s.booking.id, provider: 'test', providerTxnId: payment.providerTxnId, amountCents: s.service.priceCents, currency: s.business.currency } },
      },
    ]);
  });

  it('lets staff of the business and admins start a payment for a confirmed booking too', async () => {
    const s = await bookingScene(api, 'confirmed');
    for (const token of [s.tokens.staff, s.tokens.admin]) {
      const res = await create({ bookingId: s.booking.gid, provider: 'test' }, token);
      expect(res.data.paymentCreate).toMatchObject({ payment: { status: 'PENDING', booking: { status: 'CONFIRMED' } }, userErrors: [] });
    }
  });

  it('returns the same payment for a retry with the same idempotency key, with no second row', async () => {
    const s = await bookingScene(api);
    const input = { bookingId: s.booking.gid, provider: 'test', idempotencyKey: 'pay-once-1' };
    const first = await create(input, s.tokens.customer);
    const again = await create(input, s.tokens.customer);
    expect(again.data.paymentCreate.payment.id).toBe(first.data.paymentCreate.payment.id);
    expect(again.data.paymentCreate.clientSecret).toBe(first.data.paymentCreate.clientSecret);
    expect(await api.db.selectFrom('payments').select('id').where('booking_id', '=', s.booking.id).execute()).toHaveLength(1);
  });

  for (const status of ['cancelled', 'completed', 'no_show'] as const) {
    it(`refuses a ${status} booking with PAYMENT_NOT_ALLOWED and writes nothing`, async () => {
      const s = await bookingScene(api, status);
      await expectRefused(s, { bookingId: s.booking.gid, provider: 'test' }, s.tokens.staff, 'PAYMENT_NOT_ALLOWED', ['input', 'bookingId']);
    });
  }

  it('refuses a booking that already has a succeeded payment with PAYMENT_NOT_ALLOWED', async () => {
    const s = await bookingScene(api, 'confirmed');
    await createPayment(api.db, { business: s.business, booking: s.booking, status: 'succeeded' });
    const message = await expectRefused(s, { bookingId: s.booking.gid, provider: 'test' }, s.tokens.customer, 'PAYMENT_NOT_ALLOWED', ['input', 'bookingId']);
    expect(message).toMatch(/already paid/);
  });

  it('refuses an unknown provider with PROVIDER_ERROR on `provider`, naming the known ones', async () => {
    const s = await bookingScene(api);
    const message = await expectRefused(s, { bookingId: s.booking.gid, provider: 'paypal' }, s.tokens.customer, 'PROVIDER_ERROR', ['input', 'provider']);
    expect(message).toBe('Expected a known payment provider ("test"), got "paypal".');
  });

  it('answers PROVIDER_ERROR and stores no payment when the provider call fails', async () => {
    const s = await bookingScene(api);
    testProviderOf(api).failNext('createPayment');
    await expectRefused(s, { bookingId: s.booking.gid, provider: 'test' }, s.tokens.customer, 'PROVIDER_ERROR', ['input', 'provider']);
  });

  describe('who may', () => {
    it('answers NOT_FOUND to another customer, to staff of another business and for an ID that is not a booking', async () => {
      const s = await bookingScene(api);
      const otherCustomer = await createCustomer(api.db, s.business);
      const otherBusiness = await createBusiness(api.db);
      const otherCustomerToken = await api.token({ sub: 'customer-2', role: 'customer', business_id: s.business.gid, customer_id: otherCustomer.gid });
      const otherStaff = (await tokensFor(api, { businessGid: otherBusiness.gid })).staff;
      for (const token of [otherCustomerToken, otherStaff]) {
        await expectRefused(s, { bookingId: s.booking.gid, provider: 'test' }, token, 'NOT_FOUND', ['input', 'bookingId']);
      }
      await expectRefused(s, { bookingId: toGlobalId('Partner', s.partner.id), provider: 'test' }, s.tokens.staff, 'NOT_FOUND', ['input', 'bookingId']);
      await expectRefused(s, { bookingId: 'not-an-id', provider: 'test' }, s.tokens.staff, 'NOT_FOUND', ['input', 'bookingId']);
    });

    it('refuses partners (FORBIDDEN) and callers without a token (UNAUTHENTICATED)', async () => {
      const s = await bookingScene(api);
      await expectTopLevel(s, { bookingId: s.booking.gid, provider: 'test' }, s.tokens.partner, 'FORBIDDEN');
      await expectTopLevel(s, { bookingId: s.booking.gid, provider: 'test' }, undefined, 'UNAUTHENTICATED');
    });
  });
});
