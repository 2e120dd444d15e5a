import type { Page } from '../shared/connection.js';
import { toPage } from '../shared/connection.js';
import { argsKey, inKeyOrder, type LoaderRegistry } from '../shared/loader-registry.js';
import type { ServiceModel } from './service.model.js';
import {
  countServicesByBusinessIds,
  findServicePagesByBusinessIds,
  findServicesByPartnerIds,
  findServicesByIds,
  type ServiceListArgs,
} from './services.repository.js';

/**
 * The same rows read from the primary, never from the catalog cache: for what is computed to be kept
 * in the shared availability cache, whose generation may already be past a catalog write whose own
 * bump this request has not seen yet.
 */
export function serviceByIdFromPrimary(loaders: LoaderRegistry) {
  return loaders.get<string, ServiceModel | null>('ServiceByIdFromPrimary', async (ids) => inKeyOrder(ids, await findServicesByIds(loaders.db, ids)));
}

export function serviceById(loaders: LoaderRegistry) {
  return loaders.get<string, ServiceModel | null>('ServiceById', async (ids) =>
    inKeyOrder(ids, await loaders.catalogRows('service', ids, findServicesByIds)),
  );
}

export function servicePagesByBusinessId(loaders: LoaderRegistry, args: Omit<ServiceListArgs, 'limit'>, size: number) {
  return loaders.get<string, Page<ServiceModel>>(`ServicePagesByBusinessId:${argsKey(args)}:${size}`, async (businessIds) => {
    const pages = await findServicePagesByBusinessIds(await loaders.read(), businessIds, { ...args, limit: size + 1 });
    const byId = serviceById(loaders);
    return businessIds.map((id) => {
      const rows = pages.get(id) ?? [];
      for (const row of rows) byId.prime(row.id, row);
      return toPage(rows, size, (s) => [s.name, s.id], args.after);
    });
  });
}

export function serviceCountByBusinessId(loaders: LoaderRegistry, includeInactive: boolean) {
  return loaders.get<string, number>(`ServiceCountByBusinessId:${includeInactive}`, async (businessIds) => {
    const counts = await countServicesByBusinessIds(await loaders.read(), businessIds, includeInactive);
    return businessIds.map((id) => counts.get(id) ?? 0);
  });
}

/** The live services each partner performs, alphabetically: one statement for every partner of a request. */
export function servicesByPartnerId(loaders: LoaderRegistry) {
  return loaders.get<string, ServiceModel[]>('ServicesByPartnerId', async (partnerIds) => {
    const byPartner = await findServicesByPartnerIds(loaders.db, partnerIds);
    const byId = serviceById(loaders);
    return partnerIds.map((id) => {
      const rows = byPartner.get(id) ?? [];
      for (const row of rows) byId.prime(row.id, row);
      return rows;
    });
  });
}
