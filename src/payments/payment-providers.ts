import type { PaymentConfig } from '../config.js';
import { PaymentProviderRegistry } from './payment-provider.js';
import { TestPaymentProvider } from './test-payment-provider.js';

/**
 * The providers this deployment offers. A real provider plugs in here, next to `test`, with its
 * own secrets from the configuration.
 */
export function createPaymentProviders(config: PaymentConfig): PaymentProviderRegistry {
  const registry = new PaymentProviderRegistry();
  if (config.testWebhookSecret) registry.register(new TestPaymentProvider(config.testWebhookSecret, config.webhookToleranceSeconds));
  return registry;
}
