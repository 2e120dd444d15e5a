import type { Resolvers } from '../__generated__/resolvers-types.js';
import { scopeOrRefuse, type ManagementScope } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { rememberById, withIdempotency, type ResultMemory } from '../idempotency/idempotent-mutation.js';
import type { RequestContext } from '../server/context.js';
import { toGlobalId } from '../shared/global-id.js';
import { toPayload } from '../shared/payload.js';
import { ok } from '../shared/user-errors.js';
import { webhookScopeOf } from './webhook-access.js';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  findCreatedWebhookEndpoint,
  redeliverWebhook,
  resumeWebhookEndpoint,
  type CreatedWebhookEndpoint,
} from './webhooks.actions.js';
import { loadVisibleDelivery, webhookEndpointById } from './webhooks.loaders.js';

/** The caller's webhook scope; customers are refused with FORBIDDEN, anonymous callers with UNAUTHENTICATED. */
function webhookManager(viewer: Viewer): ManagementScope {
  return scopeOrRefuse(webhookScopeOf(viewer), viewer, 'a staff, partner or admin token to manage webhook endpoints');
}

/** A retried `webhookEndpointCreate` gets the same endpoint and secret back (the secret is read from the endpoint, not kept with the key). */
function rememberCreatedEndpoint(context: RequestContext): ResultMemory<CreatedWebhookEndpoint> {
  return {
    save: (value) => value.endpoint.id,
    restore: async (saved) => findCreatedWebhookEndpoint(context.app.db, await webhookEndpointById(context.loaders).load(String(saved))),
  };
}

/** A deletion's result is the endpoint's id, which needs nothing to be brought back. */
const rememberDeletedId: ResultMemory<string> = { save: (id) => id, restore: async (saved) => String(saved) };

export const webhookMutations: Resolvers = {
  Mutation: {
    webhookEndpointCreate: async (_, { input }, context) => {
      const scope = webhookManager(context.viewer);
      const result = await withIdempotency(context, 'webhookEndpointCreate', input, (unit) => createWebhookEndpoint(unit.db, scope, input, context.app.webhookTargets), rememberCreatedEndpoint(context));
      return {
        ...toPayload(context, 'endpoint', result.ok ? ok(result.value.endpoint) : result),
        secret: result.ok ? result.value.secret : null,
      };
    },
    webhookEndpointDelete: async (_, { input }, context) => {
      const scope = webhookManager(context.viewer);
      const result = await withIdempotency(context, 'webhookEndpointDelete', input, (unit) => deleteWebhookEndpoint(unit.db, scope, input), rememberDeletedId);
      return toPayload(context, 'deletedEndpointId', result.ok ? ok(toGlobalId('WebhookEndpoint', result.value)) : result);
    },
    webhookEndpointResume: async (_, { input }, context) => {
      const scope = webhookManager(context.viewer);
      const remember = rememberById((id) => webhookEndpointById(context.loaders).load(id));
      return toPayload(context, 'endpoint', await withIdempotency(context, 'webhookEndpointResume', input, (unit) => resumeWebhookEndpoint(unit.db, scope, input), remember));
    },
    webhookDeliveryRedeliver: async (_, { input }, context) => {
      const scope = webhookManager(context.viewer);
      const remember = rememberById((id) => loadVisibleDelivery(context.loaders, id));
      return toPayload(context, 'delivery', await withIdempotency(context, 'webhookDeliveryRedeliver', input, (unit) => redeliverWebhook(unit.db, scope, input), remember));
    },
  },
};
