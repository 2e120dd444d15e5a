import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../shared/errors.js';
import type { RequestContext } from './context.js';
import type { Logger } from '../shared/logger.js';
import { endUncompressed, type BodyWriter } from './compression.js';
import { appendVary } from './cors.js';
import { errorBody, finishErrorResponse } from './http-error-body.js';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.js';
import type { QueryLimiter } from './query-limits.js';
import { oversizedResponse } from './response-size.js';
import type { HandedOffContext } from './hand-off.js';
import { hotRequestOf, JSON_CONTENT_TYPE, type HotPath } from './hot-path.js';

/** Bodies above this are refused with 413 before they are parsed. */
export const MAX_BODY_BYTES = 1024 * 1024;
export const GRAPHQL_PATH = '/graphql';
/** What is still read (and dropped) of a refused body so the client gets to read the 413; past it the connection is cut. */
const MAX_DRAINED_BYTES = 16 * MAX_BODY_BYTES;

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly code = 'BAD_REQUEST') {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else if (!refused) {
        // Answered at once, but the rest is still read and dropped: destroying the request here
        // would reset the connection before the client has read the answer.
        refused = true;
        chunks.length = 0;
        reject(new HttpError(413, `Expected a request body of at most ${MAX_BODY_BYTES} bytes, got more.`, ErrorCode.PayloadTooLarge));
      } else if (size > MAX_BODY_BYTES + MAX_DRAINED_BYTES) req.destroy();
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Apollo's HTTP handling on plain node:http. Apollo needs only a method, headers, a query string and
 * a parsed body; an Express layer in between would cost throughput on every request for nothing.
 */
export function graphqlHandler(
  apollo: ApolloServer<RequestContext>,
  context: (req: IncomingMessage, requestId: string) => Promise<RequestContext>,
  endBody: BodyWriter = endUncompressed,
  limits?: { maxResponseBytes: number; log: Logger; limiter: QueryLimiter; hotPath?: HotPath },
) {
  return async (req: IncomingMessage, res: ServerResponse, search: string): Promise<void> => {
    const requestId = requestIdOf(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    // Names come in the language Accept-Language asks for; a GET is what a shared cache may store.
    if (req.method === 'GET') appendVary(res, 'Accept-Language');
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    // Built once, whichever path serves the request: a hand-off from the hot path to Apollo keeps it.
    let contextValue: Promise<RequestContext> | undefined;
    const contextOnce = () =>
      (contextValue ??= context(req, requestId).catch((error: unknown) => {
        // A failure that is not a client's (a JWKS endpoint down) is logged and masked by the
        // formatter; the request id goes along for its log line.
        throw error instanceof GraphQLError ? error : new GraphQLError(`Context creation failed: ${(error as Error)?.message}`, { originalError: error as Error, extensions: { requestId } });
      }));
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
      const hot = limits?.hotPath && hotRequestOf(req.headers, body);
      if (hot) {
        const outcome = await limits.hotPath!.serve(hot, contextOnce as () => Promise<HandedOffContext>);
        if ('body' in outcome) {
          const oversized = oversizedResponse(outcome.body, limits.maxResponseBytes, limits.log);
          res.statusCode = oversized?.status ?? 200;
          res.setHeader('content-type', JSON_CONTENT_TYPE);
          if (oversized) res.end(oversized.body);
          else endBody(req, res, outcome.body);
          return;
        }
      }
      // Over a limit whatever its variables: refused before Apollo's parsing and validation.
      const query = body as { query?: unknown; operationName?: unknown } | null;
      const refused = limits && typeof query === 'object' && query !== null && limits.limiter.refuseEarly(query.query, query.operationName);
      if (refused) {
        // Apollo's plugins never see it: its request line is written here, in the same shape.
        limits.log.info('GraphQL operation', {
          requestId,
          operationName: typeof query.operationName === 'string' ? query.operationName.slice(0, 100) : null,
          operationType: null,
          statements: 0,
          status: 400,
          errors: [String(refused.extensions.code)],
        });
        res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ errors: [{ message: refused.message, extensions: { ...refused.extensions, requestId } }] }));
        return;
      }
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search, body },
      context: contextOnce,
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
      if (!response.body.string.startsWith('{"errors":')) {
        endBody(req, res, response.body.string);
        return;
      }
      const finished = finishErrorResponse(res.statusCode, response.headers.get('content-type') ?? '', response.body.string, requestId);
      res.statusCode = finished.status;
      res.end(finished.body);
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
    const requestId = res.getHeader(REQUEST_ID_HEADER);
    res.end(errorBody(error.message, error.code, typeof requestId === 'string' ? requestId : undefined));
  }
  return true;
}
