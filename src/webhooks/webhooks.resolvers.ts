import type { Resolvers } from '../__generated__/resolvers-types.js';
import { businessById } from '../businesses/businesses.loaders.js';
import { partnerById } from '../partners/partners.loaders.js';
import { checkPageSize, decodeCursor } from '../shared/connection.js';
import { connectionResolvers } from '../shared/connection-resolvers.js';
import { toGlobalId } from '../shared/global-id.js';
import { webhookIdOf } from './webhook-request.js';
import { loadVisibleDelivery, webhookDeliveryPagesByEndpointId, webhookEndpointById, webhookEndpointsByBusinessId } from './webhooks.loaders.js';
import { referenced } from '../shared/referenced.js';

export const webhookResolvers: Resolvers = {
  Business: {
    webhookEndpoints: (business, _, { loaders }) => webhookEndpointsByBusinessId(loaders).load(business.id),
  },
  WebhookEndpoint: {
    id: (endpoint) => toGlobalId('WebhookEndpoint', endpoint.id),
    business: (endpoint, _, { loaders }) => referenced(businessById(loaders), endpoint.businessId, 'WebhookEndpoint.business', endpoint.id),
    partner: (endpoint, _, { loaders }) => (endpoint.partnerId ? partnerById(loaders).load(endpoint.partnerId) : null),
    // Reached only through an endpoint the viewer may see (its loader filters), so the log is theirs too.
    deliveries: (endpoint, { status, first, after }, { loaders }) => {
      const size = checkPageSize(first, 20);
      const args = { status: status ?? null, after: decodeCursor(after, ['id'])?.[0] ?? null };
      return webhookDeliveryPagesByEndpointId(loaders, args, size).load(endpoint.id);
    },
  },
  WebhookDelivery: {
    id: (delivery) => toGlobalId('WebhookDelivery', delivery.id),
    endpoint: (delivery, _, { loaders }) => referenced(webhookEndpointById(loaders), delivery.endpointId, 'WebhookDelivery.endpoint', delivery.id),
    event: (delivery) => delivery.event,
    webhookId: (delivery) => webhookIdOf(delivery.endpointId, delivery.event.position),
    lastResponseStatus: (delivery) => delivery.lastStatusCode,
    redeliveryOf: (delivery, _, { loaders }) => (delivery.redeliveryOfId ? loadVisibleDelivery(loaders, delivery.redeliveryOfId) : null),
  },
  WebhookDeliveryConnection: connectionResolvers,
};
