import type { CacheConfig } from './cache/create-cache.js';

/**
 * Every environment variable the API reads, validated once at start into one typed object.
 * README.md lists them; keep the two in step.
 */
export interface Config {
  host: string;
  port: number;
  /** PostgreSQL URL; without it the API runs on an embedded PGlite database in `dataDir`. */
  databaseUrl: string | undefined;
  poolMax: number;
  dataDir: string;
  /** Load the demo businesses if they are missing (default: on for the embedded database, off with DATABASE_URL). */
  demoData: boolean;
  auth: {
    jwtSecret: string | undefined;
    jwksUrl: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
  };
  /** Statements slower than this many milliseconds are logged with their tag. */
  slowQueryMs: number;
  /** The shared cache: Redis when REDIS_URL is set, else in-process. */
  cache: CacheConfig;
  /** How long a slot hold reserves its slots, in minutes. */
  holdMinutes: number;
  payments: PaymentConfig;
  /** How many local dates ahead (today included) the slot generation job keeps slots for. */
  slotHorizonDays: number;
  /** Minutes between two slot generation passes; 0 disables the job. */
  slotGenerationIntervalMinutes: number;
  events: EventsConfig;
  websocket: WebSocketConfig;
  webhooks: WebhookConfig;
  production: boolean;
  /** What one operation may ask for (checked before it runs) and how large its answer may be. */
  limits: LimitsConfig;
  /** PostgreSQL cancels a statement running longer than this (QUERY_TIMEOUT); 0 disables. Migrations and the slot generation job are exempt. */
  statementTimeoutMs: number;
}

export const DEVELOPMENT_JWT_SECRET = 'development-secret-do-not-use-in-production';
export const DEFAULT_HOLD_MINUTES = 5;

export interface PaymentConfig {
  /** Signs the `test` provider's webhook events; `undefined` disables that provider (production without a secret). */
  testWebhookSecret: string | undefined;
  /** A webhook whose signed timestamp is further than this from now is refused (replay window). */
  webhookToleranceSeconds: number;
  /** Processed webhook event ids are kept this long; providers retry an event for up to 3 days. */
  processedEventRetentionDays: number;
}

export const DEVELOPMENT_PAYMENT_WEBHOOK_SECRET = 'development-payment-webhook-secret';
export const DEFAULT_PAYMENT_CONFIG: PaymentConfig = {
  testWebhookSecret: DEVELOPMENT_PAYMENT_WEBHOOK_SECRET,
  webhookToleranceSeconds: 300,
  processedEventRetentionDays: 3,
};

/** Booking events: the outbox relay and each process's delivery to its subscribers. */
export interface EventsConfig {
  /** The relay also runs this often (besides right after each local commit): events of a process that died. */
  relayIntervalMs: number;
  /** Events given a position but still unpublished after this long are published again. */
  republishAfterMs: number;
  /** How often a process with subscribers checks the relay's counter for events pub/sub did not bring. */
  checkIntervalMs: number;
  /** Events that may wait for one slow subscriber before its subscription ends (SUBSCRIBER_TOO_SLOW). */
  maxQueuedPerSubscriber: number;
}

export const DEFAULT_EVENTS_CONFIG: EventsConfig = { relayIntervalMs: 1000, republishAfterMs: 5000, checkIntervalMs: 2000, maxQueuedPerSubscriber: 1000 };

/** GraphQL over WebSocket (graphql-ws). */
export interface WebSocketConfig {
  /** The largest message a client may send; the connection closes (1009) above it. */
  maxPayloadBytes: number;
  /** Ping interval; a client that does not answer a ping before the next one is dropped. 0 disables. */
  keepAliveMs: number;
  /** A connection that has not sent `connection_init` by then is closed with 4408. */
  initTimeoutMs: number;
  /** Subscriptions one connection may run at once; one more gets TOO_MANY_SUBSCRIPTIONS. */
  maxSubscriptionsPerConnection: number;
}

export const DEFAULT_WEBSOCKET_CONFIG: WebSocketConfig = { maxPayloadBytes: 64 * 1024, keepAliveMs: 12_000, initTimeoutMs: 3000, maxSubscriptionsPerConnection: 20 };

