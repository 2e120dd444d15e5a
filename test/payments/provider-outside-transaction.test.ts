import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { createPayment, paymentRow, setCancellationWindow } from '../support/builders.js';
import { bookingScene, PAYMENT_CREATE, PAYMENT_REFUND, testProviderOf } from './payment-scene.js';

/**
 * A payment provider is called over the network: a call made inside a database transaction holds
 * the transaction (its locks) and a pooled connection for as long as the provider takes. These
 * tests watch the transactions the API's request database opens and closes (BEGIN against COMMIT
 * and ROLLBACK, as its driver sends them) and record, at every provider call, how many are open.
 */
describe('Payment providers are called outside any database transaction', () => {
  let database: DatabaseHandle;
  let api: TestApi;
  /** Transactions of the request database open right now. */
  let open = 0;
  /** At each provider call: which call, and how many transactions were open during it. */
  const calls: Array<{ call: string; openTransactions: number }> = [];

  beforeAll(async () => {
    database = await connectDatabase({
      databaseUrl: process.env.DATABASE_URL,
      poolMax: 60,
      onStatement: (event, background) => {
        if (background) return;
        const text = event.query.sql.trim().toLowerCase();
        if (text.startsWith('begin')) open++;
        else if (text === 'commit' || text === 'rollback') open--;
      },
    });
    if (!process.env.DATABASE_URL) await migrateToLatest(database.db);
    api = await startTestApi({ database });
    const provider = testProviderOf(api);
    for (const call of ['createPayment', 'refund'] as const) {
      const original = provider[call].bind(provider) as (request: never) => Promise<unknown>;
      // The provider answers after a moment, as one over the network would; the count is read then.
      (provider as unknown as Record<string, unknown>)[call] = async (request: never) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        calls.push({ call, openTransactions: open });
        return original(request);
      };
    }
  });
  afterAll(async () => {
    await api.close();
    await database.close();
  });

  /** The provider calls `work` made, each with the transactions open during it. */
  async function providerCallsOf(work: () => Promise<unknown>) {
    const from = calls.length;
    await work();
    return calls.slice(from);
  }

  for (const withKey of [false, true]) {
    const headers = (): Record<string, string> => (withKey ? { 'idempotency-key': randomUUID() } : {});
    const label = withKey ? 'with an Idempotency-Key header' : 'without an idempotency key';

    it(`starts a payment (paymentCreate) ${label} with no transaction open during the provider's call`, async () => {
      const s = await bookingScene(api);
      const made = await providerCallsOf(async () => {
        const res = await api.gql(PAYMENT_CREATE, { input: { bookingId: s.booking.gid, provider: 'test' } }, { token: s.tokens.customer, headers: headers() });
        expect(res.data?.paymentCreate?.userErrors).toEqual([]);
      });
      expect(made).toEqual([{ call: 'createPayment', openTransactions: 0 }]);
    });

    it(`refunds a payment (paymentRefund) ${label} with no transaction open during the provider's call`, async () => {
      const s = await bookingScene(api, 'confirmed');
      const payment = await createPayment(api.db, { business: s.business, booking: s.booking, amountCents: s.service.priceCents, status: 'succeeded' });
      const made = await providerCallsOf(async () => {
        const res = await api.gql(PAYMENT_REFUND, { input: { paymentId: payment.gid } }, { token: s.tokens.staff, headers: headers() });
        expect(res.data?.paymentRefund?.userErrors).toEqual([]);
      });
      expect(made).toEqual([{ call: 'refund', openTransactions: 0 }]);
      expect((await paymentRow(api.db, payment.id))?.status).toBe('refunded');
    });

    it(`refunds a cancelled booking's payment (bookingCancel) ${label} with no transaction open during the provider's call`, async () => {
      const s = await bookingScene(api, 'confirmed');
      const payment = await createPayment(api.db, { business: s.business, booking: s.booking, amountCents: s.service.priceCents, status: 'succeeded' });
      await setCancellationWindow(api.db, s.business, 60);
      const made = await providerCallsOf(async () => {
        const res = await api.gql('mutation($input: BookingCancelInput!) { bookingCancel(input: $input) { userErrors { code } } }', { input: { bookingId: s.booking.gid } }, { token: s.tokens.customer, headers: headers() });
        expect(res.data?.bookingCancel?.userErrors).toEqual([]);
      });
      expect(made).toEqual([{ call: 'refund', openTransactions: 0 }]);
      expect((await paymentRow(api.db, payment.id))?.status).toBe('refunded');
    });
  }

  it('gives the provider a key derived from the Idempotency-Key header, so a retry reaches it with the same key', async () => {
    const s = await bookingScene(api);
    const key = randomUUID();
    const seen: string[] = [];
    const provider = testProviderOf(api);
    const wrapped = provider.createPayment.bind(provider);
    provider.createPayment = async (request) => (seen.push(request.idempotencyKey), wrapped(request));
    try {
      const ask = () => api.gql(PAYMENT_CREATE, { input: { bookingId: s.booking.gid, provider: 'test' } }, { token: s.tokens.customer, headers: { 'idempotency-key': key } });
      const first = await ask();
      const retry = await ask();
      expect(retry.data.paymentCreate).toEqual(first.data.paymentCreate);
    } finally {
      provider.createPayment = wrapped;
    }
    expect(seen).toHaveLength(2);
    expect(new Set(seen).size).toBe(1);
    expect(seen[0]).toContain(key);
  });
});
