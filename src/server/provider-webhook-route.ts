import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { refusalMessage, type RateLimits } from './rate-limits.js';

/**
 * `POST <path><provider>`: a provider (payments, payouts) reports an outcome by signed webhook.
 * The mechanism is the same for every kind of provider; what a verified event does is the domain's
 * (`apply`), which records the event id in the transaction of its effect.
 *
 * Answers: 200 when the event is applied, or was already (providers retry anything else, for days);
 * 400 for a missing, wrong or stale signature or a malformed event, with nothing written; 404 for an
 * unknown provider; 429 with Retry-After over the provider's rate limit (RATE_LIMIT_WEBHOOK_*),
 * unread; 405 for another method; 413 for a body over MAX_WEBHOOK_BODY_BYTES.
 */

/** Provider events are a few hundred bytes; anything near this is not one. */
export const MAX_WEBHOOK_BODY_BYTES = 64 * 1024;

export type WebhookCheck<E> = { ok: true; event: E } | { ok: false; reason: string };

export interface WebhookProvider<E> {
  readonly name: string;
  verifyWebhook(request: { headers: IncomingHttpHeaders; rawBody: Buffer; nowSeconds: number }): WebhookCheck<E>;
}

export interface ProviderWebhookRouteOptions<E> {
  /** The path prefix, ending in `/`; the provider's name follows it. */
  path: string;
  /** What kind of provider, for answers and log lines: `payment`, `payout`. */
  kind: string;
  provider: (name: string) => WebhookProvider<E> | undefined;
  /** Applies a verified event once; its outcome is the answer's `outcome`. */
  apply: (provider: string, event: E) => Promise<string>;
  /** Deliveries per provider (the `paymentWebhooks` bucket, keyed by `rateLimitKey`); without it, none are limited. */
  rateLimits?: RateLimits;
  rateLimitKey?: (provider: string) => string;
  log: Logger;
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

export function providerWebhookRoute<E extends { id: string }>(options: ProviderWebhookRouteOptions<E>) {
  const { path: prefix, kind, log } = options;
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    if (!path.startsWith(prefix)) return false;
    const name = path.slice(prefix.length);
    if (req.method !== 'POST') return reply(res, 405, { error: `Expected POST, got ${req.method}.` }, { allow: 'POST' });
    const provider = options.provider(name);
    if (!provider) return reply(res, 404, { error: `No ${kind} provider named "${name}".` });
    if (options.rateLimits) {
      const verdict = await options.rateLimits.consumeOne('paymentWebhooks', options.rateLimitKey ? options.rateLimitKey(provider.name) : provider.name);
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
      log.info(`A ${kind} webhook was refused`, { provider: name, reason: verdict.reason });
      return reply(res, 400, { error: verdict.reason });
    }

    const outcome = await options.apply(provider.name, verdict.event);
    if (outcome.startsWith('unknown_')) {
      log.info(`A ${kind} event names no ${kind} of ours; acknowledged and ignored`, { provider: name, eventId: verdict.event.id, event: verdict.event });
    }
    return reply(res, 200, { received: true, outcome });
  };
}
