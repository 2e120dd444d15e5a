/**
 * Plays the `test` payment provider's side of a payment: signs a webhook event exactly as the
 * provider would (TestPaymentProvider.signedEvent, the secret the API verifies with) and posts it to
 * the running API's /webhooks/payments/test.
 *
 *   npm run payment:simulate -- <Payment ID>                    # payment.succeeded: confirms its booking
 *   npm run payment:simulate -- <Payment ID> --type payment.failed
 *   npm run payment:simulate -- <Payment ID> --type payment.refunded
 *
 * The payment's provider transaction and amount are looked up through the API (API_URL, default
 * http://127.0.0.1:4000/graphql) with a development admin token; secrets come from the same
 * environment variables as the API's (AUTH_JWT_SECRET, PAYMENT_TEST_WEBHOOK_SECRET), so unset
 * both use the development ones. Prints the payment as it is after the event.
 */
import { parseArgs } from 'node:util';
import { signDevelopmentToken } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config.js';
import { PAYMENT_EVENT_TYPES, type PaymentEventType } from '../src/payments/payment-provider.js';
import { PAYMENT_WEBHOOK_PATH } from '../src/payments/payment-webhooks.http.js';
import { TEST_PROVIDER_NAME, TestPaymentProvider } from '../src/payments/test-payment-provider.js';

const PAYMENT_QUERY = 'query($id: ID!) { node(id: $id) { ... on Payment { id provider providerTxnId amountCents status booking { id status } } } }';

interface PaymentSeen {
  id: string;
  provider: string;
  providerTxnId: string;
  amountCents: number;
  status: string;
  booking: { id: string; status: string } | null;
}

async function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { type: { type: 'string', default: 'payment.succeeded' } } });
  const [paymentId] = positionals;
  if (!paymentId || positionals.length > 1) fail(`Expected one Payment ID (paymentCreate's payment.id), got ${positionals.length ? positionals.join(' ') : 'none'}.`);
  const type = values.type as PaymentEventType;
  if (!PAYMENT_EVENT_TYPES.includes(type)) fail(`Expected --type to be one of ${PAYMENT_EVENT_TYPES.join(', ')}, got ${values.type}.`);
  const config = loadConfig();
  if (!config.auth.jwtSecret) fail('Expected AUTH_JWT_SECRET: the payment is looked up with an admin token signed with it.');
  const webhookSecret = config.payments.testWebhookSecret;
  if (!webhookSecret) fail('Expected PAYMENT_TEST_WEBHOOK_SECRET: without it (production) the API has no test provider.');

  const apiUrl = process.env.API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 4000}/graphql`;
  const admin = await signDevelopmentToken(config.auth.jwtSecret, { sub: 'payment-simulate', role: 'admin' });
  const lookUp = async (): Promise<PaymentSeen | null> => {
    const response = await fetch(apiUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query: PAYMENT_QUERY, variables: { id: paymentId } }),
    }).catch((error: Error) => fail(`Could not reach the API at ${apiUrl} (${error.message}). Start it with npm start, or set API_URL.`));
    const body = (await response.json()) as { data?: { node: PaymentSeen | null }; errors?: Array<{ message: string }> };
    if (body.errors?.length) fail(`Expected the API to look up payment ${paymentId}, got: ${body.errors.map((e) => e.message).join(' ')}`);
    return body.data?.node && 'providerTxnId' in body.data.node ? body.data.node : null;
  };
  const payment = (await lookUp()) ?? fail(`No payment with ID ${paymentId}: pass the id of paymentCreate's payment.`);
  if (payment.provider !== TEST_PROVIDER_NAME) fail(`Expected a payment of the ${TEST_PROVIDER_NAME} provider, got one of ${payment.provider}: only the test provider can be simulated.`);

  // The provider's side: the same signing code the tests use, with the secret the API verifies with.
  const provider = new TestPaymentProvider(webhookSecret, config.payments.webhookToleranceSeconds);
  const event = provider.signedEvent({ type, txnId: payment.providerTxnId, amountCents: payment.amountCents });
  const webhookUrl = new URL(`${PAYMENT_WEBHOOK_PATH}${TEST_PROVIDER_NAME}`, apiUrl).href;
  const response = await fetch(webhookUrl, { method: 'POST', headers: event.headers, body: event.body });
  const answer = await response.text();
  if (!response.ok) fail(`Expected the webhook to be accepted, got HTTP ${response.status}: ${answer}`);
  console.log(`Posted ${type} (event ${event.eventId}) to ${webhookUrl}: HTTP ${response.status}.`);
  console.log(JSON.stringify(await lookUp()));
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

void main();
