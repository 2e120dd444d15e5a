import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { Logger, RequestContext } from './context.js';
import type { QueryLimiter } from './query-limits.js';
import { oversizedResponse } from './response-size.js';

/** Bodies above this are refused with 413 before they are parsed. */
export const MAX_BODY_BYTES = 1024 * 1024;
export const GRAPHQL_PATH = '/graphql';

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `Expected a request body of at most ${MAX_BODY_BYTES} bytes.`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Apollo's HTTP handling on plain node:http. Apollo needs only a method, headers, a query string and
 * a parsed body; an Express layer in between would cost throughput on every request for nothing.
 */
export function graphqlHandler(apollo: ApolloServer<RequestContext>, context: (req: IncomingMessage) => Promise<RequestContext>, limits?: { maxResponseBytes: number; log: Logger; limiter: QueryLimiter }) {
  return async (req: IncomingMessage, res: ServerResponse, search: string): Promise<void> => {
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    let body: unknown;
    if (req.method === 'POST') {
      const text = await readBody(req);
      if ((headers.get('content-type') ?? '').includes('json') && text.length > 0) {
        try {
          body = JSON.parse(text);
        } catch {
          throw new HttpError(400, 'Expected a JSON request body; it could not be parsed.');
        }
      } else body = text;
      // Over a limit whatever its variables: refused before Apollo's parsing and validation.
      const query = body as { query?: unknown; operationName?: unknown } | null;
      const refused = limits && typeof query === 'object' && query !== null && limits.limiter.refuseEarly(query.query, query.operationName);
      if (refused) {
        res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ errors: [{ message: refused.message, extensions: refused.extensions }] }));
        return;
      }
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search, body },
      context: () => context(req),
    });
    for (const [name, value] of response.headers) res.setHeader(name, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      const oversized = limits && oversizedResponse(response.body.string, limits.maxResponseBytes, limits.log);
      if (oversized) {
        res.statusCode = oversized.status;
        res.end(oversized.body);
        return;
      }
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
}

export function sendError(res: ServerResponse, error: unknown): boolean {
  if (!(error instanceof HttpError)) return false;
  if (!res.headersSent) {
    res.writeHead(error.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ message: error.message, extensions: { code: 'BAD_REQUEST' } }] }));
  }
  return true;
}
