import type { RateLimits } from '../server/rate-limits.js';
import { providerWebhookRoute } from '../server/provider-webhook-route.js';
import type { PayoutProviderRegistry } from './payout-provider.js';
import { applyPayoutEvent, payoutEventSource, type PayoutWebhookServices } from './payout-webhooks.actions.js';

/**
 * `POST /webhooks/payouts/<provider>`: a payout provider reports a payout's outcome, signed and
 * answered exactly like the payment webhooks next to it (server/provider-webhook-route.ts). An
 * event naming no payout of ours is acknowledged (200) and logged. Its ids share
 * processed_payment_events, so the retention job prunes them with the payment events.
 */
export const PAYOUT_WEBHOOK_PATH = '/webhooks/payouts/';

export interface PayoutWebhookDeps extends PayoutWebhookServices {
  providers: PayoutProviderRegistry;
  /** Deliveries per provider, in the payment webhooks' bucket under `payout:<provider>`. */
  rateLimits?: RateLimits;
}

export function payoutWebhookRoute(deps: PayoutWebhookDeps) {
  return providerWebhookRoute({
    path: PAYOUT_WEBHOOK_PATH,
    kind: 'payout',
    provider: (name) => deps.providers.get(name),
    apply: (provider, event) => applyPayoutEvent(deps, provider, event),
    rateLimits: deps.rateLimits,
    rateLimitKey: payoutEventSource,
    log: deps.log,
  });
}
