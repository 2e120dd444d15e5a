import { DEFAULT_CLOCK_TOLERANCE_SECONDS, DEFAULT_MAX_TOKEN_AGE_SECONDS } from './auth/tokens.js';
import { DEFAULT_CACHE_CONFIG, type CacheConfig } from './cache/create-cache.js';
import { ANY_ORIGIN, DEFAULT_CORS_CONFIG, type CorsConfig } from './server/cors.js';
import { DEFAULT_COMPRESSION_CONFIG, type CompressionConfig } from './server/compression.js';
import { DEFAULT_REPLICA_CHECK_INTERVAL_MS, DEFAULT_REPLICA_MAX_LAG_MS } from './db/replicas.js';
import { DEFAULT_READ_YOUR_WRITES_MS } from './server/read-routing.js';
import { LOG_LEVELS, type LogConfig, type LogFormat, type LogLevel } from './shared/logger.js';
import { DEFAULT_TRACING_CONFIG, type TracingConfig } from './server/tracing.js';

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
  /** How long a request waits for a PostgreSQL connection before it fails with SERVICE_UNAVAILABLE. */
  pgConnectTimeoutMs: number;
  dataDir: string;
  /** Load the demo businesses if they are missing (default: on for the embedded database, off with DATABASE_URL). */
  demoData: boolean;
  auth: {
    jwtSecret: string | undefined;
    jwksUrl: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
    /** The longest lifetime a token may have (`exp` - `iat`), in seconds. */
    maxTokenAgeSeconds?: number;
    /** Clock skew allowed for `exp`, `nbf` and `iat`, in seconds. */
    clockToleranceSeconds?: number;
    /** Platform admins: account subjects, or `issuer|subject` pairs (AUTH_ADMIN_SUBJECTS). */
    adminSubjects?: string[];
    /**
     * Accept service tokens (a `role` claim with business_id/partner_id/customer_id) signed with
     * AUTH_JWT_SECRET; never from AUTH_JWKS_URL. Default: on outside production (AUTH_ACCEPT_CLAIM_TOKENS).
     */
    acceptClaimTokens?: boolean;
  };
  /** Introspection and "Did you mean" suggestions; off in production unless GRAPHQL_INTROSPECTION=true. */
  introspection: boolean;
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
  /** How long the tables that only grow keep their rows, and how the purge job runs (README, "Retention"). */
  retention: RetentionConfig;
  events: EventsConfig;
  websocket: WebSocketConfig;
  webhooks: WebhookConfig;
  rateLimits: RateLimitConfig;
  /** Which pages of other origins may call /graphql. */
  cors: CorsConfig;
  /** gzip / brotli for GraphQL answers above a size. */
  compression: CompressionConfig;
  production: boolean;
  /** What one operation may ask for (checked before it runs) and how large its answer may be. */
  limits: LimitsConfig;
  /** PostgreSQL cancels a statement running longer than this (QUERY_TIMEOUT); 0 disables. Migrations and the slot generation job are exempt. */
  statementTimeoutMs: number;
  /** LOG_LEVEL and LOG_FORMAT. */
  log: LogConfig;
  /** GraphQL operations slower than this many milliseconds are logged as slow, with their document's hash. */
  slowOperationMs: number;
  /** On SIGTERM, /readyz answers 503 this long before the listener closes, so a load balancer stops sending new requests first. */
  shutdownDrainMs: number;
  /** GET /metrics on a port of its own (on HOST), and then not on the public port; undefined: on the public port. */
  metricsPort: number | undefined;
  /** OpenTelemetry traces over OTLP/HTTP; off without OTEL_EXPORTER_OTLP_ENDPOINT. */
  tracing: TracingConfig;
  /** Named prepared statements per connection; false behind PgBouncer in transaction mode (README, "PgBouncer"). */
  pgPreparedStatements: boolean;
  /** Streaming replicas for catalog and availability reads (README, "Read replicas"). */
  replicas: ReplicaConfig;
  /** Outgoing e-mail: SMTP_URL, else .eml files in MAIL_DIR. */
  mail: MailConfig;
  /** Booking notifications and their job queue (README, "Notifications"). */
  notifications: NotificationConfig;
}

