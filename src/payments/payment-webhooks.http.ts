import type { IncomingMessage, ServerResponse } from 'node:http';
import { refusalMessage, type RateLimits } from '../server/rate-limits.js';
import { ErrorCode } from '../shared/errors.js';
import type { PaymentProviderRegistry } from './payment-provider.js';
import { applyPaymentEvent, type WebhookServices } from './payment-webhooks.actions.js';

/**
 * `POST /webhooks/payments/<provider>`: a provider reports a payment's outcome.
 *
 * Answers: 200 when the event is applied, or was already (providers retry anything else, for days);
 * 400 for a missing, wrong or stale signature or a malformed event, with nothing written; 404 for an
 * unknown provider; 429 with Retry-After over the provider's rate limit (RATE_LIMIT_WEBHOOK_*), unread; 405 for another method; 413 for a body over MAX_WEBHOOK_BODY_BYTES.
 * An event about a transaction we have no payment for is acknowledged (200) and logged: a payment
 * row commits before its client secret is handed out, so no later retry could find one either.
 */
export const PAYMENT_WEBHOOK_PATH = '/webhooks/payments/';
/** Provider events are a few hundred bytes; anything near this is not one. */
export const MAX_WEBHOOK_BODY_BYTES = 64 * 1024;

export interface PaymentWebhookDeps extends WebhookServices {
  providers: PaymentProviderRegistry;
  /** Deliveries per provider (the `paymentWebhooks` bucket); without it, none are limited. */
  rateLimits?: RateLimits;
}

/** The raw bytes of the body (the signature is over them, not over re-serialized JSON), or null when too large. */
function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      // Past the limit the rest is read and dropped so that the 413 reaches the client; a sender
      // that keeps going far beyond it is cut off.
      else if (size > limit * 16) req.destroy();
    });
    req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): true {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  return true;
}

export function paymentWebhookRoute(deps: PaymentWebhookDeps) {
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    if (!path.startsWith(PAYMENT_WEBHOOK_PATH)) return false;
    const name = path.slice(PAYMENT_WEBHOOK_PATH.length);
    if (req.method !== 'POST') return reply(res, 405, { error: `Expected POST, got ${req.method}.` }, { allow: 'POST' });
    const provider = deps.providers.get(name);
    if (!provider) return reply(res, 404, { error: `No payment provider named "${name}".` });
    if (deps.rateLimits) {
      const verdict = await deps.rateLimits.consumeOne('paymentWebhooks', provider.name);
      if (!verdict.allowed) {
        // Providers retry on 429; the body is drained unread so the answer reaches them.
        req.resume();
        return reply(res, 429, { error: refusalMessage(verdict), code: ErrorCode.RateLimited, retryAfterSeconds: verdict.retryAfterSeconds }, { 'retry-after': String(verdict.retryAfterSeconds) });
      }
    }

    const rawBody = await readRawBody(req, MAX_WEBHOOK_BODY_BYTES);
    if (!rawBody) return reply(res, 413, { error: `Expected a body of at most ${MAX_WEBHOOK_BODY_BYTES} bytes.` });
    const verdict = provider.verifyWebhook({ headers: req.headers, rawBody, nowSeconds: Math.floor(Date.now() / 1000) });
    if (!verdict.ok) {
      deps.log.info('A payment webhook was refused', { provider: name, reason: verdict.reason });
      return reply(res, 400, { error: verdict.reason });
    }

    const outcome = await applyPaymentEvent(deps, provider.name, verdict.event);
    if (outcome === 'unknown_payment') {
      deps.log.info('A payment event names no payment of ours; acknowledged and ignored', { provider: name, eventId: verdict.event.id, providerTxnId: verdict.event.providerTxnId });
    }
    reply(res, 200, { received: true, outcome });
    return true;
  };
}
