import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggedErrors, mutateOk, startTestApi, type TestApi } from '../support/api.js';
import { auditRows, createPartner } from '../support/builders.js';
import { PAYMENT_REFUND } from '../payments/payment-scene.js';
import { signatureHeader } from '../../src/shared/webhook-signature.js';
import { rawIdOf } from '../../src/shared/global-id.js';
import { deliverPayoutEvent, EARNINGS, earningRows, PAYOUT_CREATE, PAYOUT_FIELDS, payoutProviderOf, payoutScene, RANGE, relayed, setBusinessShare } from './payout-scene.js';

describe('payoutCreate and payout webhooks', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  /** A scene whose first partner has earned 10% of `captures` payments of 2500 cents. */
  async function earned(captures: number) {
    const s = await payoutScene(api);
    await setBusinessShare(api, s.business.id, 1000);
    const payments = [];
    for (let i = 0; i < captures; i++) payments.push(await s.capture());
    await relayed(api);
    return { ...s, payments };
  }

  const createPayout = (s: { partner: { gid: string } }, token: string | undefined, headers: Record<string, string> = {}) =>
    api.gql(PAYOUT_CREATE, { input: { partnerId: s.partner.gid } }, { token, headers });

  /** The provider's side of a payout: what it was asked, to sign its events. */
  const atProvider = (payoutGid: string) => payoutProviderOf(api).payouts.find((p) => p.reference === rawIdOf(payoutGid, 'Payout'))!;

  const payoutEvent = (payoutGid: string, type: 'payout.paid' | 'payout.failed', extra: { eventId?: string; failureReason?: string; timestamp?: number } = {}) => {
    const sent = atProvider(payoutGid);
    return payoutProviderOf(api).signedEvent({ type, reference: sent.reference, providerPayoutId: sent.providerPayoutId, ...extra });
  };

  it('bundles every unpaid earning into one pending payout, sent to the provider once; the next call has nothing to pay', async () => {
    const s = await earned(3);
    const { payout } = await mutateOk(api, PAYOUT_CREATE, { partnerId: s.partner.gid }, s.tokens.staff);
    expect(payout).toMatchObject({ status: 'PENDING', amountCents: 750, currency: 'EUR', provider: 'test', partner: { id: s.partner.gid }, settledAt: null });
    const sent = atProvider(payout.id);
    expect(sent).toMatchObject({ amountCents: 750, currency: 'EUR', partnerId: s.partner.id, idempotencyKey: `payout:${rawIdOf(payout.id, 'Payout')}` });

    const res = await api.gql(EARNINGS, { p: s.partner.gid, ...RANGE }, { token: s.tokens.partner });
    expect(res.data.node.earnings).toMatchObject({ totalCents: 750, unpaidCents: 0 });
    expect(res.data.node.earnings.entries.nodes.every((e: any) => e.payout?.id === payout.id)).toBe(true);
    expect(res.data.node.payouts.nodes).toEqual([{ ...payout, providerPayoutId: sent.providerPayoutId, earnings: { nodes: [{ amountCents: 250 }, { amountCents: 250 }, { amountCents: 250 }] } }]);
    expect((await auditRows(api.db, rawIdOf(payout.id, 'Payout')!, 'payout')).map((r) => [r.action, r.actor])).toEqual([['payout.created', 'staff:staff-1'], ['payout.submitted', 'system:payout-submission']]);

    const again = await createPayout(s, s.tokens.staff);
    expect(again.data.payoutCreate).toEqual({ payout: null, userErrors: [{ field: ['input', 'partnerId'], message: 'The partner has no unpaid earnings.', code: 'NOTHING_TO_PAY' }] });
    expect(payoutProviderOf(api).payouts.filter((p) => p.partnerId === s.partner.id)).toHaveLength(1);
  });

  it('answers a retry with the same Idempotency-Key with the same payout, and pays nothing twice', async () => {
    const s = await earned(1);
    const headers = { 'idempotency-key': `payout-${s.partner.id}` };
    const first = await createPayout(s, s.tokens.staff, headers);
    const retry = await createPayout(s, s.tokens.staff, headers);
    expect(retry.data.payoutCreate.payout.id).toBe(first.data.payoutCreate.payout.id);
    expect(retry.data.payoutCreate.userErrors).toEqual([]);
    expect(await sql`SELECT id FROM payouts WHERE partner_id = ${s.partner.id}::bigint`.execute(api.db).then((r) => r.rows)).toHaveLength(1);
  });

  it('pays each earning exactly once under 20 concurrent payoutCreate calls: one payout, 19 NOTHING_TO_PAY', async () => {
    const s = await earned(3);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => createPayout(s, s.tokens.staff, { 'idempotency-key': `storm-${s.partner.id}-${i}` })));
    expect(results.every((r) => r.errors === undefined)).toBe(true);
    const paid = results.filter((r) => r.data.payoutCreate.payout);
    expect(paid).toHaveLength(1);
    expect(results.filter((r) => r.data.payoutCreate.userErrors[0]?.code === 'NOTHING_TO_PAY')).toHaveLength(19);
    // Every earning is in exactly one live payout, the one that was created, and the payout is their sum.
    const items = await sql<{ earningId: string; payouts: number; payoutId: string }>`
      SELECT er.id AS "earningId", count(it.payout_id)::int AS payouts, min(it.payout_id)::text AS "payoutId"
      FROM partner_earnings er LEFT JOIN payout_items it ON it.earning_id = er.id AND it.released_at IS NULL
      WHERE er.partner_id = ${s.partner.id}::bigint GROUP BY er.id ORDER BY er.id`.execute(api.db);
    const payoutId = rawIdOf(paid[0].data.payoutCreate.payout.id, 'Payout');
    expect(items.rows).toEqual((await earningRows(api, s.partner.id)).map((e) => ({ earningId: e.id, payouts: 1, payoutId })));
    expect(paid[0].data.payoutCreate.payout.amountCents).toBe(750);
    // And the database itself refuses an earning in a second live payout, whatever path would write it.
    const [earning] = await earningRows(api, s.partner.id);
    const second = await sql<{ id: string }>`INSERT INTO payouts (business_id, partner_id, provider, amount_cents, currency)
      VALUES (${s.business.id}::bigint, ${s.partner.id}::bigint, 'test', 1, 'EUR') RETURNING id`.execute(api.db);
    await expect(sql`INSERT INTO payout_items (business_id, payout_id, earning_id) VALUES (${s.business.id}::bigint, ${second.rows[0].id}::bigint, ${earning.id}::bigint)`.execute(api.db)).rejects.toThrow(/payout_items_earning_key/);
  });

  it('refuses a partner of another business, a customer token and an unknown provider, and writes nothing', async () => {
    const s = await earned(1);
    const other = await payoutScene(api);
    expect((await createPayout(s, other.tokens.staff)).data.payoutCreate.userErrors).toEqual([{ field: ['input', 'partnerId'], message: `No partner with ID "${s.partner.gid}".`, code: 'NOT_FOUND' }]);
    const customer = await createPayout(s, s.tokens.customer);
    expect(customer.errors?.[0]).toMatchObject({ message: 'Expected a staff or admin token to pay a partner, got a customer token.', extensions: { code: 'FORBIDDEN' } });
    const partner = await createPayout(s, s.tokens.partner);
    expect(partner.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    const provider = await api.gql(PAYOUT_CREATE, { input: { partnerId: s.partner.gid, provider: 'stripe' } }, { token: s.tokens.staff });
    expect(provider.data.payoutCreate.userErrors).toEqual([{ field: ['input', 'provider'], message: 'Expected a known payout provider ("test"), got "stripe".', code: 'PROVIDER_ERROR' }]);
    expect(await sql`SELECT id FROM payouts WHERE partner_id = ${s.partner.id}::bigint`.execute(api.db).then((r) => r.rows)).toEqual([]);
    expect((await earningRows(api, s.partner.id)).map((e) => e.payoutId)).toEqual([null]);
  });

  it('reads a payout through node for staff and the partner, and as missing for another partner and another tenant', async () => {
    const s = await earned(1);
    const other = await payoutScene(api);
    const { payout } = await mutateOk(api, PAYOUT_CREATE, { partnerId: s.partner.gid }, s.tokens.staff);
    const read = (token: string | undefined) => api.gql(`query($id: ID!) { node(id: $id) { ... on Payout { ${PAYOUT_FIELDS} } } }`, { id: payout.id }, { token });
    expect((await read(s.tokens.partner)).data.node).toMatchObject({ id: payout.id, amountCents: 250 });
    expect((await read(s.tokens.owner)).data.node).toMatchObject({ id: payout.id });
    for (const token of [s.tokens.otherPartner, s.tokens.customer, other.tokens.staff, other.tokens.owner, undefined]) expect((await read(token)).data.node).toBeNull();
  });

  it('nets a refund after a payout against the next one, and has nothing to pay while they net to zero or less', async () => {
    const s = await earned(1);
    await mutateOk(api, PAYOUT_CREATE, { partnerId: s.partner.gid }, s.tokens.staff);
    await mutateOk(api, PAYMENT_REFUND, { paymentId: s.payments[0].gid }, s.tokens.staff);
    await relayed(api);
    const nothing = await createPayout(s, s.tokens.staff);
    expect(nothing.data.payoutCreate.userErrors[0]).toMatchObject({ code: 'NOTHING_TO_PAY', message: "The partner's unpaid earnings net to -250 (refunds after a payout); nothing to pay until they earn more." });
    await s.capture();
    await s.capture();
    await relayed(api);
    const { payout } = await mutateOk(api, PAYOUT_CREATE, { partnerId: s.partner.gid }, s.tokens.staff);
    expect(payout.amountCents).toBe(250);
  });

  it("serves partners' shares, earnings and payouts with their payments, bookings and earnings in 12 statements, for 2 partners as for 4", async () => {
    const dashboard = `query($b: ID!, $from: DateTime!, $to: DateTime!) { node(id: $b) { ... on Business { partnerShareBasisPoints partners(first: 10) { nodes {
      payoutShare { basisPoints }
      earnings(from: $from, to: $to) { currency totalCents unpaidCents entries(first: 10) { nodes { amountCents payment { id booking { id status } } payout { id status } } } }
      payouts(first: 5) { nodes { id amountCents partner { id } earnings(first: 10) { nodes { amountCents } } } } } } } } }`;
    const measure = async (partners: number) => {
      const s = await payoutScene(api);
      await setBusinessShare(api, s.business.id, 1000);
      const more = [s.partner, s.otherPartner];
      for (let i = 2; i < partners; i++) more.push({ ...(await createPartner(api.db, s.business)), slots: [] });
      for (const who of more.slice(0, 2)) {
        await s.capture(who);
        await s.capture(who);
      }
      await relayed(api);
      for (const who of more.slice(0, 2)) await mutateOk(api, PAYOUT_CREATE, { partnerId: who.gid }, s.tokens.staff);
      await s.capture();
      await relayed(api);
      const { result, statements } = await api.countStatements(() => api.gql(dashboard, { b: s.business.gid, ...RANGE }, { token: s.tokens.owner }));
      expect(result.errors).toBeUndefined();
      expect(result.data.node.partners.nodes).toHaveLength(partners);
      expect(result.data.node.partners.nodes.map((p: any) => p.earnings.totalCents).sort()).toEqual([...Array(partners - 2).fill(0), 500, 750]);
      return statements;
    };
    // The owner's grants (a cold cache), the business, its partners, the business's share, the
    // partners' shares, totals, entries, payouts, the entries' payments, their bookings and their
    // payouts, the payouts' earnings and partners: at most one statement each, whatever the number
    // of partners (the same on both databases, run after run).
    expect(await measure(2)).toBe(12);
    expect(await measure(4)).toBe(12);
  });

  describe('POST /webhooks/payouts/:provider', () => {
    it('settles a payout as paid once: a replay of the event is acknowledged and changes nothing', async () => {
      const s = await earned(2);
      const { payout } = await mutateOk(api, PAYOUT_CREATE, { partnerId: s.partner.gid }, s.tokens.staff);
      const event = payoutEvent(payout.id, 'payout.paid');
      expect(await deliverPayoutEvent(api, event)).toEqual({ status: 200, body: { received: true, outcome: 'applied' } });
      expect(await deliverPayoutEvent(api, event)).toEqual({ status: 200, body: { received: true, outcome: 'duplicate' } });
      // A late failure of a paid payout changes nothing either.
      expect((await deliverPayoutEvent(api, payoutEvent(payout.id, 'payout.failed'))).body.outcome).toBe('unchanged');
      const res = await api.gql(EARNINGS, { p: s.partner.gid, ...RANGE }, { token: s.tokens.staff });
      expect(res.data.node.payouts.nodes[0]).toMatchObject({ status: 'PAID', failureReason: null, settledAt: expect.any(String) });
      expect(res.data.node.earnings).toMatchObject({ totalCents: 500, unpaidCents: 0 });
      expect((await auditRows(api.db, rawIdOf(payout.id, 'Payout')!, 'payout')).map((r) => r.action)).toEqual(['payout.created', 'payout.submitted', 'payout.paid']);
      expect(loggedErrors.filter((e) => e.message.startsWith('A payout event contradicts'))).toHaveLength(1);
    });

    it('releases the earnings of a failed payout: unpaid again, paid by the next payout, kept in the failed one\'s history', async () => {
      const s = await earned(2);
      const { payout } = await mutateOk(api, PAYOUT_CREATE, { partnerId: s.partner.gid }, s.tokens.staff);
      const failed = await deliverPayoutEvent(api, payoutEvent(payout.id, 'payout.failed', { failureReason: 'Account closed' }));
      expect(failed.body.outcome).toBe('applied');
      const before = await api.gql(EARNINGS, { p: s.partner.gid, ...RANGE }, { token: s.tokens.staff });
      expect(before.data.node.earnings).toMatchObject({ totalCents: 500, unpaidCents: 500 });
      expect(before.data.node.payouts.nodes[0]).toMatchObject({ status: 'FAILED', failureReason: 'Account closed', earnings: { nodes: [{ amountCents: 250 }, { amountCents: 250 }] } });

      const next = (await mutateOk(api, PAYOUT_CREATE, { partnerId: s.partner.gid }, s.tokens.staff)).payout;
      expect(next).toMatchObject({ status: 'PENDING', amountCents: 500 });
      expect(next.id).not.toBe(payout.id);
      const items = await sql<{ payoutId: string; released: boolean }>`SELECT it.payout_id AS "payoutId", it.released_at IS NOT NULL AS released FROM payout_items it
        JOIN partner_earnings er ON er.id = it.earning_id WHERE er.partner_id = ${s.partner.id}::bigint ORDER BY it.payout_id, it.earning_id`.execute(api.db);
      const [oldId, newId] = [rawIdOf(payout.id, 'Payout'), rawIdOf(next.id, 'Payout')];
      expect(items.rows).toEqual([{ payoutId: oldId, released: true }, { payoutId: oldId, released: true }, { payoutId: newId, released: false }, { payoutId: newId, released: false }]);
    });

    it('refuses a bad signature, a stale one and a malformed event with 400, and writes nothing', async () => {
      const s = await earned(1);
      const { payout } = await mutateOk(api, PAYOUT_CREATE, { partnerId: s.partner.gid }, s.tokens.staff);
      const good = payoutEvent(payout.id, 'payout.paid');
      const forged = { ...good, headers: { ...good.headers, 'payment-signature': signatureHeader('not-the-secret', Math.floor(Date.now() / 1000), good.body) } };
      const stale = payoutEvent(payout.id, 'payout.paid', { timestamp: Math.floor(Date.now() / 1000) - 3600 });
      const malformedBody = JSON.stringify({ id: 'evt_x', type: 'payout.lost', data: {} });
      const malformed = { body: malformedBody, headers: { 'content-type': 'application/json', 'payment-signature': signatureHeader('development-payout-webhook-secret', Math.floor(Date.now() / 1000), malformedBody) } };
      for (const request of [forged, stale, malformed]) expect((await deliverPayoutEvent(api, request)).status).toBe(400);
      expect((await deliverPayoutEvent(api, good, 'nobody')).status).toBe(404);
      expect(await sql`SELECT 1 FROM processed_payment_events WHERE event_id = ${good.eventId}`.execute(api.db).then((r) => r.rows)).toEqual([]);
      const row = await sql<{ status: string }>`SELECT status FROM payouts WHERE id = ${rawIdOf(payout.id, 'Payout')}::bigint`.execute(api.db);
      expect(row.rows).toEqual([{ status: 'pending' }]);
      // A payout's event never settles another provider's or an unknown payout.
      const unknown = payoutProviderOf(api).signedEvent({ type: 'payout.paid', reference: '999999999', providerPayoutId: 'test_po_nobody' });
      expect((await deliverPayoutEvent(api, unknown)).body.outcome).toBe('unknown_payout');
    });

    it('keeps a payout the provider did not accept pending without a reference, and sends it again with the next payoutCreate', async () => {
      const s = await earned(1);
      const other = { partner: s.otherPartner };
      payoutProviderOf(api).failNext(1);
      const { payout } = await mutateOk(api, PAYOUT_CREATE, { partnerId: s.partner.gid }, s.tokens.staff);
      const read = async () => (await api.gql(`query($id: ID!) { node(id: $id) { ... on Payout { status providerPayoutId } } }`, { id: payout.id }, { token: s.tokens.staff })).data.node;
      expect(await read()).toEqual({ status: 'PENDING', providerPayoutId: null });
      expect(loggedErrors.some((e) => e.message.startsWith('A payout provider failed to accept a payout') && e.context?.payoutId === rawIdOf(payout.id, 'Payout'))).toBe(true);

      await s.capture(s.otherPartner);
      await relayed(api);
      await mutateOk(api, PAYOUT_CREATE, { partnerId: other.partner.gid }, s.tokens.staff);
      expect(await read()).toEqual({ status: 'PENDING', providerPayoutId: atProvider(payout.id).providerPayoutId });
    });
  });
});
