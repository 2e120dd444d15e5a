import type { BookingStatusColumn } from '../../src/db/tables.js';
import { rawIdOf } from '../../src/shared/global-id.js';
import { TEST_PROVIDER_NAME, type SignedEvent, type TestPaymentProvider } from '../../src/payments/test-payment-provider.js';
import { tokensFor, type TestApi } from '../support/api.js';
import { createBookableBusiness, createBooking } from '../support/builders.js';

/** Shared set-up of the payment tests: a booking, tokens, the test provider's external side. */

export const PAYMENT_FIELDS = 'id status amountCents currency provider providerTxnId booking { id status }';
export const PAYMENT_CREATE = `mutation($input: PaymentCreateInput!) { paymentCreate(input: $input) { payment { ${PAYMENT_FIELDS} } clientSecret userErrors { field message code } } }`;
export const PAYMENT_REFUND = `mutation($input: PaymentRefundInput!) { paymentRefund(input: $input) { payment { ${PAYMENT_FIELDS} } userErrors { field message code } } }`;

export function testProviderOf(api: TestApi): TestPaymentProvider {
  return api.app.paymentProviders.get(TEST_PROVIDER_NAME) as TestPaymentProvider;
}

/** A salon with one partner and a 30-minute booking of its customer tomorrow at 09:00 UTC, in `status`. */
export async function bookingScene(api: TestApi, status: BookingStatusColumn = 'pending') {
  const built = await createBookableBusiness(api.db, { partners: 1, slotCount: 2 });
  const partner = built.partners[0];
  const booking = await createBooking(api.db, { business: built.business, service: built.service, partner, customer: built.customer, slots: partner.slots.slice(0, 1), status });
  const tokens = await tokensFor(api, { businessGid: built.business.gid, partnerGid: partner.gid, customerGid: built.customer.gid });
  return { ...built, partner, booking, tokens };
}

/** Starts a payment through the API as the booking's customer; its raw id and provider transaction id. */
export async function startPayment(api: TestApi, scene: Awaited<ReturnType<typeof bookingScene>>) {
  const res = await api.gql(PAYMENT_CREATE, { input: { bookingId: scene.booking.gid, provider: 'test' } }, { token: scene.tokens.customer });
  const payment = res.data?.paymentCreate?.payment;
  if (!payment) throw new Error(`Expected paymentCreate to succeed, got ${JSON.stringify(res)}.`);
  return { gid: payment.id as string, id: rawIdOf(payment.id, 'Payment')!, txnId: payment.providerTxnId as string };
}

/** Delivers a webhook request over HTTP, as the provider would (a payment provider's, or a payout provider's). */
export async function deliver(api: TestApi, event: Pick<SignedEvent, 'headers' | 'body'>, provider = 'test', kind: 'payments' | 'payouts' = 'payments') {
  const res = await fetch(api.app.url.replace(/\/graphql$/, `/webhooks/${kind}/${provider}`), { method: 'POST', headers: event.headers, body: event.body });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}
