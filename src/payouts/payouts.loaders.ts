import { toPage, type Page } from '../shared/connection.js';
import { argsKey, inKeyOrder, type LoaderRegistry } from '../shared/loader-registry.js';
import {
  findBusinessSharesByIds,
  findEarningPagesByPartnerIds,
  findEarningPagesByPayoutIds,
  findPayoutSharesByPartnerIds,
  sumEarningsByPartnerIds,
  type EarningListArgs,
} from './earnings.repository.js';
import { canSeePartnerMoney } from './payout-access.js';
import type { EarningModel, EarningTotals, PayoutModel, PayoutShareModel } from './payout.model.js';
import { findPayoutPagesByPartnerIds, findPayoutsByIds } from './payouts.repository.js';

/**
 * Loaders of the payouts domain. The parents are partners the caller reached; the loaders that
 * return money check that the caller may see it (payout-access.ts), the page loaders are only
 * reached through a parent that passed that check.
 */

/** A partner's share, visible to whoever may see the partner's money; null for others. */
export function payoutShareByPartnerId(loaders: LoaderRegistry) {
  return loaders.get<string, PayoutShareModel | null>('PayoutShareByPartnerId', async (ids) => {
    const rows = await findPayoutSharesByPartnerIds(loaders.db, ids);
    const byId = new Map(rows.map((r) => [r.partnerId, r]));
    return ids.map((id) => {
      const row = byId.get(id);
      return row && canSeePartnerMoney(loaders.viewer, row) ? row : null;
    });
  });
}

/** A business's partner share (raw basis points), unfiltered: the resolver checks staff. */
export function businessShareById(loaders: LoaderRegistry) {
  return loaders.get<string, number | null>('BusinessShareById', async (ids) => {
    const byId = new Map((await findBusinessSharesByIds(loaders.db, ids)).map((r) => [r.id, r.basisPoints]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/** Payouts by id, visible to whoever may see their partner's money. */
export function payoutById(loaders: LoaderRegistry) {
  return loaders.get<string, PayoutModel | null>('PayoutById', async (ids) =>
    inKeyOrder(ids, await findPayoutsByIds(loaders.db, ids), (p) => canSeePartnerMoney(loaders.viewer, p)),
  );
}

export function earningTotalsByPartnerId(loaders: LoaderRegistry, range: { from: string; to: string }) {
  return loaders.get<string, EarningTotals>(`EarningTotalsByPartnerId:${argsKey(range)}`, async (ids) => {
    const totals = await sumEarningsByPartnerIds(loaders.db, ids, range);
    return ids.map((id) => totals.get(id) ?? { totalCents: 0, unpaidCents: 0, count: 0 });
  });
}

export function earningPagesByPartnerId(loaders: LoaderRegistry, args: Omit<EarningListArgs, 'limit'>, size: number) {
  return loaders.get<string, Page<EarningModel>>(`EarningPagesByPartnerId:${argsKey(args)}:${size}`, async (ids) => {
    const pages = await findEarningPagesByPartnerIds(loaders.db, ids, { ...args, limit: size + 1 });
    return ids.map((id) => toPage(pages.get(id) ?? [], size, (e) => [e.occurredAt, e.id], args.after));
  });
}

export function earningPagesByPayoutId(loaders: LoaderRegistry, args: { after: string | null }, size: number) {
  return loaders.get<string, Page<EarningModel>>(`EarningPagesByPayoutId:${argsKey(args)}:${size}`, async (ids) => {
    const pages = await findEarningPagesByPayoutIds(loaders.db, ids, { ...args, limit: size + 1 });
    return ids.map((id) => toPage(pages.get(id) ?? [], size, (e) => [e.id], args.after));
  });
}

export function payoutPagesByPartnerId(loaders: LoaderRegistry, args: { after: string | null }, size: number) {
  return loaders.get<string, Page<PayoutModel>>(`PayoutPagesByPartnerId:${argsKey(args)}:${size}`, async (ids) => {
    // Not primed into payoutById: an earning's payout then costs one batch however the two
    // branches of a query interleave, so a query's statement count does not depend on timing.
    const pages = await findPayoutPagesByPartnerIds(loaders.db, ids, { ...args, limit: size + 1 });
    return ids.map((id) => toPage(pages.get(id) ?? [], size, (p) => [p.id], args.after));
  });
}