export interface NotificationConfig {
  /** Poll the job queue this often (NOTIFICATION_POLL_INTERVAL_MS); 0: this process sends none (it still queues them). */
  pollIntervalMs: number;
  /** Attempts before a job is dead (NOTIFICATION_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** The wait before the second attempt, doubling after each failure up to an hour (NOTIFICATION_RETRY_BASE_MS). */
  retryBaseMs: number;
  /** The public base URL of the customers' app, for manage/cancel links (PUBLIC_APP_URL). */
  publicAppUrl: string;
  /** The public base URL of this API, for unsubscribe links (PUBLIC_API_URL). */
  publicApiUrl: string;
  /** Signs unsubscribe links (NOTIFICATION_LINK_SECRET); undefined: derived from the JWT secret. */
  linkSecret: string | undefined;
  /**
   * A message in a booking's thread is e-mailed to the other side this long after it was posted,
   * if that side has not read it by then (MESSAGE_EMAIL_DELAY_SECONDS); 0: at once.
   */
  messageEmailDelaySeconds: number;
}

export const DEFAULT_NOTIFICATION_CONFIG: NotificationConfig = {
  pollIntervalMs: 1000,
  maxAttempts: 8,
  retryBaseMs: 30_000,
  publicAppUrl: 'http://localhost:3000',
  publicApiUrl: 'http://localhost:4000',
  linkSecret: undefined,
  messageEmailDelaySeconds: 120,
};

export interface MailConfig {
  /** `smtp://user:pass@host:port` (or `smtps://`); undefined: messages are written to `dir` instead. */
  smtpUrl: string | undefined;
  /** The From of every message (MAIL_FROM). */
  from: string;
  /** Where messages go without SMTP_URL (MAIL_DIR), one .eml file each. */
  dir: string;
}

export const DEFAULT_MAIL_CONFIG: MailConfig = { smtpUrl: undefined, from: 'Booking API <no-reply@localhost>', dir: '.data/mail' };

export interface ReplicaConfig {
  /** PostgreSQL URLs of the replicas (DATABASE_READ_URL, comma-separated); none: every read goes to DATABASE_URL. */
  readUrls: string[];
  /** A replica further behind the primary than this serves no reads until it catches up. */
  maxLagMs: number;
  /** How often each replica's lag is measured. */
  checkIntervalMs: number;
  /** After a viewer's write, their reads stay on the primary this long, on every instance (through Redis). */
  readYourWritesMs: number;
}

export const DEFAULT_REPLICA_CONFIG: ReplicaConfig = {
  readUrls: [],
  maxLagMs: DEFAULT_REPLICA_MAX_LAG_MS,
  checkIntervalMs: DEFAULT_REPLICA_CHECK_INTERVAL_MS,
  readYourWritesMs: DEFAULT_READ_YOUR_WRITES_MS,
};

/** DATABASE_READ_URL: comma-separated PostgreSQL URLs, only beside a DATABASE_URL (the primary they replicate). */
function readUrls(env: NodeJS.ProcessEnv): string[] {
  const urls = (env.DATABASE_READ_URL ?? '').split(',').map((url) => url.trim()).filter((url) => url !== '');
  for (const url of urls) {
    if (!/^postgres(ql)?:\/\/[^/]/.test(url)) throw new Error(`Expected DATABASE_READ_URL to be comma-separated postgres:// URLs, got "${url}".`);
  }
  if (urls.length && !env.DATABASE_URL) throw new Error('Expected DATABASE_URL (the primary) beside DATABASE_READ_URL, got none: replicas serve only reads.');
  return urls;
}

export const DEVELOPMENT_JWT_SECRET = 'development-secret-do-not-use-in-production';
export const DEFAULT_HOLD_MINUTES = 5;

