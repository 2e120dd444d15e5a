import { sql } from 'kysely';
import { rawIdOf } from '../../src/shared/global-id.js';
import { TEST_PAYOUT_PROVIDER_NAME, type TestPayoutProvider } from '../../src/payouts/test-payout-provider.js';
import { tokensFor, type TestApi } from '../support/api.js';
import { addMembership, createAccount } from '../support/accounts.js';
import { createBookableBusiness, createBooking } from '../support/builders.js';
import { deliver, PAYMENT_CREATE, testProviderOf } from '../payments/payment-scene.js';

/** Shared set-up of the payout tests: a business with an owner, two partners, and a way to earn. */

export const SHARE_SET = `mutation($input: PartnerShareSetInput!) { partnerShareSet(input: $input) {
  business { id partnerShareBasisPoints } partner { id payoutShare { basisPoints partnerBasisPoints businessBasisPoints } } userErrors { field message code } } }`;
export const PAYOUT_FIELDS = 'id status amountCents currency provider providerPayoutId failureReason settledAt partner { id }';
export const PAYOUT_CREATE = `mutation($input: PayoutCreateInput!) { payoutCreate(input: $input) { payout { ${PAYOUT_FIELDS} } userErrors { field message code } } }`;
export const EARNINGS = `query($p: ID!, $from: DateTime!, $to: DateTime!) { node(id: $p) { ... on Partner {
  earnings(from: $from, to: $to) { currency totalCents unpaidCents entries(first: 50) { nodes { kind amountCents basisCents shareBasisPoints payment { id } payout { id status } } } }
  payouts { nodes { ${PAYOUT_FIELDS} earnings { nodes { amountCents } } } } } } }`;

/** A range around now wide enough for every earning a test makes. */
export const RANGE = { from: new Date(Date.now() - 864e5).toISOString(), to: new Date(Date.now() + 864e5).toISOString() };

export function payoutProviderOf(api: TestApi): TestPayoutProvider {
  return api.app.payoutProviders.get(TEST_PAYOUT_PROVIDER_NAME) as TestPayoutProvider;
}

/** A salon with two partners (8 slots each tomorrow), an owner account, and tokens for every role. */
export async function payoutScene(api: TestApi) {
  const built = await createBookableBusiness(api.db, { partners: 2, slotCount: 8 });
  const [partner, otherPartner] = built.partners;
  const owner = await createAccount(api);
  await addMembership(api.db, owner, built.business, 'owner');
  const tokens = await tokensFor(api, { businessGid: built.business.gid, partnerGid: partner.gid, customerGid: built.customer.gid });
  const otherPartnerToken = await api.token({ sub: 'partner-2', role: 'partner', business_id: built.business.gid, partner_id: otherPartner.gid });
  let nextSlot = 0;

  /** A booking of `who` (the first partner by default), paid through the API and captured by the provider's webhook. */
  async function capture(who = partner) {
    const booking = await createBooking(api.db, { business: built.business, service: built.service, partner: who, customer: built.customer, slots: [who.slots[nextSlot++]] });
    const res = await api.gql(PAYMENT_CREATE, { input: { bookingId: booking.gid, provider: 'test' } }, { token: tokens.customer });
    const payment = res.data?.paymentCreate?.payment;
    if (!payment) throw new Error(`Expected paymentCreate to succeed, got ${JSON.stringify(res)}.`);
    const delivered = await deliver(api, testProviderOf(api).signedEvent({ type: 'payment.succeeded', txnId: payment.providerTxnId }));
    if (delivered.body.outcome !== 'applied') throw new Error(`Expected the capture to apply, got ${JSON.stringify(delivered)}.`);
    return { gid: payment.id as string, id: rawIdOf(payment.id, 'Payment')!, txnId: payment.providerTxnId as string, booking };
  }

  return { ...built, partner, otherPartner, owner, tokens: { ...tokens, owner: owner.token, otherPartner: otherPartnerToken }, capture };
}

/** Sets the business's share straight in its row (the scene; partnerShareSet has tests of its own). */
export async function setBusinessShare(api: TestApi, businessId: string, basisPoints: number): Promise<void> {
  await sql`UPDATE businesses SET partner_share_bps = ${basisPoints} WHERE id = ${businessId}::bigint`.execute(api.db);
}

/** Waits for this process's relay to position every committed event (earnings are recorded then). */
export async function relayed(api: TestApi): Promise<void> {
  await api.app.relay.kick();
}

/** Delivers a payout webhook request over HTTP, as the provider would. */
export function deliverPayoutEvent(api: TestApi, event: { headers: Record<string, string>; body: string }, provider = 'test') {
  return deliver(api, event, provider, 'payouts');
}

/** The earnings rows of a partner, oldest first, as stored. */
export async function earningRows(api: TestApi, partnerId: string) {
  const rows = await sql<{ id: string; kind: string; amountCents: number; payoutId: string | null }>`
    SELECT id, kind, amount_cents AS "amountCents", payout_id AS "payoutId" FROM partner_earnings WHERE partner_id = ${partnerId}::bigint ORDER BY id`.execute(api.db);
  return rows.rows;
}
