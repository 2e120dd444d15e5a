import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { sendDatabaseUnavailable } from './database-unavailable.js';
import { METRICS_CONTENT_TYPE } from './metrics.js';
import { errorBody } from './http-error-body.js';
import { GRAPHQL_PATH, sendError } from './http.js';
import { REQUEST_ID_HEADER } from './request-id.js';

/** Metrics for operators in the Prometheus text format (server/metrics.ts); on METRICS_PORT instead when that is set. */
export const METRICS_PATH = '/metrics';

/** Extra HTTP routes (the sandbox) tried for requests other than a POST to /graphql, before the 404. */
export type Route = (req: IncomingMessage, res: ServerResponse, path: string) => boolean | Promise<boolean>;

/** What the router sends requests to; the composition root (src/app.ts) builds each. */
export interface RouterTargets {
  graphql: (req: IncomingMessage, res: ServerResponse, search: string) => Promise<void>;
  /** Answers a CORS preflight of the GraphQL endpoint (true: answered) and sets the CORS headers otherwise. */
  cors: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Server-to-server hooks under one path prefix (payment providers' webhooks). */
  hooks: { prefix: string; route: Route };
  routes: readonly Route[];
  /** The body of GET /metrics; null when the metrics are served on a port of their own (METRICS_PORT). */
  metrics: (() => Promise<string>) | null;
  /** GET /healthz and /readyz (readiness.ts). */
  probes: Route;
  /** True once shutdown began: answers then close their connection, so keep-alive clients reconnect to another instance. */
  draining: () => boolean;
  log: Logger;
}

/**
 * The HTTP routes of the API, for node:http's `createServer`. The hot path first: a POST to /graphql
 * is answered after two comparisons; extra routes (the sandbox) only answer GETs. An error no
 * handler answered is logged with its path and request id and masked as a 500.
 */
export function createRouter(targets: RouterTargets): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { graphql, cors, hooks, routes, metrics, probes, draining, log } = targets;
  return async (req, res) => {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const search = queryAt === -1 ? '' : url.slice(queryAt + 1);
    if (draining()) res.setHeader('connection', 'close');
    try {
      if (path === GRAPHQL_PATH && cors(req, res)) return;
      if (path === GRAPHQL_PATH && req.method === 'POST') return await graphql(req, res, search);
      if (path.startsWith(hooks.prefix) && (await hooks.route(req, res, path))) return;
      for (const route of routes) if (await route(req, res, path)) return;
      if (path === GRAPHQL_PATH) return await graphql(req, res, search);
      if (path === METRICS_PATH && metrics) {
        const body = await metrics();
        res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(body);
        return;
      }
      if (await probes(req, res, path)) return;
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`No route for ${path}; the API is at ${GRAPHQL_PATH}.`);
    } catch (error) {
      if (sendError(res, error)) return;
      // A payment provider retries a webhook answered with 503: nothing of it was applied.
      if (sendDatabaseUnavailable(res, error)) return;
      const requestId = res.getHeader(REQUEST_ID_HEADER) as string | undefined;
      log.error('Unexpected error while handling an HTTP request', { requestId, path, message: (error as Error).message, stack: (error as Error).stack });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(errorBody('Internal server error.', ErrorCode.InternalServerError, requestId));
    }
  };
}
