import { randomUUID } from 'node:crypto';

/** The header a proxy or client may name a request with; the response always carries it back. */
export const REQUEST_ID_HEADER = 'x-request-id';

// Printable, no spaces, quotes or separators that could forge a log field: what proxies generate
// (UUIDs, hex, base64url, dotted trace ids).
const SANE_REQUEST_ID = /^[A-Za-z0-9._:+\/=-]{1,128}$/;

/**
 * The id that ties a user's report to the log: the client's own `X-Request-Id` if it is a sane
 * token, else a fresh UUID (randomUUID draws from a pre-filled entropy buffer: cheap per request).
 */
export function requestIdOf(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given !== undefined && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}
