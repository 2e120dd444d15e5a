import { randomUUID } from 'node:crypto';
import { SIGNATURE_HEADER, signatureHeader, verifySignedRequest } from '../shared/webhook-signature.js';
import {
  PAYOUT_EVENT_TYPES,
  type CreatedPayout,
  type CreatePayoutRequest,
  type PayoutEventType,
  type PayoutProvider,
  type PayoutWebhookRequest,
  type PayoutWebhookVerdict,
} from './payout-provider.js';

/**
 * The built-in `test` payout provider: like the `test` payment provider, it plays the external
 * side in-process (idempotent calls, references, webhook events signed exactly as a provider would
 * sign them) and moves no money. The configuration leaves it out in production unless its secret
 * is set.
 */
export const TEST_PAYOUT_PROVIDER_NAME = 'test';

export interface SignedPayoutEventOptions {
  type: PayoutEventType;
  /** Our payout's raw id. */
  reference: string;
  providerPayoutId: string;
  failureReason?: string;
  /** The provider's event id; a retry of the same event keeps it. Defaults to a new one. */
  eventId?: string;
  /** Unix seconds the signature claims; defaults to now. */
  timestamp?: number;
}

export class TestPayoutProvider implements PayoutProvider {
  readonly name = TEST_PAYOUT_PROVIDER_NAME;
  /** Payouts made, one per distinct idempotency key: what a provider dashboard would list. */
  readonly payouts: Array<CreatePayoutRequest & CreatedPayout> = [];
  private readonly byKey = new Map<string, CreatedPayout>();
  private failuresLeft = 0;

  constructor(
    private readonly secret: string,
    private readonly toleranceSeconds: number,
  ) {}

  async createPayout(request: CreatePayoutRequest): Promise<CreatedPayout> {
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error('The test payout provider was told to fail createPayout.');
    }
    const earlier = this.byKey.get(request.idempotencyKey);
    if (earlier) return earlier;
    const created = { providerPayoutId: `test_po_${randomUUID().replaceAll('-', '')}` };
    this.byKey.set(request.idempotencyKey, created);
    this.payouts.push({ ...request, ...created });
    return created;
  }

  verifyWebhook(request: PayoutWebhookRequest): PayoutWebhookVerdict {
    const check = verifySignedRequest(this.secret, this.toleranceSeconds, request);
    if (!check.ok) return check;
    return parsePayoutEventBody(request.rawBody);
  }

  // -------------------------------------------------------------------------------------------
  // The test side: what the external provider would do.

  /** A webhook request exactly as the provider would send it: JSON body and signature header. */
  signedEvent(options: SignedPayoutEventOptions): { headers: Record<string, string>; body: string; eventId: string } {
    const eventId = options.eventId ?? `evt_${randomUUID().replaceAll('-', '')}`;
    const body = JSON.stringify({
      id: eventId,
      type: options.type,
      data: { reference: options.reference, provider_payout_id: options.providerPayoutId, failure_reason: options.failureReason ?? null },
    });
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
    return { eventId, body, headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signatureHeader(this.secret, timestamp, body) } };
  }

  /** Makes the next `times` calls of createPayout fail, as an unreachable provider would. */
  failNext(times = 1): void {
    this.failuresLeft = times;
  }
}

const text = (value: unknown, max: number): value is string => typeof value === 'string' && value.length >= 1 && value.length <= max;

/** Reads `{id, type, data: {reference, provider_payout_id, failure_reason}}`, the test provider's payout event. */
export function parsePayoutEventBody(rawBody: Buffer): PayoutWebhookVerdict {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { ok: false, reason: 'Expected a JSON body; it could not be parsed.' };
  }
  const event = body as { id?: unknown; type?: unknown; data?: { reference?: unknown; provider_payout_id?: unknown; failure_reason?: unknown } };
  if (!text(event?.id, 255)) return { ok: false, reason: 'Expected `id` to be the event id, a string of 1 to 255 characters.' };
  if (!PAYOUT_EVENT_TYPES.includes(event.type as PayoutEventType)) {
    return { ok: false, reason: `Expected \`type\` to be one of ${PAYOUT_EVENT_TYPES.join(', ')}, got ${JSON.stringify(event.type)}.` };
  }
  const reference = event.data?.reference;
  if (typeof reference !== 'string' || !/^[1-9][0-9]{0,18}$/.test(reference)) return { ok: false, reason: 'Expected `data.reference` to be the payout reference we sent.' };
  if (!text(event.data?.provider_payout_id, 255)) return { ok: false, reason: 'Expected `data.provider_payout_id` to be a string of 1 to 255 characters.' };
  const reason = event.data?.failure_reason ?? null;
  if (reason !== null && typeof reason !== 'string') return { ok: false, reason: `Expected \`data.failure_reason\` to be a string or null, got ${JSON.stringify(reason)}.` };
  return {
    ok: true,
    event: { id: event.id, type: event.type as PayoutEventType, reference, providerPayoutId: event.data!.provider_payout_id as string, failureReason: reason === null ? null : reason.slice(0, 500) },
  };
}
