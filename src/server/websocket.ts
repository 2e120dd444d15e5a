import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { createSourceEventStream, execute, GraphQLError, getOperationAST, NoSchemaIntrospectionCustomRule, parse, specifiedRules, validate, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { accessKeyOf } from '../auth/access.js';
import { acceptedLocales } from '../shared/locales.js';
import type { TokenVerifier } from '../auth/tokens.js';
import type { Viewer } from '../auth/viewer.js';
import type { WebSocketConfig } from '../config.js';
import { ErrorCode } from '../shared/errors.js';
import { createRequestContext, type AppServices, type RequestContext } from './context.js';
import type { createErrorFormatter } from './errors.js';
import { GRAPHQL_PATH } from './http.js';
import type { RateLimits } from './rate-limits.js';
import { admitWebSocketUpgrades } from './websocket-admission.js';
import { operationResolutionError, variableErrorsWithCode } from './request-errors.js';
import { guardFor, type StringGuard } from './string-guard.js';
import { tokenLimitError, type QueryLimiter } from './query-limits.js';

/** Validated documents by query text: thousands of subscribers usually send a handful of texts. */
const DOCUMENT_CACHE_LIMIT = 500;
/** Per-event scratch space that a subscription's source events may carry (see events/event-stream.ts). */
interface SharedScratch {
  shared: Map<string, unknown>;
}

function hasScratch(payload: unknown): payload is SharedScratch {
  return typeof payload === 'object' && payload !== null && (payload as SharedScratch).shared instanceof Map;
}

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;

/**
 * graphql-js's `subscribe`, except that subscribers of one event that sent the same operation with
 * the same variables, have the same access (accessKeyOf) and ask for the same locales share one execution of it: the result
 * is the same for all of them, and thousands of staff dashboards on one business then cost one
 * execution per event instead of one each. The shared result lives in the event's scratch space,
 * so it is dropped with the event.
 */
async function subscribeSharingExecution(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return variableErrorsWithCode(source as ExecutionResult);
  let documentId = documentIds.get(args.document);
  if (documentId === undefined) documentIds.set(args.document, (documentId = nextDocumentId++));
  const { viewer, locales } = args.contextValue as RequestContext;
  // The locales too: names and descriptions in the result are in the subscriber's language.
  const group = `execution:${documentId}:${args.operationName ?? ''}:${JSON.stringify(args.variableValues ?? {})}:${accessKeyOf(viewer)}:${locales.join(',')}`;
  const events = source[Symbol.asyncIterator]();
  const run = (payload: unknown): Promise<ExecutionResult> | ExecutionResult => {
    if (!hasScratch(payload)) return execute({ ...args, rootValue: payload });
    let result = payload.shared.get(group) as Promise<ExecutionResult> | undefined;
    if (!result) payload.shared.set(group, (result = Promise.resolve(execute({ ...args, rootValue: payload }))));
    return result;
  };
  const results: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      const step = await events.next();
      return step.done ? step : { value: await run(step.value), done: false };
    },
    async return() {
      return events.return ? ((await events.return()) as IteratorResult<ExecutionResult>) : { value: undefined, done: true };
    },
    async throw(error: unknown) {
      if (events.throw) return (await events.throw(error)) as IteratorResult<ExecutionResult>;
      throw error;
    },
    [Symbol.asyncIterator]() {
      return results;
    },
  };
  return results;
}

/** The codes Apollo gives the same errors over HTTP. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { code } });
}

/** The same error without graphql-js's "Did you mean ...?" hint, as Apollo's hideSchemaDetailsFromClientErrors does. */
function withoutSuggestions(error: GraphQLError): GraphQLError {
  return new GraphQLError(error.message.replace(/ ?Did you mean(.+?)\?$/, ''), { nodes: error.nodes, source: error.source, positions: error.positions });
}

/** setTimeout's longest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface WebSocketEndpoint {
  /** Open connections (acknowledged or not). */
  readonly connections: number;
  /** Closes every connection with 1001 (going away) and stops accepting new ones. */
  close(): Promise<void>;
}

