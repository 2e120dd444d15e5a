import { randomBytes } from 'node:crypto';
import type { BookingEventType } from '../__generated__/resolvers-types.js';
import type { ManagementScope } from '../auth/access.js';
import type { Db } from '../db/sql-helpers.js';
import { findPartnersByIds } from '../partners/partners.repository.js';
import { forbidden } from '../shared/errors.js';
import { rawIdOf } from '../shared/global-id.js';
import type { Step } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { abort } from '../shared/user-errors.js';
import { canManageWebhookEndpoint } from './webhook-access.js';
import { refusalMessage, refusalOfWebhookUrl, type WebhookTargetRules } from './webhook-address-policy.js';
import type { WebhookDeliveryModel, WebhookEndpointModel } from './webhook.model.js';
import {
  failPendingWebhookDeliveries,
  findWebhookDeliveriesByIds,
  insertRedelivery,
  unparkWebhookDeliveries,
} from './webhook-deliveries.repository.js';
import {
  activateWebhookEndpoint,
  countLiveWebhookEndpoints,
  findWebhookEndpointSecret,
  insertWebhookEndpoint,
  lockBusinessForWebhooks,
  lockWebhookEndpointById,
  softDeleteWebhookEndpoint,
} from './webhook-endpoints.repository.js';

/**
 * Webhook endpoint rules, as steps of their mutations (see src/shared/mutation.ts). The caller's
 * scope comes from webhookScopeOf: an endpoint outside it (another business's, or for a partner one
 * that is not theirs) reads exactly like a missing one.
 */

/** Live endpoints per business: each event costs a delivery per matching endpoint. */
export const MAX_ENDPOINTS_PER_BUSINESS = 20;
export const MAX_URL_LENGTH = 2048;

const ENDPOINT_ID_FIELD = ['input', 'endpointId'];

function endpointNotFound(gid: string): never {
  abort('NOT_FOUND', `Expected the ID of a webhook endpoint you may manage, got "${gid}".`, ENDPOINT_ID_FIELD);
}

/** 32 random bytes: the HMAC key that signs the endpoint's requests. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** The URL to store (normalized by the WHATWG parser, so the scheme is lower case), or a user error. */
function checkedUrl(raw: string, targets: WebhookTargetRules): string {
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    abort('INVALID_INPUT', `Expected an absolute https:// or http:// URL, got "${raw.slice(0, 200)}".`, ['input', 'url']);
  }
  if (url.username || url.password) {
    // fetch refuses such a URL, and the credentials would end up in errors and logs.
    abort('INVALID_INPUT', 'Expected a URL without user name or password; requests are authenticated by their signature.', ['input', 'url']);
  }
  if (url.href.length > MAX_URL_LENGTH) {
    abort('INVALID_INPUT', `Expected a URL of at most ${MAX_URL_LENGTH} characters, got ${url.href.length}.`, ['input', 'url']);
  }
  // Only what the URL shows: a name resolving to a private address is refused when sending.
  const refusal = refusalOfWebhookUrl(url, targets);
  if (refusal) abort('URL_NOT_ALLOWED', refusalMessage(refusal, url), ['input', 'url']);
  return url.href;
}

// ---------------------------------------------------------------------------------------------
// webhookEndpointCreate

export interface WebhookEndpointCreateArgs {
  businessId: string;
  partnerId?: string | null;
  url: string;
  eventTypes: BookingEventType[];
}

export interface CreatedWebhookEndpoint {
  endpoint: WebhookEndpointModel;
  /** Shown once, in the creation's payload. */
  secret: string;
}

/** A partner registers endpoints for themself only: refused before any statement when the input names another. */
export function checkWebhookPartner(scope: ManagementScope, input: { partnerId?: string | null }): void {
  if (scope.partnerId !== null && input.partnerId != null && rawIdOf(input.partnerId, 'Partner') !== scope.partnerId) {
    throw forbidden('Expected a partner to register webhook endpoints for themself only, got another partner\'s ID.');
  }
}

/** What an endpoint registration asks for, checked before the transaction. */
export interface CheckedWebhookEndpoint {
  businessId: string;
  partnerId: string | null;
  url: string;
  eventTypes: BookingEventType[];
}

export async function checkWebhookEndpoint(scope: ManagementScope, input: WebhookEndpointCreateArgs, targets: WebhookTargetRules): Promise<CheckedWebhookEndpoint> {
  const businessId = rawIdOf(input.businessId, 'Business');
  if (!businessId || (scope.businessId !== null && scope.businessId !== businessId)) {
    abort('NOT_FOUND', `Expected the ID of a business you manage, got "${input.businessId}".`, ['input', 'businessId']);
  }
  let partnerId: string | null = null;
  if (input.partnerId != null) {
    partnerId = rawIdOf(input.partnerId, 'Partner');
    if (!partnerId) abort('NOT_FOUND', `Expected the ID of a partner of the business, got "${input.partnerId}".`, ['input', 'partnerId']);
  }
  if (scope.partnerId !== null) partnerId = scope.partnerId;

  const url = checkedUrl(input.url, targets);
  if (!input.eventTypes.length) abort('INVALID_INPUT', 'Expected at least one event type to send, got none.', ['input', 'eventTypes']);
  return { businessId, partnerId, url, eventTypes: [...new Set(input.eventTypes)] };
}

