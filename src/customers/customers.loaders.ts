import { canSeeCustomer } from '../auth/access.js';
import { toPage, type Page } from '../shared/connection.js';
import { argsKey, inKeyOrder, type LoaderRegistry } from '../shared/loader-registry.js';
import type { CustomerModel } from './customer.model.js';
import { findCustomerPagesByBusinessIds, findCustomersByIds } from './customers.repository.js';

export function customerById(loaders: LoaderRegistry) {
  return loaders.get<string, CustomerModel | null>('CustomerById', async (ids) =>
    inKeyOrder(ids, await findCustomersByIds(loaders.db, ids), (c) => canSeeCustomer(loaders.viewer, c)),
  );
}

/** Callers check that the viewer is staff of each business first. */
export function customerPagesByBusinessId(loaders: LoaderRegistry, args: { after: [string, string] | null }, size: number) {
  return loaders.get<string, Page<CustomerModel>>(`CustomerPagesByBusinessId:${argsKey(args)}:${size}`, async (businessIds) => {
    const pages = await findCustomerPagesByBusinessIds(loaders.db, businessIds, { ...args, limit: size + 1 });
    const byId = customerById(loaders);
    return businessIds.map((id) => {
      const rows = pages.get(id) ?? [];
      for (const row of rows) byId.prime(row.id, row);
      return toPage(rows, size, (c) => [c.name, c.id], args.after);
    });
  });
}