/** 4403 reasons (a close reason holds at most 123 bytes): what was missing, and where it goes. */
export const FORBIDDEN_NO_TOKEN = 'Forbidden: no token; send {"authorization": "Bearer <token>"} as the connection_init payload';
export const FORBIDDEN_BAD_TOKEN = 'Forbidden: the token is invalid or expired';

function refuse(socket: { close(code: number, reason: string): void }, reason: string): false {
  socket.close(CloseCode.Forbidden, reason);
  return false;
}

/**
 * GraphQL subscriptions over WebSocket (graphql-ws's `graphql-transport-ws` protocol), on the HTTP
 * server's port and path. The protocol's close codes come from graphql-ws: 4400 bad message, 4401
 * subscribe before the init ack, 4403 refused init (here: no or a bad token), 4408 no init in time,
 * 4409 a subscription id reused, 4429 a second init; and 4403 when the token expires. With
 * `rateLimits`, a connection over the per-IP limit is closed with 4430 before any of that (see
 * websocket-admission.ts).
 *
 * Only subscriptions travel over the socket: queries and mutations go over HTTP, which has the
 * fast path, the Idempotency-Key header and the status codes.
 */
export function startWebSocketEndpoint(options: {
  httpServer: Server;
  schema: GraphQLSchema;
  services: AppServices;
  verifier: TokenVerifier;
  /** Adds an account's memberships and customer records to its viewer, per subscription (see accounts/account-access.ts). */
  grantsOf?: (viewer: Viewer) => Promise<Viewer>;
  config: WebSocketConfig;
  formatError: ReturnType<typeof createErrorFormatter>;
  rateLimits?: RateLimits;
  /** As over HTTP: without it, introspection is refused and validation messages give no suggestions. */
  introspection?: boolean;
  /** The same limits as over HTTP; without it, none (tests of the protocol alone). */
  limiter?: QueryLimiter;
}): WebSocketEndpoint {
  const { schema, services, verifier, config, formatError } = options;
  const introspection = options.introspection ?? true;
  const rules = introspection ? specifiedRules : [...specifiedRules, NoSchemaIntrospectionCustomRule];
  const wss = options.rateLimits
    ? new WebSocketServer({ noServer: true, maxPayload: config.maxPayloadBytes })
    : new WebSocketServer({ server: options.httpServer, path: GRAPHQL_PATH, maxPayload: config.maxPayloadBytes });
  const stopAdmitting = options.rateLimits ? admitWebSocketUpgrades({ httpServer: options.httpServer, wss, path: GRAPHQL_PATH, rateLimits: options.rateLimits }) : () => {};
  const documents = new Map<string, DocumentNode>();
  /** String guards by document and operation name (documents are cached above, by text). */
  const guards = new WeakMap<DocumentNode, Map<string, StringGuard>>();

  function guardOf(document: DocumentNode, operationName: string | null | undefined, operation: Parameters<typeof guardFor>[2]): StringGuard {
    let byName = guards.get(document);
    if (!byName) guards.set(document, (byName = new Map()));
    let guard = byName.get(operationName ?? '');
    if (!guard) byName.set(operationName ?? '', (guard = guardFor(schema, document, operation)));
    return guard;
  }
  /** Gives a subscription's errors its request id, as over HTTP (see request-id.ts). */
  const format = (error: GraphQLError, requestId: string) => formatError({ ...error.toJSON(), extensions: { ...error.extensions, requestId } }, error);

  /** Parses and validates a query once per text; errors are returned, not cached. */
  function documentFor(query: string): DocumentNode | readonly GraphQLError[] {
    const cached = documents.get(query);
    if (cached) return cached;
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: options.limiter?.limits.maxTokens });
    } catch (error) {
      const tooManyTokens = tokenLimitError((error as GraphQLError).message);
      if (tooManyTokens) return [tooManyTokens];
      return [withCode(error as GraphQLError, 'GRAPHQL_PARSE_FAILED')];
    }
    const errors = validate(schema, document, rules);
    if (errors.length) return errors.map((e) => withCode(introspection ? e : withoutSuggestions(e), 'GRAPHQL_VALIDATION_FAILED'));
    if (documents.size >= DOCUMENT_CACHE_LIMIT) documents.clear();
    documents.set(query, document);
    return document;
  }

  /** Closes the socket with 4403 once the token has expired (timers longer than ~24.8 days are chained). */
  function closeAt(expiresAt: number, extra: { socket: { close(code: number, reason: string): void }; expiry?: NodeJS.Timeout }) {
    const wait = expiresAt - Date.now();
    const timer = wait <= 0
      ? setTimeout(() => extra.socket.close(CloseCode.Forbidden, 'Forbidden: the token expired'), 0)
      : setTimeout(() => closeAt(expiresAt, extra), Math.min(wait, MAX_TIMER_MS));
    timer.unref();
    extra.expiry = timer;
  }

  const server = useServer<Record<string, unknown>, { viewer: Viewer; expiry: NodeJS.Timeout }>(
    {
      // No `schema` here: onSubscribe returns the execution arguments (or errors) for every message.
      subscribe: subscribeSharingExecution,
      connectionInitWaitTimeout: config.initTimeoutMs,
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        // Closed here with a reason that says why (graphql-ws's own close after `false`, a bare
        // "Forbidden", then finds the socket closing and does nothing).
        if (typeof authorization !== 'string') return refuse(ctx.extra.socket, FORBIDDEN_NO_TOKEN);
        try {
          const { viewer, expiresAt } = await verifier.sessionFor(authorization);
          // Closed while the token was checked: no timer may outlive the socket.
          if (ctx.extra.socket.readyState !== ctx.extra.socket.OPEN) return false;
          ctx.extra.viewer = viewer;
          // A subscription must not outlive the token that allowed it.
          closeAt(expiresAt, ctx.extra);
          return true;
        } catch {
          return refuse(ctx.extra.socket, FORBIDDEN_BAD_TOKEN);
        }
      },
      onClose: (ctx) => {
        if (ctx.extra.expiry) clearTimeout(ctx.extra.expiry);
      },
      onSubscribe: async (ctx, _id, payload) => {
        // The subscription being started is already counted.
        if (Object.keys(ctx.subscriptions).length > config.maxSubscriptionsPerConnection) {
          return [
            new GraphQLError(`A connection may run at most ${config.maxSubscriptionsPerConnection} subscriptions at once; complete one first or open another connection.`, {
              extensions: { code: ErrorCode.TooManySubscriptions },
            }),
          ];
        }
        const overLimit = options.limiter?.refuseEarly(payload.query, payload.operationName);
        if (overLimit) return [overLimit];
        const document = documentFor(payload.query);
        if (!('kind' in document)) return document;
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) return [operationResolutionError(document, payload.operationName, undefined)];
        if (operation.operation !== 'subscription') {
          return [new GraphQLError(`Only subscriptions run over WebSocket; send queries and mutations with POST ${GRAPHQL_PATH}.`, { extensions: { code: 'BAD_REQUEST' } })];
        }
        const guard = guardOf(document, payload.operationName, operation);
        if (guard.literalErrors.length) return guard.literalErrors;
        const refused = guard.check(payload.variables);
        if (refused) return [refused];
        // Grants as of this subscription: a membership revoked later ends nothing already subscribed.
        const viewer = options.grantsOf ? await options.grantsOf(ctx.extra.viewer!) : ctx.extra.viewer!;
        const contextValue = createRequestContext(services, viewer, null, randomUUID(), acceptedLocales(ctx.extra.request.headers['accept-language']));
        const tooComplex = options.limiter?.check(payload.query, document, payload.operationName, payload.variables, contextValue);
        if (tooComplex) return [tooComplex];
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
        };
      },
      // Errors are masked and logged exactly as over HTTP.
      onNext: (_ctx, _id, _payload, args, result) => {
        if (!result.errors) return undefined;
        const requestId = (args.contextValue as RequestContext).requestId ?? randomUUID();
        return { ...result, errors: result.errors.map((e) => format(e, requestId)) };
      },
      onError: (_ctx, _id, _payload, errors) => {
        const requestId = randomUUID();
        return errors.map((e) => format(e, requestId));
      },
    },
    wss,
    config.keepAliveMs,
  );

  return {
    get connections() {
      return wss.clients.size;
    },
    close: () => {
      stopAdmitting();
      return server.dispose() as Promise<void>;
    },
  };
}