export interface PaymentConfig {
  /** Signs the `test` provider's webhook events; `undefined` disables that provider (production without a secret). */
  testWebhookSecret: string | undefined;
  /** A webhook whose signed timestamp is further than this from now is refused (replay window). */
  webhookToleranceSeconds: number;
  /** Signs the `test` payout provider's webhook events; `undefined` disables that provider (production without a secret). */
  payoutTestWebhookSecret: string | undefined;
}

export const DEVELOPMENT_PAYMENT_WEBHOOK_SECRET = 'development-payment-webhook-secret';
export const DEVELOPMENT_PAYOUT_WEBHOOK_SECRET = 'development-payout-webhook-secret';
export const DEFAULT_PAYMENT_CONFIG: PaymentConfig = {
  testWebhookSecret: DEVELOPMENT_PAYMENT_WEBHOOK_SECRET,
  webhookToleranceSeconds: 300,
  payoutTestWebhookSecret: DEVELOPMENT_PAYOUT_WEBHOOK_SECRET,
};

/**
 * The retention job (src/retention/retention.job.ts). A period of 0 days keeps that table's rows for
 * ever. Each default, and why, is in README, "Retention".
 */
export interface RetentionConfig {
  /** Minutes between two purge rounds (from the end of one to the start of the next); 0 disables the job. */
  intervalMinutes: number;
  /** Rows one DELETE removes at most: one short transaction each. */
  batchSize: number;
  /** Rows a round removes per table at most; the rest waits for the next round. */
  maxRowsPerRound: number;
  /** The pause between two batches, so that the purge leaves the database to requests. */
  pauseMs: number;
  /** Booking events (the replay log): bookingEventsSince from an older cursor answers EVENTS_PURGED. */
  bookingEventDays: number;
  /** Audit rows. */
  auditLogDays: number;
  /** Finished webhook deliveries (succeeded or failed; pending ones always stay). */
  webhookDeliveryDays: number;
  /** Applied payment event ids (duplicate webhooks are refused while their id is kept); at least 3, the providers' retry period. */
  processedPaymentEventDays: number;
  /** Past slots nobody booked (free or blocked); booked ones stay with their booking. */
  unbookedSlotDays: number;
  /** Notification jobs that finished (sent, or dropped with their booking); dead ones stay for operators. */
  notificationJobDays: number;
  /** Idempotency keys go this long after they expire (a margin for clocks that disagree; an expired key is taken over anyway). */
  idempotencyKeyGraceHours: number;
}

export const DEFAULT_RETENTION_CONFIG: RetentionConfig = {
  intervalMinutes: 60,
  batchSize: 1000,
  maxRowsPerRound: 100_000,
  pauseMs: 100,
  bookingEventDays: 400,
  auditLogDays: 730,
  webhookDeliveryDays: 30,
  processedPaymentEventDays: 90,
  unbookedSlotDays: 14,
  notificationJobDays: 30,
  idempotencyKeyGraceHours: 1,
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
  /** Also register and send to loopback, private, link-local ... addresses: local development and tests only. */
  allowPrivateNetworks: boolean;
  /** Endpoints must be https:// (NODE_ENV=production). */
  httpsOnly: boolean;
}

export const DEFAULT_WEBHOOK_CONFIG: WebhookConfig = { timeoutMs: 10_000, retryBaseMs: 10_000, retryWindowMs: 24 * 3_600_000, pauseAfterFailures: 20, pollIntervalMs: 1000, allowPrivateNetworks: false, httpsOnly: false };

/** A budget of `points` that refills fully every `durationSeconds` (a fixed window per key). */
export interface RateLimitBucket {
  points: number;
  durationSeconds: number;
}

/** Rate limits (see README, "Rate limits"): in Redis when REDIS_URL is set, so every process shares them. */
export interface RateLimitConfig {
  /** GraphQL operations per account (or per client IP without a token); an operation costs its points. */
  operations: RateLimitBucket;
  /** Mutations that claim slots (bookingCreate, slotHold, bookingReschedule) per account, on top of `operations`. */
  bookings: RateLimitBucket;
  /** Payment webhook deliveries per provider. */
  paymentWebhooks: RateLimitBucket;
  /** WebSocket connections opened per client IP. */
  websocketConnections: RateLimitBucket;
  /** Booking messages posted (messageSend) per sender. */
  messages: RateLimitBucket;
  /** Guest booking codes sent (guestBookingStart) per e-mail address or phone number. */
  guestCodes: RateLimitBucket;
  /** Guest booking starts per client IP. */
  guestCodesByIp: RateLimitBucket;
  /** How many proxies in front of the API append to X-Forwarded-For; 0 ignores the header (the peer's address is the client's). */
  trustProxy: number;
}

