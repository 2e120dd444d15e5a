import type { RateLimits } from '../server/rate-limits.js';
import { providerWebhookRoute } from '../server/provider-webhook-route.js';
import type { PaymentProviderRegistry } from './payment-provider.js';
import { applyPaymentEvent, type WebhookServices } from './payment-webhooks.actions.js';

/**
 * `POST /webhooks/payments/<provider>`: a provider reports a payment's outcome (answers: see
 * server/provider-webhook-route.ts). An event about a transaction we have no payment for is
 * acknowledged (200) and logged: a payment row commits before its client secret is handed out, so
 * no later retry could find one either.
 */
export const PAYMENT_WEBHOOK_PATH = '/webhooks/payments/';
export { MAX_WEBHOOK_BODY_BYTES } from '../server/provider-webhook-route.js';

export interface PaymentWebhookDeps extends WebhookServices {
  providers: PaymentProviderRegistry;
  /** Deliveries per provider (the `paymentWebhooks` bucket); without it, none are limited. */
  rateLimits?: RateLimits;
}

export function paymentWebhookRoute(deps: PaymentWebhookDeps) {
  return providerWebhookRoute({
    path: PAYMENT_WEBHOOK_PATH,
    kind: 'payment',
    provider: (name) => deps.providers.get(name),
    apply: (provider, event) => applyPaymentEvent(deps, provider, event),
    rateLimits: deps.rateLimits,
    log: deps.log,
  });
}
