import { createServer, type Server } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RequestTelemetry } from '../shared/request-telemetry.js';

/** What GET /metrics answers with (the Prometheus text format, version 0.0.4). */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** Operation names kept as label values; later new names count as `other` (see BoundedLabels). */
export const MAX_OPERATION_NAMES = 100;
/** Error codes kept as label values: the API's codes are a closed set, so this is only a guard. */
const MAX_ERROR_CODES = 50;
/** An operation whose document did not parse or validate, or named no operation it has. */
export const UNKNOWN_OPERATION = 'unknown';
/** An operation without a name (`{ businesses { ... } }`). */
export const ANONYMOUS_OPERATION = 'anonymous';
/** What every value past a BoundedLabels' limit is counted as. */
export const OTHER_LABEL = 'other';

/** How long a scrape-time query (outbox lag, webhook backlog) may take before the scrape goes on without it. */
const SCRAPE_QUERY_TIMEOUT_MS = 1000;

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STATEMENT_BUCKETS = [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89];
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/**
 * Label values chosen by clients (operation names) would let any client grow the registry without
 * end: the first `max` distinct values are kept, and every later one is counted as `other`.
 */
export class BoundedLabels {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  of(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max) return OTHER_LABEL;
    this.seen.add(value);
    return value;
  }
}

/**
 * Facts of the process rather than of an app (event-loop lag, GC pauses, heap, CPU, file
 * descriptors): prom-client's default collectors, registered once per process on a registry of
 * their own (never prom-client's global one), because each registration starts a GC observer and an
 * event-loop monitor that nothing stops. Every app's GET /metrics serves them beside its own.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

type Labels = Record<string, string>;
/** A value read at scrape time: one number, or one per label set. */
type Reading = number | Array<[labels: Labels, value: number]>;

/** A scrape-time read that must not hold the scrape up: undefined after the timeout or on failure. */
async function boundedRead<T>(read: () => Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), SCRAPE_QUERY_TIMEOUT_MS);
  });
  try {
    return await Promise.race([read().catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The metrics of one app (tests start several in one process: each has its own registry). The hot
 * path only observes what the request already counted (request-telemetry.ts): one HTTP observation,
 * one operation observation, one per DataLoader batch; everything else is read at scrape time.
 */
export class AppMetrics {
  readonly registry = new Registry();
  private readonly operationNames = new BoundedLabels(MAX_OPERATION_NAMES);
  private readonly errorCodes = new BoundedLabels(MAX_ERROR_CODES);

  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by route (graphql, metrics, healthz, readyz, webhooks, other), method and status, from the first byte read to the answer.',
    labelNames: ['route', 'method', 'status'],
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly operationDuration = new Histogram({
    name: 'graphql_operation_duration_seconds',
    help: `GraphQL operations over HTTP by name (the first ${MAX_OPERATION_NAMES} names seen, then "${OTHER_LABEL}"; "${ANONYMOUS_OPERATION}" without one, "${UNKNOWN_OPERATION}" when the document did not resolve to an operation) and type.`,
    labelNames: ['operation', 'type'],
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly operationStatements = new Histogram({
    name: 'graphql_operation_sql_statements',
    help: 'SQL statements one GraphQL operation sent, by operation name and type (as graphql_operation_duration_seconds).',
    labelNames: ['operation', 'type'],
    buckets: STATEMENT_BUCKETS,
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'graphql_errors_total',
    help: 'Errors in GraphQL answers over HTTP, by extensions.code.',
    labelNames: ['code'],
    registers: [this.registry],
  });
  private readonly loaderBatches = new Histogram({
    name: 'dataloader_batch_size',
    help: 'Keys per DataLoader batch, by loader (its name without arguments).',
    labelNames: ['loader'],
    buckets: BATCH_BUCKETS,
    registers: [this.registry],
  });
  private readonly observeBatch = (loader: string, keys: number) => this.loaderBatches.labels(loader).observe(keys);

  /** A fresh record for one HTTP request (see request-telemetry.ts). */
  requestTelemetry(): RequestTelemetry {
    return { statements: 0, cacheHits: 0, cacheMisses: 0, loaderBatch: this.observeBatch };
  }

  observeHttp(route: string, method: string, status: number, seconds: number): void {
    this.httpDuration.labels(route, method, String(status)).observe(seconds);
  }

  /** Operation latency, statements and error codes, from Apollo's request pipeline (HTTP only: subscriptions are long-lived). */
  plugin(): ApolloServerPlugin<{ telemetry?: RequestTelemetry }> {
    return {
      requestDidStart: async () => {
        const started = performance.now();
        return {
          willSendResponse: async ({ operation, operationName, response, contextValue }) => {
            const name = !operation ? UNKNOWN_OPERATION : operationName ? this.operationNames.of(operationName) : ANONYMOUS_OPERATION;
            const type = operation?.operation ?? UNKNOWN_OPERATION;
            this.operationDuration.labels(name, type).observe((performance.now() - started) / 1000);
            // Absent when the context could not be built (a bad token): then nothing ran.
            const telemetry = contextValue.telemetry;
            if (telemetry) this.operationStatements.labels(name, type).observe(telemetry.statements);
            const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
            if (errors) {
              for (const error of errors) this.errors.labels(this.errorCodes.of(String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR'))).inc();
            }
          },
        };
      },
    };
  }

  /** A counter another part keeps (cache, events), read at scrape time. */
  counterFrom(name: string, help: string, labelNames: string[], read: () => Reading): void {
    new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        const reading = read();
        if (typeof reading === 'number') this.inc(reading);
        else for (const [labels, value] of reading) this.inc(labels, value);
      },
    });
  }

  /**
   * A gauge read at scrape time. A read that fails or takes longer than a second (the database is
   * down) leaves the gauge without a sample for that scrape rather than failing the scrape.
   */
  gaugeFrom(name: string, help: string, labelNames: string[], read: () => Reading | Promise<Reading>): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        const reading = await boundedRead(async () => read());
        if (reading === undefined) return;
        if (typeof reading === 'number') this.set(reading);
        else for (const [labels, value] of reading) this.set(labels, value);
      },
    });
  }

  /** The body of GET /metrics: the process's default collectors, then this app's metrics. */
  async text(): Promise<string> {
    const [process, app] = await Promise.all([processMetrics().metrics(), this.registry.metrics()]);
    return `${process}\n${app}`;
  }
}

/**
 * GET /metrics alone on a port of its own (METRICS_PORT), for a scraper on a private network while
 * the public port answers /metrics with 404. Resolves once it listens.
 */
export function startMetricsServer(metrics: AppMetrics, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`No route for ${req.method} ${path}; this port serves GET /metrics only.`);
      return;
    }
    metrics.text().then(
      (body) => res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(body),
      (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`The metrics could not be collected: ${error.message}`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
