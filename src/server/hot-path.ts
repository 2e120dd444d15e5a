import type { IncomingHttpHeaders } from 'node:http';
import { HeaderMap, type ApolloServerPlugin, type GraphQLRequestContextWillSendResponse, type GraphQLRequestListener } from '@apollo/server';
import type { JitGateway } from './jit-executor.js';
import { QUERY_COST_EXTENSION, type QueryLimiter } from './query-limits.js';
import type { RateLimitCharger } from './rate-limit-plugin.js';
import { HAND_OFF, type HandedOffContext } from './hand-off.js';

/** The content type Apollo answers a JSON request with when the client states no preference. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** A parsed POST body the hot path can serve: Apollo's checks of it would all pass. */
export interface HotRequest {
  query: string;
  operationName: string | null;
  variables: Record<string, unknown>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The requests the hot path may take: a JSON POST (never held back by CSRF prevention) whose answer
 * Apollo would send as `application/json` (no Accept, or one that takes JSON as it is), with a string
 * query, no `extensions` (persisted queries), and variables and operation name of the right types.
 * Everything else goes through Apollo as before, which answers each case its own way.
 */
export function hotRequestOf(headers: IncomingHttpHeaders, body: unknown): HotRequest | null {
  const contentType = headers['content-type'];
  if (contentType !== 'application/json' && !contentType?.startsWith('application/json;')) return null;
  const accept = headers.accept;
  if (accept !== undefined && accept !== '*/*' && accept !== 'application/json') return null;
  if (!isPlainObject(body) || typeof body.query !== 'string' || 'extensions' in body) return null;
  const { operationName, variables } = body;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return null;
  if (variables !== undefined && variables !== null && !isPlainObject(variables)) return null;
  return { query: body.query, operationName: operationName ?? null, variables: variables ?? {} };
}

export type HotOutcome = { body: string } | { handOff: true };
const HAND_IT_OFF: HotOutcome = { handOff: true };

/**
 * Serves a query whose text (and operation name) Apollo has already parsed, validated and run once,
 * without Apollo's per-request pipeline: the same steps in the same order, each the same code
 * Apollo's path calls (the cost limit, the rate-limit charge, the string guard, the compiled query),
 * and the same answer byte for byte. Only a clean answer is written here: whenever a step refuses
 * or execution reports an error, the request is handed to Apollo with what was done so far (see
 * HandOff), and Apollo answers it exactly as it would have, nothing charged or run twice.
 *
 * Measured on the benchmark's page: Apollo's pipeline (request-context set-up, hashing the query
 * text, plugin hooks, a cloned context) and its stringify were about 6% of the API's CPU.
 */
export class HotPath {
  /**
   * `observers` are the plugins that watch every operation from its start to its answer (metrics,
   * traces, the log line): the hot path runs their `requestDidStart` and `willSendResponse` hooks as
   * Apollo would, with the fields they read, so a repeated query is measured, traced and logged like
   * any other. A request handed to Apollo after they started is observed again there from its
   * start; what they began here is dropped (a trace then holds an unfinished operation span).
   */
  constructor(
    private readonly gateway: JitGateway,
    private readonly limiter: QueryLimiter,
    private readonly charger: RateLimitCharger,
    private readonly observers: readonly ApolloServerPlugin<HandedOffContext>[] = [],
  ) {}

  /** `contextOf` is called only for a text Apollo has run before; when it fails, Apollo answers. */
  async serve(request: HotRequest, contextOf: () => Promise<HandedOffContext>): Promise<HotOutcome> {
    const prepared = this.gateway.prepared(request.query, request.operationName);
    if (!prepared || prepared.operation.operation !== 'query') return HAND_IT_OFF;
    let context: HandedOffContext;
    try {
      context = await contextOf();
    } catch {
      return HAND_IT_OFF;
    }
    const { variables } = request;
    const observed = this.observers.length ? await this.startObservers(request, context) : null;
    if (this.limiter.check(request.query, prepared.document, request.operationName, variables, context)) return HAND_IT_OFF;
    const verdict = await this.charger.charge({
      contextValue: context,
      operation: prepared.operation,
      operationName: prepared.operationName,
      document: prepared.document,
      source: request.query,
      request: { query: request.query, operationName: request.operationName ?? undefined, variables },
    });
    if (!verdict.allowed || prepared.guard.literalErrors.length > 0 || prepared.guard.check(variables)) {
      context[HAND_OFF] = { verdict };
      return HAND_IT_OFF;
    }
    const result = await prepared.query.query(undefined, context, variables);
    if (result.errors) {
      context[HAND_OFF] = { verdict, result };
      return HAND_IT_OFF;
    }
    // As Apollo writes it: its field order (errors, data, extensions), the plugins' order (the
    // limits, then the rate limiter), a newline at the end.
    const extensions = { [QUERY_COST_EXTENSION]: this.limiter.costExtensionOf(context), rateLimit: this.charger.extensionOf(verdict) };
    const body = `${JSON.stringify({ data: result.data, extensions })}\n`;
    if (observed) await this.endObservers(observed, prepared, { data: result.data, extensions });
    return { body };
  }

  private async startObservers(request: HotRequest, context: HandedOffContext) {
    const started = {
      contextValue: context,
      request: { query: request.query, operationName: request.operationName ?? undefined, variables: request.variables },
    } as unknown as Parameters<NonNullable<ApolloServerPlugin<HandedOffContext>['requestDidStart']>>[0];
    const listeners = await Promise.all(this.observers.map((plugin) => plugin.requestDidStart?.(started)));
    return { started, listeners: listeners.filter((l): l is GraphQLRequestListener<HandedOffContext> => Boolean(l)) };
  }

  private async endObservers(
    observed: { started: object; listeners: GraphQLRequestListener<HandedOffContext>[] },
    prepared: NonNullable<ReturnType<JitGateway['prepared']>>,
    singleResult: { data: unknown; extensions: Record<string, unknown> },
  ): Promise<void> {
    const ended = {
      ...observed.started,
      document: prepared.document,
      operation: prepared.operation,
      operationName: prepared.operationName,
      queryHash: prepared.queryHash,
      response: { http: { status: 200, headers: new HeaderMap() }, body: { kind: 'single', singleResult } },
    } as unknown as GraphQLRequestContextWillSendResponse<HandedOffContext>;
    for (const listener of observed.listeners) await listener.willSendResponse?.(ended);
  }
}
