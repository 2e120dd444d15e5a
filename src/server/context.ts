import type { Viewer } from '../auth/viewer.js';
import type { CatalogCache } from '../cache/catalog-cache.js';
import type { ReadThroughCache } from '../cache/keyed-cache.js';
import type { Db } from '../db/sql-helpers.js';
import type { ChangeFeed } from '../shared/change-feed.js';
import type { BookingEventHub } from '../events/event-hub.js';
import { LoaderRegistry } from '../shared/loader-registry.js';
import type { Logger } from '../shared/logger.js';
import type { ReadRouting } from './read-routing.js';
import type { PaymentProviderRegistry } from '../payments/payment-provider.js';
import type { PayoutProviderRegistry } from '../payouts/payout-provider.js';
import { RequestStatementCounter, type RequestTelemetry } from '../shared/request-telemetry.js';
import type { WebhookTargetRules } from '../webhooks/webhook-address-policy.js';
import type { Mailer } from '../notifications/mailer.js';
import type { SmsProvider } from '../notifications/sms.js';
import type { RateLimits } from './rate-limits.js';

/** What every request shares with the running application. */
export interface AppServices {
  db: Db;
  log: Logger;
  /** Committed changes are announced here (the availability cache listens). */
  changes: ChangeFeed;
  /** The shared read-through cache (Redis, or in-process without REDIS_URL); availability reads through it. */
  cache: ReadThroughCache;
  /** Businesses, services and partners by id, kept across requests (CATALOG_CACHE_TTL_SECONDS; absent when 0). */
  catalog?: CatalogCache;
  /** How long a slot hold reserves its slots, in minutes (HOLD_MINUTES). */
  holdMinutes: number;
  /** The payment providers by name (`test`, and real ones when configured). */
  paymentProviders: PaymentProviderRegistry;
  /** The payout providers by name (`test`, and real ones when configured). */
  payoutProviders: PayoutProviderRegistry;
  /** This process's delivery of relayed booking events to its subscribers. */
  events: BookingEventHub;
  /** Which webhook endpoint URLs may be registered (WEBHOOK_ALLOW_PRIVATE_NETWORKS, https in production). */
  webhookTargets: WebhookTargetRules;
  /** Where catalog and availability reads go, and who must read from the primary (read-routing.ts); without it, the primary. */
  reads?: ReadRouting;
  /** Outgoing e-mail (SMTP_URL, else files in MAIL_DIR). */
  mailer: Mailer;
  /** Outgoing text messages (the `test` provider until a real one is configured). */
  sms: SmsProvider;
  /** The rate limits (messageSend and guestBookingStart charge their own buckets). */
  rateLimits: RateLimits;
}

/** The GraphQL context: built per HTTP request (and per subscription event). */
export interface RequestContext {
  viewer: Viewer;
  loaders: LoaderRegistry;
  app: AppServices;
  /** The `Idempotency-Key` HTTP header, if sent; mutations also accept `input.idempotencyKey`. */
  idempotencyKey: string | null;
  /** The client's address (see TRUST_PROXY), for the per-IP rate limit of requests without a token. */
  clientIp?: string;
  /** Names this request in every error's `extensions.requestId` and in the log (see request-id.ts). */
  requestId?: string;
  /**
   * The locales the client asked for in Accept-Language, most wanted first (shared/locales.ts);
   * names and descriptions are served in the first one they have, unless a field's `locale` says.
   */
  locales: readonly string[];
  /** What the HTTP request has cost so far (statements, loader batches; its spans when tracing), for its metrics and its log line. */
  telemetry?: RequestTelemetry;
}

/**
 * With `telemetry` (HTTP requests), the request's `app.db` and loaders are the shared database seen
 * through a counter of the request's statements: every statement the request sends is counted,
 * whichever domain sends it, at the cost of one Kysely view per request.
 */
export function createRequestContext(app: AppServices, viewer: Viewer, idempotencyKey: string | null = null, requestId?: string, locales: readonly string[] = [], telemetry?: RequestTelemetry): RequestContext {
  const services = telemetry ? { ...app, db: app.db.withPlugin(new RequestStatementCounter(telemetry)) } : app;
  return { viewer, loaders: new LoaderRegistry(services.db, viewer, app.reads ?? null, telemetry, app.catalog ?? null), app: services, idempotencyKey, requestId, locales, telemetry };
}