export const DEFAULT_RATE_LIMIT_CONFIG: RateLimitConfig = {
  operations: { points: 1200, durationSeconds: 60 },
  bookings: { points: 30, durationSeconds: 60 },
  paymentWebhooks: { points: 1200, durationSeconds: 60 },
  websocketConnections: { points: 120, durationSeconds: 60 },
  messages: { points: 30, durationSeconds: 60 },
  guestCodes: { points: 5, durationSeconds: 3600 },
  guestCodesByIp: { points: 20, durationSeconds: 3600 },
  trustProxy: 0,
};

function bucket(env: NodeJS.ProcessEnv, name: string, fallback: RateLimitBucket): RateLimitBucket {
  return {
    points: integer(env, `${name}_POINTS`, fallback.points, 1, 100_000_000),
    durationSeconds: integer(env, `${name}_DURATION_SECONDS`, fallback.durationSeconds, 1, 86_400),
  };
}

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
export const DEFAULT_SLOW_OPERATION_MS = 1000;
/** Two failed probes at a load balancer's usual 2 s interval, and a margin. */
export const DEFAULT_SHUTDOWN_DRAIN_MS = 5000;

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

/** Seconds from "3600", "90s", "30m", "24h" or "7d". */
function duration(env: NodeJS.ProcessEnv, name: string, fallbackSeconds: number, minSeconds: number, maxSeconds: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallbackSeconds;
  const match = /^(\d+)([smhd]?)$/.exec(raw.trim());
  const seconds = match ? Number(match[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'] : NaN;
  if (!(seconds >= minSeconds && seconds <= maxSeconds)) {
    throw new Error(`Expected ${name} to be a duration from ${minSeconds} s to ${maxSeconds} s, like "3600", "30m", "24h" or "7d", got "${raw}".`);
  }
  return seconds;
}

function logLevel(env: NodeJS.ProcessEnv): LogLevel {
  const raw = env.LOG_LEVEL || 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) throw new Error(`Expected LOG_LEVEL to be one of ${LOG_LEVELS.join(', ')}, got "${raw}".`);
  return raw as LogLevel;
}

/** Pretty lines for a person at a terminal in development; JSON for everything that reads logs. */
function logFormat(env: NodeJS.ProcessEnv, terminal: boolean): LogFormat {
  const raw = env.LOG_FORMAT;
  if (raw === undefined || raw === '') return terminal && (env.NODE_ENV === undefined || env.NODE_ENV === '' || env.NODE_ENV === 'development') ? 'pretty' : 'json';
  if (raw !== 'json' && raw !== 'pretty') throw new Error(`Expected LOG_FORMAT to be json or pretty, got "${raw}".`);
  return raw;
}

function redisUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.REDIS_URL || undefined;
  if (raw && !/^rediss?:\/\//.test(raw)) throw new Error(`Expected REDIS_URL to be a redis:// or rediss:// URL, got "${raw}".`);
  return raw;
}

/**
 * CORS_ORIGINS: exact origins as browsers send them (scheme, host, port unless the default; no
 * path, no trailing slash), or `*` alone. Origins are compared as strings, so a near miss would
 * silently admit nobody: refuse it at start instead.
 */
function corsOrigins(env: NodeJS.ProcessEnv, allowCredentials: boolean): string[] {
  const entries = (env.CORS_ORIGINS ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (entries.includes(ANY_ORIGIN)) {
    if (entries.length > 1) throw new Error(`Expected CORS_ORIGINS to be either * alone or a list of origins, got "${env.CORS_ORIGINS}".`);
    if (allowCredentials) {
      throw new Error('Expected CORS_ORIGINS to list origins when CORS_ALLOW_CREDENTIALS=true, got "*": browsers refuse credentials with a wildcard, and admitting every page with credentials would let any site act for a signed-in user.');
    }
    return entries;
  }
  for (const entry of entries) {
    let origin: string | undefined;
    try {
      const url = new URL(entry);
      if (url.protocol === 'http:' || url.protocol === 'https:') origin = url.origin;
    } catch {
      // reported below
    }
    if (origin !== entry) {
      const hint = origin ? ` (its origin is "${origin}")` : '';
      throw new Error(`Expected CORS_ORIGINS to be comma-separated origins such as https://app.example.com (http or https, no path, no trailing slash) or *, got "${entry}"${hint}.`);
    }
  }
  return entries;
}

function otlpEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined;
  if (raw && !/^https?:\/\/[^/]/.test(raw)) throw new Error(`Expected OTEL_EXPORTER_OTLP_ENDPOINT to be an http(s) URL such as http://collector:4318, got "${raw}".`);
  return raw;
}

/** AUTH_ADMIN_SUBJECTS: comma-separated `subject` or `issuer|subject` entries. */
function adminSubjects(env: NodeJS.ProcessEnv): string[] {
  const entries = (env.AUTH_ADMIN_SUBJECTS ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  for (const entry of entries) {
    if (entry.split('|').length > 2 || entry.startsWith('|') || entry.endsWith('|')) {
      throw new Error(`Expected AUTH_ADMIN_SUBJECTS to be comma-separated subjects or issuer|subject pairs, got "${entry}".`);
    }
  }
  return entries;
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
    pgConnectTimeoutMs: integer(env, 'PG_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
    dataDir: env.DATA_DIR || '.data/pglite',
    demoData: flag(env, 'DEMO_DATA', !env.DATABASE_URL),
    auth: {
      jwtSecret,
      jwksUrl,
      issuer: env.AUTH_ISSUER || undefined,
      audience: env.AUTH_AUDIENCE || undefined,
      maxTokenAgeSeconds: duration(env, 'AUTH_MAX_TOKEN_AGE', DEFAULT_MAX_TOKEN_AGE_SECONDS, 60, 366 * 86_400),
      clockToleranceSeconds: integer(env, 'AUTH_CLOCK_TOLERANCE_SECONDS', DEFAULT_CLOCK_TOLERANCE_SECONDS, 0, 600),
      adminSubjects: adminSubjects(env),
      acceptClaimTokens: flag(env, 'AUTH_ACCEPT_CLAIM_TOKENS', !production),
    },
    introspection: flag(env, 'GRAPHQL_INTROSPECTION', !production),
    slowQueryMs: integer(env, 'SLOW_QUERY_MS', 200, 0, 600_000),
    cache: {
      redisUrl: redisUrl(env),
      keyPrefix: env.REDIS_KEY_PREFIX ?? '',
      ttlSeconds: integer(env, 'AVAILABILITY_CACHE_TTL_SECONDS', 60, 1, 86_400),
      catalogTtlSeconds: integer(env, 'CATALOG_CACHE_TTL_SECONDS', DEFAULT_CACHE_CONFIG.catalogTtlSeconds, 0, 86_400),
      commandTimeoutMs: integer(env, 'REDIS_COMMAND_TIMEOUT_MS', 200, 10, 60_000),
    },
    holdMinutes: integer(env, 'HOLD_MINUTES', DEFAULT_HOLD_MINUTES, 1, 60),
    payments: {
      // The test provider confirms bookings without taking money: in production only with a secret set on purpose.
      testWebhookSecret: env.PAYMENT_TEST_WEBHOOK_SECRET || (production ? undefined : DEVELOPMENT_PAYMENT_WEBHOOK_SECRET),
      webhookToleranceSeconds: integer(env, 'PAYMENT_WEBHOOK_TOLERANCE_SECONDS', 300, 1, 3600),
      // The test payout provider reports payouts it never made: in production only with a secret set on purpose.
      payoutTestWebhookSecret: env.PAYOUT_TEST_WEBHOOK_SECRET || (production ? undefined : DEVELOPMENT_PAYOUT_WEBHOOK_SECRET),
    },
    retention: retentionConfig(env),
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
      // Off by default everywhere: a receiver on this machine or network is the exception, opted into.
      allowPrivateNetworks: flag(env, 'WEBHOOK_ALLOW_PRIVATE_NETWORKS', false),
      httpsOnly: production,
    },
    rateLimits: {
      operations: bucket(env, 'RATE_LIMIT', DEFAULT_RATE_LIMIT_CONFIG.operations),
      bookings: bucket(env, 'RATE_LIMIT_BOOKING', DEFAULT_RATE_LIMIT_CONFIG.bookings),
      paymentWebhooks: bucket(env, 'RATE_LIMIT_WEBHOOK', DEFAULT_RATE_LIMIT_CONFIG.paymentWebhooks),
      websocketConnections: bucket(env, 'RATE_LIMIT_WS_CONNECTIONS', DEFAULT_RATE_LIMIT_CONFIG.websocketConnections),
      messages: bucket(env, 'RATE_LIMIT_MESSAGE', DEFAULT_RATE_LIMIT_CONFIG.messages),
      guestCodes: bucket(env, 'RATE_LIMIT_GUEST_CODE', DEFAULT_RATE_LIMIT_CONFIG.guestCodes),
      guestCodesByIp: bucket(env, 'RATE_LIMIT_GUEST_CODE_IP', DEFAULT_RATE_LIMIT_CONFIG.guestCodesByIp),
      trustProxy: integer(env, 'TRUST_PROXY', DEFAULT_RATE_LIMIT_CONFIG.trustProxy, 0, 10),
    },
    cors: {
      origins: corsOrigins(env, flag(env, 'CORS_ALLOW_CREDENTIALS', DEFAULT_CORS_CONFIG.allowCredentials)),
      allowCredentials: flag(env, 'CORS_ALLOW_CREDENTIALS', DEFAULT_CORS_CONFIG.allowCredentials),
      maxAgeSeconds: integer(env, 'CORS_MAX_AGE_SECONDS', DEFAULT_CORS_CONFIG.maxAgeSeconds, 0, 86_400),
    },
    compression: {
      enabled: flag(env, 'COMPRESSION', DEFAULT_COMPRESSION_CONFIG.enabled),
      minBytes: integer(env, 'COMPRESSION_MIN_BYTES', DEFAULT_COMPRESSION_CONFIG.minBytes, 0, 1024 * 1024 * 1024),
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
    pgPreparedStatements: flag(env, 'PG_PREPARED_STATEMENTS', true),
    replicas: replicaConfig(env),
    log: { level: logLevel(env), format: logFormat(env, process.stdout.isTTY === true) },
    slowOperationMs: integer(env, 'SLOW_OPERATION_MS', DEFAULT_SLOW_OPERATION_MS, 0, 600_000),
    shutdownDrainMs: integer(env, 'SHUTDOWN_DRAIN_MS', DEFAULT_SHUTDOWN_DRAIN_MS, 0, 600_000),
    metricsPort: env.METRICS_PORT ? integer(env, 'METRICS_PORT', 0, 1, 65535) : undefined,
    tracing: {
      otlpEndpoint: otlpEndpoint(env),
      serviceName: env.OTEL_SERVICE_NAME || DEFAULT_TRACING_CONFIG.serviceName,
    },
    mail: mailConfig(env),
    notifications: notificationConfig(env, production),
  };
}

function baseUrl(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name] || fallback;
  if (!/^https?:\/\/[^/]/.test(raw)) throw new Error(`Expected ${name} to be an http(s) base URL such as https://book.example.com, got "${raw.slice(0, 100)}".`);
  return raw.replace(/\/+$/, '');
}

function notificationConfig(env: NodeJS.ProcessEnv, production: boolean): NotificationConfig {
  const linkSecret = env.NOTIFICATION_LINK_SECRET || undefined;
  if (production && !linkSecret && !env.AUTH_JWT_SECRET) throw new Error('Expected NOTIFICATION_LINK_SECRET (or AUTH_JWT_SECRET) when NODE_ENV=production: unsubscribe links could not be signed.');
  return {
    pollIntervalMs: integer(env, 'NOTIFICATION_POLL_INTERVAL_MS', DEFAULT_NOTIFICATION_CONFIG.pollIntervalMs, 0, 3_600_000),
    maxAttempts: integer(env, 'NOTIFICATION_MAX_ATTEMPTS', DEFAULT_NOTIFICATION_CONFIG.maxAttempts, 1, 100),
    retryBaseMs: integer(env, 'NOTIFICATION_RETRY_BASE_MS', DEFAULT_NOTIFICATION_CONFIG.retryBaseMs, 1, 3_600_000),
    publicAppUrl: baseUrl(env, 'PUBLIC_APP_URL', DEFAULT_NOTIFICATION_CONFIG.publicAppUrl),
    publicApiUrl: baseUrl(env, 'PUBLIC_API_URL', DEFAULT_NOTIFICATION_CONFIG.publicApiUrl),
    linkSecret,
    messageEmailDelaySeconds: integer(env, 'MESSAGE_EMAIL_DELAY_SECONDS', DEFAULT_NOTIFICATION_CONFIG.messageEmailDelaySeconds, 0, 86_400),
  };
}

function mailConfig(env: NodeJS.ProcessEnv): MailConfig {
  const smtpUrl = env.SMTP_URL || undefined;
  if (smtpUrl && !/^smtps?:\/\/[^/]/.test(smtpUrl)) throw new Error(`Expected SMTP_URL to be an smtp:// or smtps:// URL, got "${smtpUrl.replace(/\/\/[^@/]*@/, '//***@')}".`);
  return { smtpUrl, from: env.MAIL_FROM || DEFAULT_MAIL_CONFIG.from, dir: env.MAIL_DIR || DEFAULT_MAIL_CONFIG.dir };
}

function retentionConfig(env: NodeJS.ProcessEnv): RetentionConfig {
  const d = DEFAULT_RETENTION_CONFIG;
  return {
    intervalMinutes: integer(env, 'RETENTION_INTERVAL_MINUTES', d.intervalMinutes, 0, 10_080),
    batchSize: integer(env, 'RETENTION_BATCH_SIZE', d.batchSize, 1, 50_000),
    maxRowsPerRound: integer(env, 'RETENTION_MAX_ROWS_PER_ROUND', d.maxRowsPerRound, 1, 100_000_000),
    pauseMs: integer(env, 'RETENTION_PAUSE_MS', d.pauseMs, 0, 60_000),
    bookingEventDays: retentionDays(env, 'RETENTION_BOOKING_EVENT_DAYS', d.bookingEventDays, 1),
    auditLogDays: retentionDays(env, 'RETENTION_AUDIT_LOG_DAYS', d.auditLogDays, 30),
    // Pending deliveries are never purged, so any period is safe for retries; a day keeps a log to read.
    webhookDeliveryDays: retentionDays(env, 'RETENTION_WEBHOOK_DELIVERY_DAYS', d.webhookDeliveryDays, 1),
    // Fewer than 3 days would let a provider's late retry of an applied event through the first check.
    processedPaymentEventDays: integer(env, 'PROCESSED_EVENT_RETENTION_DAYS', d.processedPaymentEventDays, 3, 36_500),
    unbookedSlotDays: retentionDays(env, 'RETENTION_UNBOOKED_SLOT_DAYS', d.unbookedSlotDays, 1),
    notificationJobDays: retentionDays(env, 'RETENTION_NOTIFICATION_JOB_DAYS', d.notificationJobDays, 1),
    idempotencyKeyGraceHours: integer(env, 'RETENTION_IDEMPOTENCY_KEY_GRACE_HOURS', d.idempotencyKeyGraceHours, 0, 8760),
  };
}

/** Days to keep a table's rows: 0 (for ever) or from `min` to 100 years. */
function retentionDays(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const value = integer(env, name, fallback, 0, 36_500);
  if (value !== 0 && value < min) throw new Error(`Expected ${name} to be 0 (keep for ever) or from ${min} to 36500 days, got "${env[name]}".`);
  return value;
}

function replicaConfig(env: NodeJS.ProcessEnv): ReplicaConfig {
  const replicas: ReplicaConfig = {
    readUrls: readUrls(env),
    maxLagMs: integer(env, 'REPLICA_MAX_LAG_MS', DEFAULT_REPLICA_CONFIG.maxLagMs, 0, 3_600_000),
    checkIntervalMs: integer(env, 'REPLICA_CHECK_INTERVAL_MS', DEFAULT_REPLICA_CONFIG.checkIntervalMs, 50, 60_000),
    readYourWritesMs: integer(env, 'READ_YOUR_WRITES_MS', DEFAULT_REPLICA_CONFIG.readYourWritesMs, 0, 3_600_000),
  };
  // A replica that serves may be this far behind; a shorter window would send a viewer back to it before it has their write.
  if (replicas.readUrls.length && replicas.readYourWritesMs < replicas.maxLagMs + replicas.checkIntervalMs) {
    throw new Error(`Expected READ_YOUR_WRITES_MS to be at least REPLICA_MAX_LAG_MS + REPLICA_CHECK_INTERVAL_MS (${replicas.maxLagMs + replicas.checkIntervalMs}), got ${replicas.readYourWritesMs}.`);
  }
  return replicas;
}

/**
 * What startApp is given: the settings every caller names, and the rest optional (tests name only
 * what they are about). Without `webhooks` the app creates webhook deliveries but sends none (and
 * without `notifications`, notification jobs but no messages): like
 * the slot generation job, sending is opted into (index.ts always passes it), so that tests sharing
 * one database never send each other's deliveries.
 */
export type AppConfig = Pick<Config, 'host' | 'port' | 'auth' | 'slowQueryMs'> & Partial<Pick<Config, 'slowOperationMs' | 'holdMinutes' | 'payments' | 'cache' | 'events' | 'websocket' | 'webhooks' | 'introspection' | 'rateLimits' | 'cors' | 'compression' | 'limits' | 'replicas' | 'metricsPort' | 'tracing' | 'mail' | 'notifications'>>;

/** An AppConfig with every default filled in but `webhooks` and `notifications` (whose absence means: send none). */
export type ResolvedAppConfig = AppConfig & Pick<Config, 'slowOperationMs' | 'holdMinutes' | 'payments' | 'cache' | 'events' | 'websocket' | 'introspection' | 'rateLimits' | 'cors' | 'compression' | 'limits' | 'replicas' | 'tracing' | 'mail'>;

/**
 * The one place startApp's defaults are filled in: the same values loadConfig starts from, except
 * introspection, on unless asked otherwise (loadConfig turns it off in production).
 */
export function withDefaults(config: AppConfig): ResolvedAppConfig {
  return {
    ...config,
    slowOperationMs: config.slowOperationMs ?? DEFAULT_SLOW_OPERATION_MS,
    holdMinutes: config.holdMinutes ?? DEFAULT_HOLD_MINUTES,
    payments: config.payments ?? DEFAULT_PAYMENT_CONFIG,
    cache: config.cache ?? DEFAULT_CACHE_CONFIG,
    events: config.events ?? DEFAULT_EVENTS_CONFIG,
    websocket: config.websocket ?? DEFAULT_WEBSOCKET_CONFIG,
    introspection: config.introspection ?? true,
    rateLimits: config.rateLimits ?? DEFAULT_RATE_LIMIT_CONFIG,
    cors: config.cors ?? DEFAULT_CORS_CONFIG,
    compression: config.compression ?? DEFAULT_COMPRESSION_CONFIG,
    limits: config.limits ?? DEFAULT_LIMITS_CONFIG,
    replicas: config.replicas ?? DEFAULT_REPLICA_CONFIG,
    tracing: config.tracing ?? DEFAULT_TRACING_CONFIG,
    mail: config.mail ?? DEFAULT_MAIL_CONFIG,
  };
}
