import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { AccountAccess } from './accounts/account-access.js';
import { upsertAccount } from './accounts/accounts.repository.js';
import { TokenVerifier } from './auth/tokens.js';
import { subscribeAvailabilityInvalidation } from './availability/availability-invalidation.js';
import { CatalogCache, DEFAULT_CATALOG_LIMITS } from './cache/catalog-cache.js';
import { createCache } from './cache/create-cache.js';
import type { ReadThroughCache } from './cache/keyed-cache.js';
import { DEFAULT_NOTIFICATION_CONFIG, withDefaults, type AppConfig, type Config } from './config.js';
import { connectDatabase, type DatabaseHandle } from './db/connect.js';
import { isDatabaseUnavailable } from './db/connection-errors.js';
import type { ReplicaStatus } from './db/replicas.js';
import { migrateToLatest } from './db/migrate.js';
import { createEventBus } from './events/event-bus.js';
import { registerEventMetrics } from './events/event-metrics.js';
import { BookingEventHub } from './events/event-hub.js';
import { OutboxRelay } from './events/outbox-relay.js';
import { applyEventsToStats } from './stats/stats.repository.js';
import { bookingsExportRoute } from './stats/bookings-export.http.js';
import { idempotencyKeyOf } from './idempotency/idempotency-key.js';
import { cancellationRefundListener } from './payments/cancellation-refunds.listener.js';
import { createPaymentProviders } from './payments/payment-providers.js';
import { paymentWebhookRoute } from './payments/payment-webhooks.http.js';
import type { PaymentProviderRegistry } from './payments/payment-provider.js';
import { recordPartnerEarnings } from './payouts/earnings-recorder.js';
import { createPayoutProviders } from './payouts/payout-providers.js';
import type { PayoutProviderRegistry } from './payouts/payout-provider.js';
import { payoutSubmissionListener } from './payouts/payouts.actions.js';
import { payoutWebhookRoute } from './payouts/payout-webhooks.http.js';
import { resolverMaps } from './resolvers.js';
import { ChangeFeed } from './shared/change-feed.js';
import { createRequestContext, type AppServices, type RequestContext } from './server/context.js';
import { pinoLogger, type Logger } from './shared/logger.js';
import { requestLogPlugin } from './server/request-log.js';
import { statementTagOf } from './shared/request-telemetry.js';
import { createErrorFormatter } from './server/errors.js';
import { databaseAvailabilityLog } from './server/database-unavailable.js';
import { GRAPHQL_PATH, graphqlHandler } from './server/http.js';
import { createBodyWriter } from './server/compression.js';
import { createCorsHook } from './server/cors.js';
import { jitGateway } from './server/jit-executor.js';
import { buildExecutableSchema } from './server/schema.js';
import { createWebhookDeliveries } from './webhooks/webhook-fan-out.js';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.js';
import { webhookTargetRulesOf } from './webhooks/webhook-address-policy.js';
import { startWebSocketEndpoint, type WebSocketEndpoint } from './server/websocket.js';
import { rateLimitCharger, type PointsOf } from './server/rate-limit-plugin.js';
import { HotPath } from './server/hot-path.js';
import { clientAddress, RateLimits } from './server/rate-limits.js';
import { QueryCostAnalyzer } from './server/query-cost.js';
import { QueryLimiter, rateLimitPointsOf } from './server/query-limits.js';
import { confirmClaimedRecords } from './viewer/token-claims.js';
import { createRouter, METRICS_PATH, type Route } from './server/router.js';
import { AppMetrics, startMetricsServer } from './server/metrics.js';
import { instrumentRequests, telemetryOf } from './server/request-instrumentation.js';
import { Tracing } from './server/tracing.js';
import { registerWebhookMetrics } from './webhooks/webhook-metrics.js';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { ReadRouting } from './server/read-routing.js';
import { acceptedLocales } from './shared/locales.js';
import { probeRoute, Readiness, type ReadinessCheck } from './server/readiness.js';
import { pendingMigrationsCheck } from './db/migrate.js';
import { sql } from 'kysely';
import { createMailer, type Mailer } from './notifications/mailer.js';
import { TestSmsProvider, type SmsProvider } from './notifications/sms.js';
import { createHmac } from 'node:crypto';
import { JobQueue } from './notifications/job-queue.js';
import { createNotificationJobs, registerNotificationMetrics } from './notifications/notification-fan-out.js';
import { notificationHandlers, type NotificationLinks } from './notifications/notification-handlers.js';
import { unsubscribeRoute } from './notifications/unsubscribe-links.js';

