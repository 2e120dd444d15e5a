import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Which browser pages on other origins may call the GraphQL endpoint. Tokens travel in the
 * Authorization header, never in cookies, so CORS here decides which pages may *read* answers and
 * send non-simple requests; it is not what keeps a signed-in user's authority from other sites.
 */
export interface CorsConfig {
  /** Exact origins (`https://app.example.com`); `['*']` admits every page (only without credentials); empty admits none. */
  origins: readonly string[];
  /** Sends `Access-Control-Allow-Credentials: true` (cookies, HTTP auth) to the listed origins; never with `*`. */
  allowCredentials: boolean;
  /** How long a browser may reuse a preflight's answer (Chromium caps it at 7200 s, Firefox at 86400 s). */
  maxAgeSeconds: number;
}

export const ANY_ORIGIN = '*';
export const DEFAULT_CORS_CONFIG: CorsConfig = { origins: [], allowCredentials: false, maxAgeSeconds: 7200 };

export const CORS_ALLOWED_METHODS = 'GET, POST';
/** What our clients send: JSON bodies, bearer tokens, idempotent retries, Apollo's CSRF headers, correlation ids. */
export const CORS_ALLOWED_HEADERS = 'content-type, authorization, idempotency-key, apollo-require-preflight, x-apollo-operation-name, x-request-id';
/** Response headers a page's script may read beyond the CORS-safelisted ones (rate-limit waits, correlation ids). */
export const CORS_EXPOSED_HEADERS = 'retry-after, x-request-id';

/** Adds `token` to the response's Vary header unless it is already named there. */
export function appendVary(res: ServerResponse, token: string): void {
  const current = res.getHeader('vary');
  if (current === undefined || current === '') {
    res.setHeader('vary', token);
    return;
  }
  const text = Array.isArray(current) ? current.join(', ') : String(current);
  const lower = token.toLowerCase();
  if (text === '*' || text.split(',').some((name) => name.trim().toLowerCase() === lower)) return;
  res.setHeader('vary', `${text}, ${token}`);
}

/**
 * Returns a hook for every request to the GraphQL endpoint. It answers preflights itself (true:
 * the request is done) and otherwise adds the CORS headers to the response about to be written.
 *
 * A preflight from an origin that is not admitted gets 403 with no `Access-Control-Allow-*`
 * header: the browser fails it either way, and a 403 names the cause in the network panel where a
 * bare 204 would look like a server that forgot its headers.
 *
 * Actual requests are never refused for their Origin: same-origin POSTs carry one too (the
 * sandbox's), and non-browser clients can send any Origin they like. A page of a foreign origin
 * cannot send a JSON POST or a header Apollo's CSRF prevention requires without a preflight, and
 * without `Access-Control-Allow-Origin` it cannot read what comes back.
 */
export function createCorsHook(config: CorsConfig): (req: IncomingMessage, res: ServerResponse) => boolean {
  const anyOrigin = config.origins.includes(ANY_ORIGIN);
  const allowed = new Set(config.origins);
  const credentials = config.allowCredentials && !anyOrigin;
  const preflightHeaders: Record<string, string> = {
    'access-control-allow-methods': CORS_ALLOWED_METHODS,
    'access-control-allow-headers': CORS_ALLOWED_HEADERS,
    'access-control-max-age': String(config.maxAgeSeconds),
  };
  if (credentials) preflightHeaders['access-control-allow-credentials'] = 'true';

  return (req, res) => {
    // On every answer, with an Origin or without: a shared cache must not hand an answer made for
    // one origin (or for none) to another.
    res.setHeader('vary', 'Origin');
    const origin = req.headers.origin;
    if (origin === undefined) return false;
    const admitted = anyOrigin || allowed.has(origin);
    const allowOrigin = anyOrigin ? ANY_ORIGIN : origin;
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      req.resume();
      if (!admitted) {
        // statusCode + end(body) rather than writeHead: Node then sends a Content-Length, not chunks.
        res.statusCode = 403;
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end(`Expected a page from an origin listed in CORS_ORIGINS, got "${origin}".`);
      } else {
        res.writeHead(204, { ...preflightHeaders, 'access-control-allow-origin': allowOrigin });
        res.end();
      }
      return true;
    }
    if (admitted) {
      res.setHeader('access-control-allow-origin', allowOrigin);
      res.setHeader('access-control-expose-headers', CORS_EXPOSED_HEADERS);
      if (credentials) res.setHeader('access-control-allow-credentials', 'true');
    }
    return false;
  };
}
