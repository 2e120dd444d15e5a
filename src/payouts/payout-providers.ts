import type { PaymentConfig } from '../config.js';
import { PayoutProviderRegistry } from './payout-provider.js';
import { TestPayoutProvider } from './test-payout-provider.js';

/** The payout providers this deployment offers; a real one plugs in here next to `test`. */
export function createPayoutProviders(config: PaymentConfig): PayoutProviderRegistry {
  const registry = new PayoutProviderRegistry();
  if (config.payoutTestWebhookSecret) registry.register(new TestPayoutProvider(config.payoutTestWebhookSecret, config.webhookToleranceSeconds));
  return registry;
}
