import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutateOk, startTestApi, type TestApi } from '../support/api.js';
import { auditRows } from '../support/builders.js';
import { PAYMENT_REFUND } from '../payments/payment-scene.js';
import { EARNINGS, earningRows, payoutScene, RANGE, relayed, setBusinessShare, SHARE_SET } from './payout-scene.js';

describe('Partner shares and earnings', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  const earningsOf = async (partnerGid: string, token: string | undefined) => {
    const res = await api.gql(EARNINGS, { p: partnerGid, ...RANGE }, { token });
    expect(res.errors).toBeUndefined();
    return res.data.node.earnings;
  };

  describe('partnerShareSet', () => {
    it("sets the business's share and a partner's own, and removes the partner's with null: owners only", async () => {
      const s = await payoutScene(api);
      const business = await mutateOk(api, SHARE_SET, { businessId: s.business.gid, basisPoints: 2000 }, s.tokens.owner);
      expect(business).toEqual({ business: { id: s.business.gid, partnerShareBasisPoints: 2000 }, partner: null, userErrors: [] });
      const own = await mutateOk(api, SHARE_SET, { businessId: s.business.gid, partnerId: s.partner.gid, basisPoints: 3500 }, s.tokens.owner);
      expect(own.partner).toEqual({ id: s.partner.gid, payoutShare: { basisPoints: 3500, partnerBasisPoints: 3500, businessBasisPoints: 2000 } });
      const removed = await mutateOk(api, SHARE_SET, { businessId: s.business.gid, partnerId: s.partner.gid, basisPoints: null }, s.tokens.owner);
      expect(removed.partner.payoutShare).toEqual({ basisPoints: 2000, partnerBasisPoints: null, businessBasisPoints: 2000 });
      expect((await auditRows(api.db, s.partner.id, 'partner')).map((r) => [r.action, r.changes])).toEqual([
        ['partner.share_set', { before: { shareBasisPoints: null }, after: { shareBasisPoints: 3500 } }],
        ['partner.share_set', { before: { shareBasisPoints: 3500 }, after: { shareBasisPoints: null } }],
      ]);

      const staff = await api.gql(SHARE_SET, { input: { businessId: s.business.gid, basisPoints: 9000 } }, { token: s.tokens.staff });
      expect(staff.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
      expect(staff.errors?.[0].message).toBe('Expected an owner of the business (or an admin) to set its partner share, got a staff token.');
    });

    it('refuses a share out of range, a null business share and another business\'s partner, and changes nothing', async () => {
      const s = await payoutScene(api);
      const other = await payoutScene(api);
      const refusals = [
        [{ businessId: s.business.gid, basisPoints: 10001 }, ['input', 'basisPoints'], 'INVALID_INPUT'],
        [{ businessId: s.business.gid, partnerId: s.partner.gid, basisPoints: -1 }, ['input', 'basisPoints'], 'INVALID_INPUT'],
        [{ businessId: s.business.gid, basisPoints: null }, ['input', 'basisPoints'], 'INVALID_INPUT'],
        [{ businessId: s.business.gid, partnerId: other.partner.gid, basisPoints: 100 }, ['input', 'partnerId'], 'NOT_FOUND'],
      ] as const;
      for (const [input, field, code] of refusals) {
        const res = await api.gql(SHARE_SET, { input }, { token: s.tokens.owner });
        expect(res.data.partnerShareSet, JSON.stringify(input)).toMatchObject({ business: null, partner: null, userErrors: [{ field, code }] });
      }
      const rows = await sql<{ business: number; partner: number | null }>`SELECT b.partner_share_bps AS business, pa.share_bps AS partner
        FROM partners pa JOIN businesses b ON b.id = pa.business_id WHERE pa.id = ANY(${[s.partner.id, other.partner.id]}::bigint[])`.execute(api.db);
      expect(rows.rows).toEqual([{ business: 0, partner: null }, { business: 0, partner: null }]);
      expect(await auditRows(api.db, s.business.id, 'business')).toEqual([]);
    });
  });

  describe('earnings', () => {
    it("records the partner's share of a capture at their own share, and gives it back on a refund", async () => {
      const s = await payoutScene(api);
      await setBusinessShare(api, s.business.id, 2000);
      await mutateOk(api, SHARE_SET, { businessId: s.business.gid, partnerId: s.partner.gid, basisPoints: 3333 }, s.tokens.owner);
      const first = await s.capture();
      await s.capture(s.otherPartner);
      await relayed(api);

      // 2500 cents at 33.33% (rounded down), the other partner at the business's 20%.
      expect(await earningsOf(s.partner.gid, s.tokens.staff)).toEqual({
        currency: 'EUR', totalCents: 833, unpaidCents: 833,
        entries: { nodes: [{ kind: 'CAPTURE', amountCents: 833, basisCents: 2500, shareBasisPoints: 3333, payment: { id: first.gid }, payout: null }] },
      });
      expect((await earningsOf(s.otherPartner.gid, s.tokens.staff)).totalCents).toBe(500);

      // A later change of the share does not rewrite what was earned; the refund gives back at the capture's share.
      await mutateOk(api, SHARE_SET, { businessId: s.business.gid, partnerId: s.partner.gid, basisPoints: 5000 }, s.tokens.owner);
      await mutateOk(api, PAYMENT_REFUND, { paymentId: first.gid }, s.tokens.staff);
      await relayed(api);
      const after = await earningsOf(s.partner.gid, s.tokens.staff);
      expect(after).toMatchObject({ totalCents: 0, unpaidCents: 0 });
      expect(after.entries.nodes.map((e: any) => [e.kind, e.amountCents, e.basisCents, e.shareBasisPoints])).toEqual([['REFUND', -833, 2500, 3333], ['CAPTURE', 833, 2500, 3333]]);
    });

    it('records each earning once: a replayed capture event, or the relay running again, adds nothing', async () => {
      const s = await payoutScene(api);
      await setBusinessShare(api, s.business.id, 1000);
      const payment = await s.capture();
      await relayed(api);
      // The same event delivered again, and a second capture event of the payment (as a retry would write).
      const [event] = (await sql<{ id: string }>`SELECT id FROM booking_events WHERE payment_id = ${payment.id}::bigint AND data->'payment'->>'status' = 'SUCCEEDED'`.execute(api.db)).rows;
      await sql`INSERT INTO booking_events (business_id, booking_id, payment_id, partner_ids, type, data)
        SELECT business_id, booking_id, payment_id, partner_ids, type, data FROM booking_events WHERE id = ${event.id}::bigint`.execute(api.db);
      await relayed(api);
      await relayed(api);
      expect((await earningRows(api, s.partner.id)).map((e) => [e.kind, e.amountCents])).toEqual([['capture', 250]]);
    });

    it('gives back a partial refund in proportion, and the rest with the remainder, never more than was earned', async () => {
      const s = await payoutScene(api);
      await setBusinessShare(api, s.business.id, 3000);
      const payment = await s.capture();
      await relayed(api);
      // The payments domain refunds in full today; a partial refund would leave the payment like this.
      const refundEvent = async (refundedCents: number) => {
        await sql`UPDATE payments SET amount_refunded_cents = ${refundedCents} WHERE id = ${payment.id}::bigint`.execute(api.db);
        await sql`INSERT INTO booking_events (business_id, booking_id, payment_id, partner_ids, type, data)
          SELECT business_id, booking_id, payment_id, partner_ids, type,
                 jsonb_set(data, '{payment}', (data->'payment') || '{"status": "REFUNDED", "previousStatus": "SUCCEEDED"}'::jsonb)
          FROM booking_events WHERE payment_id = ${payment.id}::bigint AND data->'payment'->>'status' = 'SUCCEEDED'`.execute(api.db);
        await relayed(api);
      };
      await refundEvent(1000);
      await refundEvent(2500);
      await refundEvent(2500);
      // 30% of 2500 is 750: 1000 refunded gives back 300, the rest 450, the repeat nothing.
      expect((await earningRows(api, s.partner.id)).map((e) => e.amountCents)).toEqual([750, -300, -450]);
      expect(await earningsOf(s.partner.gid, s.tokens.staff)).toMatchObject({ totalCents: 0, unpaidCents: 0 });
    });

    it('earns nothing for a capture recorded while the share is 0: a later share does not reach back', async () => {
      const s = await payoutScene(api);
      await s.capture();
      // The share that counts is the one in force when the relay records the earning (right after the capture).
      await relayed(api);
      await setBusinessShare(api, s.business.id, 1000);
      await s.capture(s.otherPartner);
      await relayed(api);
      expect(await earningRows(api, s.partner.id)).toEqual([]);
      expect((await earningRows(api, s.otherPartner.id)).map((e) => e.amountCents)).toEqual([250]);
    });

    it('shows earnings to staff, the owner, an admin and the partner themself; to nobody else, another tenant included', async () => {
      const s = await payoutScene(api);
      const other = await payoutScene(api);
      await setBusinessShare(api, s.business.id, 1000);
      await s.capture();
      await relayed(api);
      for (const token of [s.tokens.staff, s.tokens.owner, s.tokens.admin, s.tokens.partner]) {
        expect((await earningsOf(s.partner.gid, token))?.totalCents).toBe(250);
      }
      for (const token of [s.tokens.otherPartner, s.tokens.customer, other.tokens.staff, other.tokens.owner, other.tokens.partner, undefined]) {
        const res = await api.gql(EARNINGS, { p: s.partner.gid, ...RANGE }, { token });
        expect(res.data.node, String(token)).toMatchObject({ earnings: null, payouts: { nodes: [] } });
      }
      const share = await api.gql(`query($p: ID!) { node(id: $p) { ... on Partner { payoutShare { basisPoints } business { partnerShareBasisPoints } } } }`, { p: s.partner.gid }, { token: other.tokens.staff });
      expect(share.data.node).toEqual({ payoutShare: null, business: { partnerShareBasisPoints: null } });
    });

    it('refuses a range over 366 days or backwards', async () => {
      const s = await payoutScene(api);
      const res = await api.gql(EARNINGS, { p: s.partner.gid, from: RANGE.to, to: RANGE.from }, { token: s.tokens.staff });
      expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    });

    it('pages entries newest first with keyset cursors', async () => {
      const s = await payoutScene(api);
      await setBusinessShare(api, s.business.id, 1000);
      await s.capture();
      await s.capture();
      await s.capture();
      await relayed(api);
      const page = `query($p: ID!, $from: DateTime!, $to: DateTime!, $after: String) { node(id: $p) { ... on Partner { earnings(from: $from, to: $to) {
        entries(first: 2, after: $after) { nodes { payment { id } } pageInfo { hasNextPage endCursor } } } } } }`;
      const first = (await api.gql(page, { p: s.partner.gid, ...RANGE }, { token: s.tokens.staff })).data.node.earnings.entries;
      expect(first.nodes).toHaveLength(2);
      expect(first.pageInfo.hasNextPage).toBe(true);
      const second = (await api.gql(page, { p: s.partner.gid, ...RANGE, after: first.pageInfo.endCursor }, { token: s.tokens.staff })).data.node.earnings.entries;
      expect(second).toMatchObject({ nodes: [{}], pageInfo: { hasNextPage: false } });
      const all = [...first.nodes, ...second.nodes].map((n: any) => n.payment.id);
      expect(new Set(all).size).toBe(3);
    });
  });
});
