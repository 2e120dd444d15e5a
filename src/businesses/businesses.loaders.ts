import type { LoaderRegistry } from '../shared/loader-registry.js';
import { inKeyOrder } from '../shared/loader-registry.js';
import type { BusinessModel } from './business.model.js';
import { toPage } from '../shared/connection.js';
import { findBusinessesByIds, findBusinessesBySlugs, findBusinessPage, type BusinessPageArgs } from './businesses.repository.js';

/**
 * The same rows read from the primary, never from the catalog cache: for what is computed to be kept
 * in the shared availability cache, whose generation may already be past a catalog write whose own
 * bump this request has not seen yet.
 */
export function businessByIdFromPrimary(loaders: LoaderRegistry) {
  return loaders.get<string, BusinessModel | null>('BusinessByIdFromPrimary', async (ids) => inKeyOrder(ids, await findBusinessesByIds(loaders.db, ids)));
}

export function businessById(loaders: LoaderRegistry) {
  return loaders.get<string, BusinessModel | null>('BusinessById', async (ids) =>
    inKeyOrder(ids, await loaders.catalogRows('business', ids, findBusinessesByIds)),
  );
}

export function businessBySlug(loaders: LoaderRegistry) {
  return loaders.get<string, BusinessModel | null>('BusinessBySlug', async (slugs) => {
    const rows = await findBusinessesBySlugs(await loaders.read(), slugs);
    const byId = businessById(loaders);
    for (const row of rows) byId.prime(row.id, row);
    const bySlug = new Map(rows.map((row) => [row.slug, row]));
    return slugs.map((slug) => bySlug.get(slug) ?? null);
  });
}

/** A top-level page of businesses: one statement, not batched (there is no parent to batch on). */
export async function businessPage(loaders: LoaderRegistry, args: Omit<BusinessPageArgs, 'limit'>, size: number) {
  const rows = await findBusinessPage(await loaders.read(), { ...args, limit: size + 1 });
  const byId = businessById(loaders);
  for (const row of rows) byId.prime(row.id, row);
  return toPage(rows, size, (b) => [b.slug], args.afterSlug);
}