/** JSON lines on stdout at info: the logger of callers that bring none (index.ts makes its own from LOG_LEVEL and LOG_FORMAT). */
export const consoleLogger: Logger = pinoLogger('info');

export { METRICS_PATH, type Route } from './server/router.js';

/** Where providers' webhooks arrive: payments' (PAYMENT_WEBHOOK_PATH) and payouts' (PAYOUT_WEBHOOK_PATH) under it. */
const WEBHOOKS_PREFIX = '/webhooks/';

export interface App {
  database: DatabaseHandle;
  httpServer: Server;
  url: string;
  /** The payment providers; tests reach the `test` provider's external side through it. */
  paymentProviders: PaymentProviderRegistry;
  /** The payout providers; tests reach the `test` provider's external side through it. */
  payoutProviders: PayoutProviderRegistry;
  /** The shared read-through cache (its counters are at GET /metrics). */
  cache: ReadThroughCache;
  /** Committed changes; jobs started beside the app (index.ts) announce theirs here too. */
  changes: ChangeFeed;
  /** The outbox relay of this process (tests wait on it, or stop it to play a dead process). */
  relay: OutboxRelay;
  /** This process's delivery of booking events to its subscribers. */
  events: BookingEventHub;
  /** GraphQL over WebSocket at the same URL (ws://). */
  websocket: WebSocketEndpoint;
  wsUrl: string;
  /** This process's webhook sender, or null when it sends none (no `webhooks` config, or a poll interval of 0). */
  webhooks: WebhookDispatcher | null;
  /** The rate limits of this process (in Redis with REDIS_URL, shared with every process on the same prefix). */
  rateLimits: RateLimits;
  /** GET /readyz's checks; `startDraining()` turns it 503 before `stop()` (index.ts, on SIGTERM). */
  readiness: Readiness;
  /** This app's metrics (its own registry), served at `metricsUrl`. */
  metrics: AppMetrics;
  /** GET /metrics: on the public port, or on METRICS_PORT when that is set. */
  metricsUrl: string;
  /** Outgoing e-mail; tests give an SMTP_URL of an in-process server (test/support/smtp.ts). */
  mailer: Mailer;
  /** Outgoing text messages; tests read the `test` provider's `sent`. */
  sms: SmsProvider;
  /** This process's notification worker, or null when it sends none (no `notifications` config, or a poll interval of 0). */
  notifications: JobQueue | null;
  stop(): Promise<void>;
}

export type { AppConfig } from './config.js';

/**
 * Starts the API on a migrated database: GraphQL over HTTP at /graphql, health at /healthz.
 * Tests start it on port 0 and stop it when done; index.ts adds the configuration, the embedded
 * database and signal handling.
 */