export async function createWebhookEndpoint(trx: Trx, input: WebhookEndpointCreateArgs, checked: CheckedWebhookEndpoint): Promise<Step<CreatedWebhookEndpoint>> {
  const { businessId, partnerId, url, eventTypes } = checked;
  if (!(await lockBusinessForWebhooks(trx, businessId))) abort('NOT_FOUND', `Expected the ID of a business you manage, got "${input.businessId}".`, ['input', 'businessId']);
  if (partnerId !== null) {
    const [partner] = await findPartnersByIds(trx, [partnerId]);
    if (!partner || partner.businessId !== businessId) abort('NOT_FOUND', `Expected the ID of a partner of the business, got "${input.partnerId}".`, ['input', 'partnerId']);
  }
  const live = await countLiveWebhookEndpoints(trx, businessId);
  if (live >= MAX_ENDPOINTS_PER_BUSINESS) {
    abort('INVALID_INPUT', `A business may have at most ${MAX_ENDPOINTS_PER_BUSINESS} webhook endpoints and this one has ${live}; delete one first.`);
  }

  const secret = newWebhookSecret();
  const endpoint = await insertWebhookEndpoint(trx, { businessId, partnerId, url, eventTypes, secret });
  return {
    value: { endpoint, secret },
    audit: [{ businessId, entity: 'webhook_endpoint', entityId: endpoint.id, action: 'webhook_endpoint.created', changes: { after: { url, eventTypes, partnerId } } }],
  };
}

/** A created endpoint with its secret again, for the replay of an idempotent creation (null once it is deleted). */
export async function findCreatedWebhookEndpoint(db: Db, endpoint: WebhookEndpointModel | null): Promise<CreatedWebhookEndpoint | null> {
  const secret = endpoint && (await findWebhookEndpointSecret(db, endpoint.id));
  return endpoint && secret ? { endpoint, secret } : null;
}

// ---------------------------------------------------------------------------------------------
// webhookEndpointDelete, webhookEndpointResume

/** Soft-deletes an endpoint and gives up its pending deliveries; returns its id. */
export async function deleteWebhookEndpoint(trx: Trx, scope: ManagementScope, input: { endpointId: string }): Promise<Step<string>> {
  const id = rawIdOf(input.endpointId, 'WebhookEndpoint');
  const endpoint = id ? await lockWebhookEndpointById(trx, id) : undefined;
  if (!endpoint || !canManageWebhookEndpoint(scope, endpoint)) endpointNotFound(input.endpointId);
  await softDeleteWebhookEndpoint(trx, endpoint.id);
  const given = await failPendingWebhookDeliveries(trx, endpoint.id, 'Given up: the endpoint was deleted.');
  return {
    value: endpoint.id,
    audit: [{
      businessId: endpoint.businessId,
      entity: 'webhook_endpoint',
      entityId: endpoint.id,
      action: 'webhook_endpoint.deleted',
      changes: { before: { url: endpoint.url, status: endpoint.status }, pendingDeliveriesGivenUp: given },
    }],
  };
}

/** Re-activates a paused endpoint, resets its failure count and makes its waiting deliveries due now. */
export async function resumeWebhookEndpoint(trx: Trx, scope: ManagementScope, input: { endpointId: string }): Promise<Step<WebhookEndpointModel>> {
  const id = rawIdOf(input.endpointId, 'WebhookEndpoint');
  const endpoint = id ? await lockWebhookEndpointById(trx, id) : undefined;
  if (!endpoint || !canManageWebhookEndpoint(scope, endpoint)) endpointNotFound(input.endpointId);
  // Resuming an active endpoint changes nothing, so a retried request is harmless.
  if (endpoint.status === 'ACTIVE') return { value: endpoint };
  const resumed = await activateWebhookEndpoint(trx, endpoint.id);
  const due = await unparkWebhookDeliveries(trx, endpoint.id);
  return {
    value: resumed,
    audit: [{
      businessId: endpoint.businessId,
      entity: 'webhook_endpoint',
      entityId: endpoint.id,
      action: 'webhook_endpoint.resumed',
      changes: {
        before: { status: endpoint.status, consecutiveFailures: endpoint.consecutiveFailures, pauseReason: endpoint.pauseReason },
        after: { status: resumed.status, consecutiveFailures: resumed.consecutiveFailures },
        deliveriesDue: due,
      },
    }],
  };
}

// ---------------------------------------------------------------------------------------------
// webhookDeliveryRedeliver

/** A new delivery of the same event to the same endpoint, due now; the original stays in the log. */
export async function redeliverWebhook(trx: Trx, scope: ManagementScope, input: { deliveryId: string }): Promise<Step<WebhookDeliveryModel>> {
  const id = rawIdOf(input.deliveryId, 'WebhookDelivery');
  const notFound: () => never = () => abort('NOT_FOUND', `Expected the ID of a webhook delivery you may see, got "${input.deliveryId}".`, ['input', 'deliveryId']);
  const [original] = id ? await findWebhookDeliveriesByIds(trx, [id]) : [];
  if (!original) notFound();
  // Locked so that a pause or resume recorded meanwhile cannot leave the new delivery due on a
  // paused endpoint (or parked on an active one).
  const endpoint = await lockWebhookEndpointById(trx, original.endpointId);
  if (!endpoint || !canManageWebhookEndpoint(scope, endpoint)) notFound();
  const newId = await insertRedelivery(trx, original.id);
  const [created] = await findWebhookDeliveriesByIds(trx, [newId]);
  return {
    value: created,
    audit: [{
      businessId: endpoint.businessId,
      entity: 'webhook_delivery',
      entityId: newId,
      action: 'webhook_delivery.redelivered',
      changes: { redeliveryOf: original.id, endpointId: endpoint.id, eventCursor: original.event.position },
    }],
  };
}
