import type { IncomingHttpHeaders } from 'node:http';
import { ProviderRegistry } from '../shared/provider-registry.js';

/**
 * What the API needs from a payment provider (Stripe, Adyen, the built-in `test` one). Calls go
 * out over the network to the provider, so actions make them outside any database transaction.
 */
export interface PaymentProvider {
  /** The name used in `paymentCreate(provider)`, in `payments.provider` and in the webhook URL. */
  readonly name: string;

  /**
   * Starts a payment the client completes with the provider (card form, redirect). The idempotency
   * key makes a retried call return the first answer instead of a second intent.
   */
  createPayment(request: CreatePaymentRequest): Promise<CreatedPayment>;

  /**
   * Gives a succeeded payment back in full. The same idempotency key never refunds twice: a repeat
   * returns the first refund.
   */
  refund(request: RefundRequest): Promise<RefundResult>;

  /**
   * Checks that a webhook request came from the provider (signature, freshness) and reads its event
   * in our terms. Must not touch the database: a refused request writes nothing.
   */
  verifyWebhook(request: WebhookRequest): WebhookVerdict;
}

export interface CreatePaymentRequest {
  amountCents: number;
  currency: string;
  /** Our reference for the provider's dashboard: the booking's raw id. */
  reference: string;
  idempotencyKey: string;
}

export interface CreatedPayment {
  providerTxnId: string;
  /** What the client needs to complete the payment (a client secret or a redirect URL). */
  clientSecret: string;
}

export interface RefundRequest {
  providerTxnId: string;
  amountCents: number;
  currency: string;
  idempotencyKey: string;
}

export interface RefundResult {
  refundId: string;
}

export interface WebhookRequest {
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  nowSeconds: number;
}

export type PaymentEventType = 'payment.succeeded' | 'payment.failed' | 'payment.refunded';
export const PAYMENT_EVENT_TYPES: readonly PaymentEventType[] = ['payment.succeeded', 'payment.failed', 'payment.refunded'];

/** A provider's event, read into our terms. */
export interface PaymentEvent {
  /** The provider's event id: the same for every retry of one event. */
  id: string;
  type: PaymentEventType;
  providerTxnId: string;
  amountCents: number | null;
}

export type WebhookVerdict = { ok: true; event: PaymentEvent } | { ok: false; reason: string };

/** The payment providers the API knows, by name. */
export class PaymentProviderRegistry extends ProviderRegistry<PaymentProvider> {
  constructor(providers: PaymentProvider[] = []) {
    super('payment', providers);
  }
}
