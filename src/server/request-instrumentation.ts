import type { IncomingMessage, ServerResponse } from 'node:http';
import { runTracedRequest, type RequestTelemetry } from '../shared/request-telemetry.js';
import { GRAPHQL_PATH } from './http.js';
import type { AppMetrics } from './metrics.js';
import { METRICS_PATH } from './router.js';
import type { Tracing } from './tracing.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const telemetryByRequest = new WeakMap<IncomingMessage, RequestTelemetry>();

/** The telemetry instrumentRequests made for `req`, for its GraphQL context (createRequestContext). */
export function telemetryOf(req: IncomingMessage): RequestTelemetry | undefined {
  return telemetryByRequest.get(req);
}

const METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'OPTIONS', 'HEAD']);

/** The route label of a path: a closed set, whatever paths clients try. */
export function routeOf(path: string, hooksPrefix: string): string {
  if (path === GRAPHQL_PATH) return 'graphql';
  if (path === METRICS_PATH) return 'metrics';
  if (path === '/healthz') return 'healthz';
  if (path === '/readyz') return 'readyz';
  if (path.startsWith(hooksPrefix)) return 'webhooks';
  return 'other';
}

/** The route as a span's `http.route` (a path template); undefined for `other`, which matched none. */
function routeTemplateOf(route: string, hooksPrefix: string): string | undefined {
  if (route === 'other') return undefined;
  return route === 'webhooks' ? `${hooksPrefix.replace(/\/$/, '')}/*` : route === 'graphql' ? GRAPHQL_PATH : `/${route}`;
}

/**
 * Wraps the router: each request gets its own RequestTelemetry (statements, loader batches, and
 * its spans when tracing is on), which its GraphQL context picks up (telemetryOf), and its duration
 * is observed by route, method and status once the router is done with it.
 */
export function instrumentRequests(handler: Handler, options: { metrics: AppMetrics; tracing: Tracing | null; hooksPrefix: string }): Handler {
  const { metrics, tracing, hooksPrefix } = options;
  return async (req, res) => {
    const started = performance.now();
    const telemetry = metrics.requestTelemetry();
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const route = routeOf(queryAt === -1 ? url : url.slice(0, queryAt), hooksPrefix);
    const method = METHODS.has(req.method ?? '') ? req.method! : 'other';
    telemetryByRequest.set(req, telemetry);
    const span = tracing?.startRequest(req, telemetry, method, routeTemplateOf(route, hooksPrefix));
    try {
      await (span ? runTracedRequest(telemetry, () => handler(req, res)) : handler(req, res));
    } finally {
      metrics.observeHttp(route, method, res.statusCode, (performance.now() - started) / 1000);
      span?.end(res.statusCode);
    }
  };
}
