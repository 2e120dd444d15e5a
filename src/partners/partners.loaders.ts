import type { Page } from '../shared/connection.js';
import { toPage } from '../shared/connection.js';
import { argsKey, inKeyOrder, type LoaderRegistry } from '../shared/loader-registry.js';
import type { PartnerModel } from './partner.model.js';
import {
  countPartnersByBusinessIds,
  findPartnerPagesByBusinessIds,
  findActiveBookingCountsByPartnerIds,
  findPartnersByIds,
  type PartnerListArgs,
} from './partners.repository.js';

/**
 * The same rows read from the primary, never from the catalog cache: for what is computed to be kept
 * in the shared availability cache, whose generation may already be past a catalog write whose own
 * bump this request has not seen yet.
 */
export function partnerByIdFromPrimary(loaders: LoaderRegistry) {
  return loaders.get<string, PartnerModel | null>('PartnerByIdFromPrimary', async (ids) => inKeyOrder(ids, await findPartnersByIds(loaders.db, ids)));
}

export function partnerById(loaders: LoaderRegistry) {
  return loaders.get<string, PartnerModel | null>('PartnerById', async (ids) =>
    inKeyOrder(ids, await loaders.catalogRows('partner', ids, findPartnersByIds)),
  );
}

/** Partners' booking counts (always read: they change with every booking), one statement for every partner of a request. */
export function activeBookingCountByPartnerId(loaders: LoaderRegistry) {
  return loaders.get<string, number>('ActiveBookingCountByPartnerId', async (ids) => {
    const counts = await findActiveBookingCountsByPartnerIds(await loaders.read(), ids);
    return ids.map((id) => counts.get(id) ?? 0);
  });
}

export function partnerPagesByBusinessId(loaders: LoaderRegistry, args: Omit<PartnerListArgs, 'limit'>, size: number) {
  return loaders.get<string, Page<PartnerModel>>(`PartnerPagesByBusinessId:${argsKey(args)}:${size}`, async (businessIds) => {
    const pages = await findPartnerPagesByBusinessIds(await loaders.read(), businessIds, { ...args, limit: size + 1 });
    const byId = partnerById(loaders);
    return businessIds.map((id) => {
      const rows = pages.get(id) ?? [];
      for (const row of rows) byId.prime(row.id, row);
      return toPage(rows, size, (p) => [p.name, p.id], args.after);
    });
  });
}

export function partnerCountByBusinessId(loaders: LoaderRegistry, args: Omit<PartnerListArgs, 'after' | 'limit'>) {
  return loaders.get<string, number>(`PartnerCountByBusinessId:${argsKey(args)}`, async (businessIds) => {
    const counts = await countPartnersByBusinessIds(await loaders.read(), businessIds, args);
    return businessIds.map((id) => counts.get(id) ?? 0);
  });
}
