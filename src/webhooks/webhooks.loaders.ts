import { toPage, type Page } from '../shared/connection.js';
import { argsKey, inKeyOrder, type LoaderRegistry } from '../shared/loader-registry.js';
import { canManageWebhookEndpoint, webhookScopeOf } from './webhook-access.js';
import type { WebhookDeliveryModel, WebhookEndpointModel } from './webhook.model.js';
import {
  findWebhookDeliveriesByIds,
  findWebhookDeliveryPagesByEndpointIds,
  type DeliveryListArgs,
} from './webhook-deliveries.repository.js';
import { findWebhookEndpointsByBusinessIds, findWebhookEndpointsByIds } from './webhook-endpoints.repository.js';

/** Live endpoints the viewer may manage; any other reads as missing. */
export function webhookEndpointById(loaders: LoaderRegistry) {
  const scope = webhookScopeOf(loaders.viewer);
  return loaders.get<string, WebhookEndpointModel | null>('WebhookEndpointById', async (ids) =>
    inKeyOrder(ids, scope ? await findWebhookEndpointsByIds(loaders.db, ids) : [], (e) => canManageWebhookEndpoint(scope, e)),
  );
}

/** A business's endpoints the viewer may manage (all for its staff, their own for a partner, none for others). */
export function webhookEndpointsByBusinessId(loaders: LoaderRegistry) {
  const scope = webhookScopeOf(loaders.viewer);
  return loaders.get<string, WebhookEndpointModel[]>('WebhookEndpointsByBusinessId', async (businessIds) => {
    const visible = scope ? businessIds.filter((id) => scope.businessId === null || scope.businessId === id) : [];
    const groups = visible.length ? await findWebhookEndpointsByBusinessIds(loaders.db, visible) : new Map<string, WebhookEndpointModel[]>();
    const byId = webhookEndpointById(loaders);
    return businessIds.map((id) => {
      const endpoints = (groups.get(id) ?? []).filter((e) => canManageWebhookEndpoint(scope, e));
      for (const endpoint of endpoints) byId.prime(endpoint.id, endpoint);
      return endpoints;
    });
  });
}

/** Deliveries by id, unfiltered: callers check that the viewer may see the endpoint (see loadVisibleDelivery). */
export function webhookDeliveryById(loaders: LoaderRegistry) {
  return loaders.get<string, WebhookDeliveryModel | null>('WebhookDeliveryById', async (ids) =>
    inKeyOrder(ids, await findWebhookDeliveriesByIds(loaders.db, ids)),
  );
}

/** A delivery is visible exactly when its endpoint is. */
export async function loadVisibleDelivery(loaders: LoaderRegistry, id: string): Promise<WebhookDeliveryModel | null> {
  const delivery = await webhookDeliveryById(loaders).load(id);
  return delivery && (await webhookEndpointById(loaders).load(delivery.endpointId)) ? delivery : null;
}

/** Callers load the endpoint through webhookEndpointById first: its log is visible with it. */
export function webhookDeliveryPagesByEndpointId(loaders: LoaderRegistry, args: Omit<DeliveryListArgs, 'limit'>, size: number) {
  return loaders.get<string, Page<WebhookDeliveryModel>>(`WebhookDeliveryPagesByEndpointId:${argsKey(args)}:${size}`, async (endpointIds) => {
    const pages = await findWebhookDeliveryPagesByEndpointIds(loaders.db, endpointIds, { ...args, limit: size + 1 });
    const byId = webhookDeliveryById(loaders);
    return endpointIds.map((id) => {
      const rows = pages.get(id) ?? [];
      for (const row of rows) byId.prime(row.id, row);
      return toPage(rows, size, (d) => [d.id], args.after);
    });
  });
}
