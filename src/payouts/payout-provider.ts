import type { IncomingHttpHeaders } from 'node:http';
import { ProviderRegistry } from '../shared/provider-registry.js';

/**
 * What the API needs from a payout provider (Stripe Connect, Adyen for Platforms, the built-in
 * `test` one), the way payments/payment-provider.ts does for payments. Calls go out over the
 * network, so they are made after the payout's transaction committed, never inside it.
 */
export interface PayoutProvider {
  /** The name used in `payoutCreate(provider)`, in `payouts.provider` and in the webhook URL. */
  readonly name: string;

  /**
   * Asks the provider to pay a partner. The same idempotency key never pays twice: a repeat
   * returns the first answer.
   */
  createPayout(request: CreatePayoutRequest): Promise<CreatedPayout>;

  /**
   * Checks that a webhook request came from the provider (signature, freshness) and reads its event
   * in our terms. Must not touch the database: a refused request writes nothing.
   */
  verifyWebhook(request: PayoutWebhookRequest): PayoutWebhookVerdict;
}

export interface CreatePayoutRequest {
  /** Our payout's raw id: the provider's events name it, so they find the payout even before its reference is recorded. */
  reference: string;
  /** The partner's raw id, for the provider's dashboard (a real provider maps it to a connected account). */
  partnerId: string;
  amountCents: number;
  currency: string;
  idempotencyKey: string;
}

export interface CreatedPayout {
  providerPayoutId: string;
}

export interface PayoutWebhookRequest {
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  nowSeconds: number;
}

export type PayoutEventType = 'payout.paid' | 'payout.failed';
export const PAYOUT_EVENT_TYPES: readonly PayoutEventType[] = ['payout.paid', 'payout.failed'];

/** A provider's payout event, read into our terms. */
export interface PayoutEvent {
  /** The provider's event id: the same for every retry of one event. */
  id: string;
  type: PayoutEventType;
  /** Our payout's raw id, as sent in `reference`. */
  reference: string;
  providerPayoutId: string;
  /** Why it failed, for `payout.failed`. */
  failureReason: string | null;
}

export type PayoutWebhookVerdict = { ok: true; event: PayoutEvent } | { ok: false; reason: string };

/** The payout providers the API knows, by name. */
export class PayoutProviderRegistry extends ProviderRegistry<PayoutProvider> {
  constructor(providers: PayoutProvider[] = []) {
    super('payout', providers);
  }
}
