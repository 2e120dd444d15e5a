import type { Resolvers } from '../__generated__/resolvers-types.js';
import type { Viewer } from '../auth/viewer.js';
import { rememberById, type ResultMemory } from '../idempotency/idempotent-mutation.js';
import type { RequestContext } from '../server/context.js';
import { toGlobalId } from '../shared/global-id.js';
import { mutation } from '../shared/mutation.js';
import { webhookScopeOf } from './webhook-access.js';
import {
  checkWebhookEndpoint,
  checkWebhookPartner,
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  findCreatedWebhookEndpoint,
  redeliverWebhook,
  resumeWebhookEndpoint,
  type CreatedWebhookEndpoint,
  type WebhookEndpointCreateArgs,
} from './webhooks.actions.js';
import { loadVisibleDelivery, webhookEndpointById } from './webhooks.loaders.js';

/** Staff, partners and admins manage webhook endpoints; customers are refused with FORBIDDEN, anonymous callers with UNAUTHENTICATED. */
const who = { expected: 'a staff, partner or admin token to manage webhook endpoints', scope: webhookScopeOf };

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
    webhookEndpointCreate: mutation({
      name: 'webhookEndpointCreate',
      who: {
        ...who,
        scope: (viewer: Viewer, input: WebhookEndpointCreateArgs) => {
          const scope = webhookScopeOf(viewer);
          if (scope) checkWebhookPartner(scope, input);
          return scope;
        },
      },
      outside: ({ scope, input, app }) => checkWebhookEndpoint(scope, input, app.webhookTargets),
      inside: (trx, { input, prepared }) => createWebhookEndpoint(trx, input, prepared),
      remember: rememberCreatedEndpoint,
      payload: (value) => ({ endpoint: value?.endpoint ?? null, secret: value?.secret ?? null }),
    }),
    webhookEndpointDelete: mutation({
      name: 'webhookEndpointDelete',
      who,
      inside: (trx, { scope, input }) => deleteWebhookEndpoint(trx, scope, input),
      remember: () => rememberDeletedId,
      payload: (id) => ({ deletedEndpointId: id === null ? null : toGlobalId('WebhookEndpoint', id) }),
    }),
    webhookEndpointResume: mutation({
      name: 'webhookEndpointResume',
      who,
      inside: (trx, { scope, input }) => resumeWebhookEndpoint(trx, scope, input),
      remember: (context) => rememberById((id) => webhookEndpointById(context.loaders).load(id)),
      payload: (endpoint) => ({ endpoint }),
    }),
    webhookDeliveryRedeliver: mutation({
      name: 'webhookDeliveryRedeliver',
      who,
      inside: (trx, { scope, input }) => redeliverWebhook(trx, scope, input),
      remember: (context) => rememberById((id) => loadVisibleDelivery(context.loaders, id)),
      payload: (delivery) => ({ delivery }),
    }),
  },
};