export async function startApp(given: AppConfig, database: DatabaseHandle, options: { log?: Logger; routes?: Route[]; cache?: ReadThroughCache; pointsOf?: PointsOf; readinessTimeoutMs?: number; spanExporter?: SpanExporter; mailer?: Mailer; sms?: SmsProvider; clock?: () => Date } = {}): Promise<App> {
  const config = withDefaults(given);
  const log = options.log ?? consoleLogger;
  const changes = new ChangeFeed((error, change) =>
    isDatabaseUnavailable(error)
      ? (log.warn ?? log.info).call(log, 'A listener failed on a committed change: the database is unreachable', { action: change.action, error: (error as Error).message })
      : log.error('A listener failed on a committed change', { action: change.action, message: (error as Error).message, stack: (error as Error).stack }),
  );
  const paymentConfig = config.payments;
  const paymentProviders = createPaymentProviders(paymentConfig);
  const payoutProviders = createPayoutProviders(paymentConfig);
  // Given by tests that need a hook in it; the app closes it either way.
  const cache =
    options.cache ??
    (await createCache(config.cache, {
      onStoreError: (error) => log.error('The cache store failed; reading from the database until it is back', { message: (error as Error).message }),
    }));
  subscribeAvailabilityInvalidation(changes, cache, database.db);
  const catalog = config.cache.catalogTtlSeconds > 0 ? new CatalogCache(cache, { ttlMs: config.cache.catalogTtlSeconds * 1000, ...DEFAULT_CATALOG_LIMITS }) : undefined;
  if (catalog) changes.subscribe((change) => (change.catalog ? catalog.invalidate() : undefined));
  const access = new AccountAccess(database.db, cache);
  access.listen(changes);

  // Booking events: mutations write them into the outbox in their own transactions; the relay
  // positions and publishes them (kicked after every local commit, and on a timer for events whose
  // process died first); the hub hands them to this process's subscribers.
  const cacheConfig = config.cache;
  const eventsConfig = config.events;
  // Notifications go by this clock (tests move it; the database's now() is never asked).
  const clock = options.clock ?? (() => new Date());
  const bus = createEventBus(cacheConfig.redisUrl, { keyPrefix: cacheConfig.keyPrefix, commandTimeoutMs: cacheConfig.commandTimeoutMs });
  // Notification jobs are queued by the relay's hook whether or not this process sends them (below).
  const notificationConfig = config.notifications ?? DEFAULT_NOTIFICATION_CONFIG;
  const relay = new OutboxRelay({
    db: database.background,
    bus,
    log,
    intervalMs: eventsConfig.relayIntervalMs,
    republishAfterMs: eventsConfig.republishAfterMs,
    // Made in the run's transaction, durable with the positions: webhook deliveries, notification
    // jobs, partners' earnings from payment events (earnings-recorder.ts) and the stats rollups.
    onPositioned: [createWebhookDeliveries, createNotificationJobs(clock, notificationConfig.messageEmailDelaySeconds), recordPartnerEarnings, applyEventsToStats],
  });
  const webhooks = config.webhooks && config.webhooks.pollIntervalMs > 0 ? new WebhookDispatcher({ db: database.background, log, config: config.webhooks }) : null;
  webhooks?.start();
  const events = new BookingEventHub({ db: database.background, bus, log, checkIntervalMs: eventsConfig.checkIntervalMs, maxQueuedPerSubscriber: eventsConfig.maxQueuedPerSubscriber });
  await events.start();
  relay.start();

  const reads = new ReadRouting(database, { windowMs: config.replicas.readYourWritesMs, redisUrl: cacheConfig.redisUrl, keyPrefix: cacheConfig.keyPrefix, commandTimeoutMs: cacheConfig.commandTimeoutMs, log });
  const mailer = options.mailer ?? createMailer(config.mail, log);
  const sms = options.sms ?? new TestSmsProvider();
  const links: NotificationLinks = {
    publicAppUrl: notificationConfig.publicAppUrl,
    publicApiUrl: notificationConfig.publicApiUrl,
    linkSecret: notificationConfig.linkSecret ?? createHmac('sha256', config.auth.jwtSecret ?? 'booking-api').update('notification-links').digest('base64url'),
  };
  const notifications =
    config.notifications && config.notifications.pollIntervalMs > 0
      ? new JobQueue({
          db: database.background,
          log,
          now: clock,
          pollIntervalMs: config.notifications.pollIntervalMs,
          maxAttempts: config.notifications.maxAttempts,
          retryBaseMs: config.notifications.retryBaseMs,
          handlers: notificationHandlers({ db: database.background, mailer, sms, log, links, from: config.mail.from, now: clock }),
        })
      : null;
  notifications?.start();
  // The deliveries and jobs a relay run created are sent right after it rather than at the next poll.
  changes.subscribe(() => void relay.kick().then(() => Promise.all([webhooks?.kick(), notifications?.kick()])));
  const rateLimitConfig = config.rateLimits;
  const rateLimits = new RateLimits({ config: rateLimitConfig, redisUrl: cacheConfig.redisUrl, keyPrefix: cacheConfig.keyPrefix, commandTimeoutMs: cacheConfig.commandTimeoutMs, log });
  const services: AppServices = { db: database.db, log, changes, cache, catalog, holdMinutes: config.holdMinutes, paymentProviders, payoutProviders, events, webhookTargets: webhookTargetRulesOf(config.webhooks), reads, mailer, sms, rateLimits };
  changes.subscribe(cancellationRefundListener({ db: database.db, providers: paymentProviders, log, changes }));
  changes.subscribe(payoutSubmissionListener({ db: database.db, payoutProviders, log, changes }));
  const paymentWebhooks = paymentWebhookRoute({ db: database.db, changes, log, providers: paymentProviders, rateLimits });
  const payoutWebhooks = payoutWebhookRoute({ db: database.db, changes, log, providers: payoutProviders, rateLimits });
  const schema = buildExecutableSchema(resolverMaps);
  // Accounts are found (or made) once per token, on the background handle like the claims' check.
  const verifier = new TokenVerifier(config.auth, confirmClaimedRecords(database.background), (identity) => upsertAccount(database.background, identity));

  // Metrics always; traces only with an OTLP endpoint (or a test's exporter), else no span is made.
  const metrics = new AppMetrics();
  const tracing = Tracing.create(config.tracing, options.spanExporter);
  cache.metrics.register(metrics);
  registerEventMetrics(metrics, relay, events, database.background);
  registerWebhookMetrics(metrics, database.background);
  registerNotificationMetrics(metrics, database.background, clock);
  metrics.gaugeFrom('websocket_connections', 'Open WebSocket connections.', [], () => websocket.connections);
  metrics.gaugeFrom('db_pool_connections', 'PostgreSQL pool connections by pool and state (total open, idle, waiting: checkouts queued for one).', ['pool', 'state'], () =>
    database.pools().flatMap((p) => [[{ pool: p.name, state: 'total' }, p.total], [{ pool: p.name, state: 'idle' }, p.idle], [{ pool: p.name, state: 'waiting' }, p.waiting]] as Array<[Record<string, string>, number]>),
  );

  const formatError = createErrorFormatter(log);
  // Every operation is measured before it runs, over HTTP and WebSocket alike (query-limits.ts).
  const limits = config.limits;
  const limiter = new QueryLimiter(new QueryCostAnalyzer(schema, limits));
  const gateway = jitGateway(schema);
  const charger = rateLimitCharger(rateLimits, { pointsOf: options.pointsOf ?? rateLimitPointsOf });
  // What watches every operation, start to answer: over Apollo's pipeline and the hot path alike.
  const observers = [metrics.plugin(), ...(tracing ? [tracing.plugin()] : []), requestLogPlugin(log, { slowOperationMs: config.slowOperationMs })] as ApolloServerPlugin<RequestContext>[];
  const apollo = new ApolloServer<RequestContext>({
    gateway,
    formatError,
    includeStacktraceInErrorResponses: false,
    // Cache-control hints are not used; its default plugin wraps every field resolver.
    // The limits first: a plugin after them (the rate limiter) finds the cost (requestedCostOf).
    plugins: [...observers, limiter.plugin(), ApolloServerPluginCacheControlDisabled(), ApolloServerPluginLandingPageDisabled(), ApolloServerPluginUsageReportingDisabled(), charger.plugin()],
    // The parser stops at the token limit, before validation's rules (some quadratic) run.
    parseOptions: { maxTokens: limits.maxTokens },
    // Off in production unless asked for: the schema is then no map for an attacker, and with it
    // go the "Did you mean" suggestions that would give field names away one typo at a time.
    introspection: config.introspection,
    hideSchemaDetailsFromClientErrors: !(config.introspection),
    logger: { debug() {}, info() {}, warn: (m) => log.info(String(m)), error: (m) => log.error(String(m)) },
  });
  await apollo.start();

  const handleGraphQL = graphqlHandler(apollo, async (req, requestId) => {
    const locales = acceptedLocales(req.headers['accept-language']);
    const viewer = await access.viewerOf(await verifier.viewerFor(req.headers.authorization));
    const context = createRequestContext(services, viewer, idempotencyKeyOf(req.headers), requestId, locales, telemetryOf(req));
    // Only requests without an account are limited by address.
    if (!context.viewer.subject) context.clientIp = clientAddress(req, rateLimitConfig.trustProxy);
    return context;
  }, createBodyWriter(config.compression), { maxResponseBytes: limits.maxResponseBytes, log, limiter, hotPath: new HotPath(gateway, limiter, charger, observers) });
  // Only the GraphQL endpoint speaks CORS: the payment webhooks are server to server, and the
  // WebSocket upgrade admits every Origin (its token travels in the init payload, not in a cookie).
  const cors = createCorsHook(config.cors);
  // The CSV export of bookings, authorized like Business.stats, read like it (the reporting handle).
  const bookingsExport = bookingsExportRoute({
    viewerOf: async (authorization) => access.viewerOf(await verifier.viewerFor(authorization)),
    readHandle: async (viewer) => (await reads.readFor(viewer)) ?? database.db,
    log,
  });
  const routes = [unsubscribeRoute({ db: database.background, linkSecret: links.linkSecret, log }), ...(options.routes ?? []), bookingsExport];
  const readiness = new Readiness(readinessChecks(database, cache, cacheConfig.redisUrl !== undefined), { log, timeoutMs: options.readinessTimeoutMs });

  const router = createRouter({
    graphql: handleGraphQL,
    cors,
    hooks: { prefix: WEBHOOKS_PREFIX, route: async (req, res, path) => (await paymentWebhooks(req, res, path)) || payoutWebhooks(req, res, path) },
    routes,
    metrics: config.metricsPort === undefined ? () => metrics.text() : null,
    probes: probeRoute(readiness),
    draining: () => readiness.isDraining,
    log,
  });
  const httpServer = createServer(instrumentRequests(router, { metrics, tracing, hooksPrefix: WEBHOOKS_PREFIX }));
  httpServer.keepAliveTimeout = 65_000;
  const websocket = startWebSocketEndpoint({
    httpServer,
    schema,
    services,
    verifier,
    grantsOf: (viewer) => access.viewerOf(viewer),
    config: config.websocket,
    formatError,
    introspection: config.introspection,
    rateLimits,
    limiter,
  });
  // What runs behind the HTTP server, stopped after it (or alone, when the server never listened).
  const stopBehindHttp = async () => {
    await apollo.stop();
    await relay.stop();
    // Requests in flight are aborted and their deliveries handed back for the next process.
    await webhooks?.stop();
    await notifications?.stop();
    await events.stop();
    await bus.close();
    await cache.close();
    await rateLimits.close();
    await reads.close();
    await tracing?.shutdown();
    await mailer.close();
  };
  let metricsServer: Server | undefined;
  try {
    await listen(httpServer, config.port, config.host);
    if (config.metricsPort !== undefined) metricsServer = await startMetricsServer(metrics, config.metricsPort, config.host);
  } catch (error) {
    if (httpServer.listening) httpServer.close();
    // Nothing started here may outlive a failed start (the caller exits, or a test goes on).
    await websocket.close();
    await stopBehindHttp();
    throw error;
  }
  const { port } = httpServer.address() as AddressInfo;
  const metricsPort = metricsServer ? (metricsServer.address() as AddressInfo).port : port;

  return {
    database,
    httpServer,
    url: `http://${config.host}:${port}${GRAPHQL_PATH}`,
    wsUrl: `ws://${config.host}:${port}${GRAPHQL_PATH}`,
    paymentProviders,
    payoutProviders,
    changes,
    cache,
    relay,
    events,
    websocket,
    webhooks,
    rateLimits,
    readiness,
    metrics,
    metricsUrl: `http://${config.host}:${metricsPort}${METRICS_PATH}`,
    mailer,
    sms,
    notifications,
    async stop() {
      // Subscribers first (1001, going away: clients reconnect elsewhere and replay from their
      // cursor), then requests in flight; the relay finishes its run, so every committed event is
      // either published or left in the outbox for the next process.
      await websocket.close();
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeIdleConnections();
      });
      await new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve()));
      await stopBehindHttp();
    },
  };
}