/** Outbound webhooks: how this process POSTs booking events to registered endpoints. */
export interface WebhookConfig {
  /** An endpoint that has not answered (status line and headers) by then has failed this attempt. */
  timeoutMs: number;
  /** The first retry waits about this long; each further one twice as long (with jitter), at most an hour. */
  retryBaseMs: number;
  /** A delivery still failing this long after it was created is given up (FAILED). */
  retryWindowMs: number;
  /** An endpoint is paused after this many failed attempts in a row (any of its deliveries). */
  pauseAfterFailures: number;
  /** How often due deliveries are looked for (besides right after each relay run); 0: this process sends none. */
  pollIntervalMs: number;
}

export const DEFAULT_WEBHOOK_CONFIG: WebhookConfig = { timeoutMs: 10_000, retryBaseMs: 10_000, retryWindowMs: 24 * 3_600_000, pauseAfterFailures: 20, pollIntervalMs: 1000 };

/** Limits on one operation; README's "Limits" section says how each default was sized. */
export interface LimitsConfig {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxFields: number;
  maxTokens: number;
  maxCost: number;
  /** An answer above this many bytes is replaced by RESPONSE_TOO_LARGE. */
  maxResponseBytes: number;
}

export const DEFAULT_LIMITS_CONFIG: LimitsConfig = {
  maxDepth: 20,
  maxAliases: 30,
  maxDirectives: 50,
  maxFields: 1000,
  maxTokens: 5000,
  maxCost: 10_000,
  maxResponseBytes: 4 * 1024 * 1024,
};
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5000;

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`Expected ${name} to be an integer from ${min} to ${max}, got "${raw}".`);
  }
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new Error(`Expected ${name} to be true or false, got "${raw}".`);
}

function redisUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.REDIS_URL || undefined;
  if (raw && !/^rediss?:\/\//.test(raw)) throw new Error(`Expected REDIS_URL to be a redis:// or rediss:// URL, got "${raw}".`);
  return raw;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = env.NODE_ENV === 'production';
  const jwtSecret = env.AUTH_JWT_SECRET || (production ? undefined : DEVELOPMENT_JWT_SECRET);
  const jwksUrl = env.AUTH_JWKS_URL || undefined;
  if (production && !env.AUTH_JWT_SECRET && !jwksUrl) {
    throw new Error('Expected AUTH_JWT_SECRET or AUTH_JWKS_URL when NODE_ENV=production: tokens could not be verified.');
  }
  if (jwksUrl && !/^https?:\/\//.test(jwksUrl)) {
    throw new Error(`Expected AUTH_JWKS_URL to be an http(s) URL, got "${jwksUrl}".`);
  }
  return {
    host: env.HOST || '127.0.0.1',
    port: integer(env, 'PORT', 4000, 0, 65535),
    databaseUrl: env.DATABASE_URL || undefined,
    poolMax: integer(env, 'PG_POOL_MAX', 20, 1, 1000),
    dataDir: env.DATA_DIR || '.data/pglite',
    demoData: flag(env, 'DEMO_DATA', !env.DATABASE_URL),
    auth: { jwtSecret, jwksUrl, issuer: env.AUTH_ISSUER || undefined, audience: env.AUTH_AUDIENCE || undefined },
    slowQueryMs: integer(env, 'SLOW_QUERY_MS', 200, 0, 600_000),
    cache: {
      redisUrl: redisUrl(env),
      keyPrefix: env.REDIS_KEY_PREFIX ?? '',
      ttlSeconds: integer(env, 'AVAILABILITY_CACHE_TTL_SECONDS', 60, 1, 86_400),
      commandTimeoutMs: integer(env, 'REDIS_COMMAND_TIMEOUT_MS', 200, 10, 60_000),
    },
    holdMinutes: integer(env, 'HOLD_MINUTES', DEFAULT_HOLD_MINUTES, 1, 60),
    payments: {
      // The test provider confirms bookings without taking money: in production only with a secret set on purpose.
      testWebhookSecret: env.PAYMENT_TEST_WEBHOOK_SECRET || (production ? undefined : DEVELOPMENT_PAYMENT_WEBHOOK_SECRET),
      webhookToleranceSeconds: integer(env, 'PAYMENT_WEBHOOK_TOLERANCE_SECONDS', 300, 1, 3600),
      // Fewer than 3 days would let a provider's late retry of an applied event through the first check.
      processedEventRetentionDays: integer(env, 'PROCESSED_EVENT_RETENTION_DAYS', 3, 3, 3650),
    },
    slotHorizonDays: integer(env, 'SLOT_HORIZON_DAYS', 60, 1, 366),
    slotGenerationIntervalMinutes: integer(env, 'SLOT_GENERATION_INTERVAL_MINUTES', 60, 0, 10_080),
    events: {
      relayIntervalMs: integer(env, 'EVENT_RELAY_INTERVAL_MS', DEFAULT_EVENTS_CONFIG.relayIntervalMs, 10, 600_000),
      republishAfterMs: integer(env, 'EVENT_REPUBLISH_AFTER_MS', DEFAULT_EVENTS_CONFIG.republishAfterMs, 100, 3_600_000),
      checkIntervalMs: integer(env, 'EVENT_CHECK_INTERVAL_MS', DEFAULT_EVENTS_CONFIG.checkIntervalMs, 10, 600_000),
      maxQueuedPerSubscriber: integer(env, 'EVENT_MAX_QUEUED_PER_SUBSCRIBER', DEFAULT_EVENTS_CONFIG.maxQueuedPerSubscriber, 10, 1_000_000),
    },
    websocket: {
      maxPayloadBytes: integer(env, 'WS_MAX_PAYLOAD_BYTES', DEFAULT_WEBSOCKET_CONFIG.maxPayloadBytes, 1024, 16 * 1024 * 1024),
      keepAliveMs: integer(env, 'WS_KEEPALIVE_MS', DEFAULT_WEBSOCKET_CONFIG.keepAliveMs, 0, 600_000),
      initTimeoutMs: integer(env, 'WS_INIT_TIMEOUT_MS', DEFAULT_WEBSOCKET_CONFIG.initTimeoutMs, 100, 600_000),
      maxSubscriptionsPerConnection: integer(env, 'WS_MAX_SUBSCRIPTIONS', DEFAULT_WEBSOCKET_CONFIG.maxSubscriptionsPerConnection, 1, 1000),
    },
    webhooks: {
      timeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', DEFAULT_WEBHOOK_CONFIG.timeoutMs, 100, 60_000),
      retryBaseMs: integer(env, 'WEBHOOK_RETRY_BASE_MS', DEFAULT_WEBHOOK_CONFIG.retryBaseMs, 100, 3_600_000),
      retryWindowMs: integer(env, 'WEBHOOK_RETRY_HOURS', DEFAULT_WEBHOOK_CONFIG.retryWindowMs / 3_600_000, 1, 168) * 3_600_000,
      pauseAfterFailures: integer(env, 'WEBHOOK_PAUSE_AFTER_FAILURES', DEFAULT_WEBHOOK_CONFIG.pauseAfterFailures, 1, 10_000),
      pollIntervalMs: integer(env, 'WEBHOOK_POLL_INTERVAL_MS', DEFAULT_WEBHOOK_CONFIG.pollIntervalMs, 0, 600_000),
    },
    production,
    limits: {
      maxDepth: integer(env, 'QUERY_MAX_DEPTH', DEFAULT_LIMITS_CONFIG.maxDepth, 1, 1000),
      maxAliases: integer(env, 'QUERY_MAX_ALIASES', DEFAULT_LIMITS_CONFIG.maxAliases, 0, 100_000),
      maxDirectives: integer(env, 'QUERY_MAX_DIRECTIVES', DEFAULT_LIMITS_CONFIG.maxDirectives, 0, 100_000),
      maxFields: integer(env, 'QUERY_MAX_FIELDS', DEFAULT_LIMITS_CONFIG.maxFields, 1, 1_000_000),
      maxTokens: integer(env, 'QUERY_MAX_TOKENS', DEFAULT_LIMITS_CONFIG.maxTokens, 100, 10_000_000),
      maxCost: integer(env, 'QUERY_MAX_COST', DEFAULT_LIMITS_CONFIG.maxCost, 1, 1_000_000_000),
      maxResponseBytes: integer(env, 'RESPONSE_MAX_BYTES', DEFAULT_LIMITS_CONFIG.maxResponseBytes, 1024, 1024 * 1024 * 1024),
    },
    statementTimeoutMs: integer(env, 'PG_STATEMENT_TIMEOUT_MS', DEFAULT_STATEMENT_TIMEOUT_MS, 0, 3_600_000),
  };
}
