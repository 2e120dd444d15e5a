import { randomUUID } from 'node:crypto';
import {
  PAYMENT_EVENT_TYPES,
  type CreatedPayment,
  type CreatePaymentRequest,
  type PaymentEventType,
  type PaymentProvider,
  type RefundRequest,
  type RefundResult,
  type WebhookRequest,
  type WebhookVerdict,
} from './payment-provider.js';
import { SIGNATURE_HEADER, signatureHeader, verifySignedRequest } from '../shared/webhook-signature.js';

/**
 * The built-in `test` provider: it plays the external side in-process, so development and tests
 * run the whole payment flow (create, webhook, refund) without a network. It answers like a real
 * provider (transaction ids, client secrets, idempotent calls) and builds webhook events signed
 * exactly as one would (`signedEvent`); the API treats it like any other provider.
 * It takes no money: the configuration leaves it out in production unless its secret is set.
 */
export const TEST_PROVIDER_NAME = 'test';

export interface SignedEventOptions {
  type: PaymentEventType;
  txnId: string;
  /** The provider's event id; a retry of the same event keeps it. Defaults to a new one. */
  eventId?: string;
  amountCents?: number;
  /** Unix seconds the signature claims; defaults to now. A retry is re-signed with a new one. */
  timestamp?: number;
}

export interface SignedEvent {
  headers: Record<string, string>;
  body: string;
  eventId: string;
}

type Operation = 'createPayment' | 'refund';

export class TestPaymentProvider implements PaymentProvider {
  readonly name = TEST_PROVIDER_NAME;
  /** Refunds made, one per distinct idempotency key: what a provider dashboard would list. */
  readonly refunds: Array<RefundRequest & RefundResult> = [];
  private readonly createdByKey = new Map<string, CreatedPayment>();
  private readonly refundsByKey = new Map<string, RefundResult>();
  private readonly failures = new Map<Operation, number>();

  constructor(
    private readonly secret: string,
    private readonly toleranceSeconds: number,
  ) {}

  async createPayment(request: CreatePaymentRequest): Promise<CreatedPayment> {
    this.maybeFail('createPayment');
    const earlier = this.createdByKey.get(request.idempotencyKey);
    if (earlier) return earlier;
    const id = randomUUID().replaceAll('-', '');
    const created = { providerTxnId: `test_txn_${id}`, clientSecret: `test_txn_${id}_secret_${randomUUID().replaceAll('-', '')}` };
    this.createdByKey.set(request.idempotencyKey, created);
    return created;
  }

  async refund(request: RefundRequest): Promise<RefundResult> {
    this.maybeFail('refund');
    const earlier = this.refundsByKey.get(request.idempotencyKey);
    if (earlier) return earlier;
    const result = { refundId: `test_refund_${randomUUID().replaceAll('-', '')}` };
    this.refundsByKey.set(request.idempotencyKey, result);
    this.refunds.push({ ...request, ...result });
    return result;
  }

  verifyWebhook(request: WebhookRequest): WebhookVerdict {
    const check = verifySignedRequest(this.secret, this.toleranceSeconds, request);
    if (!check.ok) return check;
    return parseEventBody(request.rawBody);
  }

  // -------------------------------------------------------------------------------------------
  // The test side: what the external provider would do.

  /** A webhook request exactly as the provider would send it: JSON body and signature header. */
  signedEvent(options: SignedEventOptions): SignedEvent {
    const eventId = options.eventId ?? `evt_${randomUUID().replaceAll('-', '')}`;
    const body = JSON.stringify({
      id: eventId,
      type: options.type,
      data: { provider_txn_id: options.txnId, amount_cents: options.amountCents ?? null },
    });
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
    return { eventId, body, headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signatureHeader(this.secret, timestamp, body) } };
  }

  /** Makes the next `times` calls of `operation` fail, as an unreachable provider would. */
  failNext(operation: Operation, times = 1): void {
    this.failures.set(operation, times);
  }

  private maybeFail(operation: Operation): void {
    const left = this.failures.get(operation) ?? 0;
    if (left <= 0) return;
    this.failures.set(operation, left - 1);
    throw new Error(`The test provider was told to fail ${operation}.`);
  }
}

/** Reads `{id, type, data: {provider_txn_id, amount_cents}}`, the event format of the test provider. */
export function parseEventBody(rawBody: Buffer): WebhookVerdict {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { ok: false, reason: 'Expected a JSON body; it could not be parsed.' };
  }
  const event = body as { id?: unknown; type?: unknown; data?: { provider_txn_id?: unknown; amount_cents?: unknown } };
  if (typeof event?.id !== 'string' || event.id.length < 1 || event.id.length > 255) {
    return { ok: false, reason: 'Expected `id` to be the event id, a string of 1 to 255 characters.' };
  }
  if (!PAYMENT_EVENT_TYPES.includes(event.type as PaymentEventType)) {
    return { ok: false, reason: `Expected \`type\` to be one of ${PAYMENT_EVENT_TYPES.join(', ')}, got ${JSON.stringify(event.type)}.` };
  }
  const txnId = event.data?.provider_txn_id;
  if (typeof txnId !== 'string' || txnId.length < 1 || txnId.length > 255) {
    return { ok: false, reason: 'Expected `data.provider_txn_id` to be a string of 1 to 255 characters.' };
  }
  const amount = event.data?.amount_cents ?? null;
  if (amount !== null && !Number.isSafeInteger(amount)) return { ok: false, reason: `Expected \`data.amount_cents\` to be an integer, got ${JSON.stringify(amount)}.` };
  return { ok: true, event: { id: event.id, type: event.type as PaymentEventType, providerTxnId: txnId, amountCents: amount as number | null } };
}