/**
 * What GET /readyz checks: the primary answers, every migration of this build is applied, and Redis
 * answers when one is configured (without it the cache is in-process, nothing to check). Through
 * `background`, so that probes do not count as requests' statements.
 */
function readinessChecks(database: DatabaseHandle, cache: ReadThroughCache, redis: boolean): ReadinessCheck[] {
  const pending = pendingMigrationsCheck(database.background);
  return [
    { name: 'database', check: async () => void (await sql`/* readinessPing */ SELECT 1`.execute(database.background)) },
    {
      name: 'migrations',
      check: async () => {
        const missing = await pending();
        if (missing.length) throw new Error(`Expected every migration to be applied, ${missing.length} are not: ${missing.join(', ')}.`);
      },
    },
    ...(redis ? [{ name: 'redis', check: () => cache.ping() }] : []),
    // Advisory: a replica that lags past REPLICA_MAX_LAG_MS or is down serves no reads (they go to
    // the primary), so it degrades this instance without taking it out of the balancer.
    ...(database.replicas ? [{ name: 'replicas', advisory: true, check: async () => replicasServing(database.replicas!.status()) }] : []),
  ];
}

/** Thrown when the port is taken: the one start failure a person fixes with a setting. */
export class PortInUseError extends Error {
  constructor(readonly host: string, readonly port: number) {
    super(`port ${port} is in use; set PORT (another API instance, or another program, listens on ${host}:${port}).`);
  }
}

/**
 * listen() reports a taken port as an 'error' event, never through its callback: without this the
 * start would wait forever (and the WebSocket server attached to it re-emits the error as its own).
 */
function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new PortInUseError(host, port) : error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Fails, naming each replica and why, when a configured replica serves no reads. */
function replicasServing(statuses: ReplicaStatus[]): void {
  const idle = statuses.filter((s) => !s.serving);
  if (idle.length) throw new Error(`Expected every read replica to serve reads, ${idle.length} of ${statuses.length} do not: ${idle.map((s) => `${s.name} (${s.reason ?? (s.up ? `lag ${s.lagMs} ms` : 'down')})`).join(', ')}.`);
}

/** One line each time a read replica starts or stops serving reads. */
function replicaChangeLog(log: Logger) {
  return (status: ReplicaStatus) =>
    status.serving
      ? log.info('A read replica serves reads', { replica: status.name, lagMs: status.lagMs })
      : (log.warn ?? log.info).call(log, 'A read replica serves no reads: they go to the primary', { replica: status.name, reason: status.reason });
}

/** Connects to PostgreSQL (or opens the embedded database) and brings its schema up to date. */
export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'poolMax' | 'dataDir' | 'slowQueryMs'> & Partial<Pick<Config, 'pgConnectTimeoutMs' | 'statementTimeoutMs' | 'pgPreparedStatements' | 'replicas'>>, log: Logger = consoleLogger) {
  let migrating = true;
  const database = await connectDatabase({
    readUrls: config.replicas?.readUrls,
    replication: { ...config.replicas, onChange: replicaChangeLog(log) },
    statementTimeoutMs: config.statementTimeoutMs,
    preparedStatements: config.pgPreparedStatements,
    databaseUrl: config.databaseUrl,
    poolMax: config.poolMax,
    connectTimeoutMs: config.pgConnectTimeoutMs,
    availability: databaseAvailabilityLog(log),
    dataDir: config.dataDir,
    onStatement: (event) => {
      // The migrator's own catalog reads are slow on a cold embedded database, and expected: they
      // would land in the middle of the start-up banner.
      if (event.queryDurationMillis >= config.slowQueryMs && !migrating) {
        (log.warn ?? log.info).call(log, 'Slow statement', { ms: Math.round(event.queryDurationMillis), tag: statementTagOf(event.query.sql), sql: event.query.sql.slice(0, 200) });
      }
    },
  });
  try {
    const applied = await migrateToLatest(database.db);
    if (applied.length) log.info('Migrations applied', { migrations: applied });
  } finally {
    migrating = false;
  }
  return database;
}
