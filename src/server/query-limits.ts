import type { ApolloServerPlugin, GraphQLRequestContext, GraphQLRequestListener } from '@apollo/server';
import { GraphQLError, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import { ErrorCode } from '../shared/errors.js';
import type { RequestContext } from './context.js';
import { QueryCostAnalyzer, TOKEN_LIMIT_MESSAGE, type DocumentAnalysis, type LimitName, type QueryLimits } from './query-cost.js';

/** The environment variable that sets each limit, named in the error a client gets. */
const SETTING: Record<LimitName, string> = {
  depth: 'QUERY_MAX_DEPTH',
  aliases: 'QUERY_MAX_ALIASES',
  directives: 'QUERY_MAX_DIRECTIVES',
  fields: 'QUERY_MAX_FIELDS',
  tokens: 'QUERY_MAX_TOKENS',
  cost: 'QUERY_MAX_COST',
};

const WHAT: Record<LimitName, string> = {
  depth: 'a depth of',
  aliases: 'aliases:',
  directives: 'directives:',
  fields: 'field selections:',
  tokens: 'tokens:',
  cost: 'an estimated cost of',
};

const ADVICE: Record<LimitName, string> = {
  depth: 'nest fewer levels, or fetch the inner objects by ID in a second request',
  aliases: 'send fewer aliased fields, or several requests',
  directives: 'use fewer directives',
  fields: 'select fewer fields, or split the operation',
  tokens: 'send a shorter document',
  cost: 'ask for smaller pages (`first`) or fewer nested lists',
};

export const QUERY_COST_EXTENSION = 'cost';

/** A refusal before execution: nothing was run and no statement sent. */
export function queryTooComplex(limit: LimitName, maximum: number, measured: number, atLeast = false): GraphQLError {
  const amount = atLeast ? `at least ${measured}` : String(measured);
  const message =
    limit === 'depth' || limit === 'cost'
      ? `Expected an operation with ${WHAT[limit]} at most ${maximum} (${SETTING[limit]}), got ${amount}; ${ADVICE[limit]}.`
      : `Expected at most ${maximum} ${WHAT[limit].replace(/:$/, '')} in the operation (${SETTING[limit]}), got ${amount}; ${ADVICE[limit]}.`;
  return new GraphQLError(message, {
    extensions: { code: ErrorCode.QueryTooComplex, limit, maximum, measured },
  });
}

/**
 * graphql-js's parser stops at `maxTokens` with a syntax error; clients get it as the token limit
 * it is (QUERY_TOO_COMPLEX, `limit: 'tokens'`). The count is unknown past the limit: `measured` is
 * the limit plus one.
 */
export function tokenLimitError(message: string): GraphQLError | null {
  const match = TOKEN_LIMIT_MESSAGE.exec(message);
  if (!match) return null;
  const maximum = Number(match[1]);
  return queryTooComplex('tokens', maximum, maximum + 1, true);
}

/** The formatted form of `tokenLimitError`, for the HTTP error formatter (Apollo parses there). */
export function formattedTokenLimitError(formatted: GraphQLFormattedError): GraphQLFormattedError | null {
  if (formatted.extensions?.code !== 'GRAPHQL_PARSE_FAILED') return null;
  const error = tokenLimitError(formatted.message);
  if (!error) return null;
  return { message: error.message, locations: formatted.locations, extensions: error.extensions };
}

/** What one request was charged, kept by its context object. */
const costs = new WeakMap<object, number>();

/**
 * The estimated cost of the operation this request runs (see query-cost.ts), for the rate limiter
 * to charge: known from Apollo's `didResolveOperation` on (this plugin's hook runs first when it is
 * listed first), and for a WebSocket subscription once it is accepted. Accepts Apollo's request
 * context or our GraphQL context (`requestContext.contextValue`). Undefined before the operation is
 * resolved, or for a request that never got that far (a parse or validation error: charge it 1).
 */
export function requestedCostOf(context: RequestContext | Pick<GraphQLRequestContext<RequestContext>, 'contextValue'>): number | undefined {
  const key = 'contextValue' in context ? context.contextValue : context;
  return costs.get(key);
}

/** Measures an operation and refuses it when over a limit; remembers its cost for `requestedCostOf`. */
export class QueryLimiter {
  readonly analyzer: QueryCostAnalyzer;

  constructor(analyzer: QueryCostAnalyzer) {
    this.analyzer = analyzer;
  }

  get limits(): QueryLimits {
    return this.analyzer.limits;
  }

  /**
   * Before Apollo parses and validates (http.ts, websocket.ts): refuses a document that is over a
   * limit whatever its variables. Validation's rules are not cheap on a large document (400 root
   * fields of one name, within the token limit, took 0.8 s to validate here), so a document over
   * the limits must not reach them. A cache hit for every document seen before.
   */
  refuseEarly(source: unknown, operationName: unknown): GraphQLError | null {
    if (typeof source !== 'string') return null;
    const analysis = this.analyzer.analyzeSource(source, typeof operationName === 'string' ? operationName : undefined);
    return analysis?.exceeded ? this.errorFor(analysis.exceeded) : null;
  }

  /** The error to answer instead of running the operation, or null; `context` is charged its cost. */
  check(source: string, document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined, context: object): GraphQLError | null {
    const analysis = this.analyzer.analyze(source, document, operationName);
    const { exceeded } = analysis;
    if (exceeded) {
      if (analysis.constantCost !== null) costs.set(context, analysis.constantCost);
      return this.errorFor(exceeded);
    }
    const cost = this.analyzer.costOf(analysis, variables);
    costs.set(context, cost);
    if (cost > this.limits.maxCost) return queryTooComplex('cost', this.limits.maxCost, cost);
    return null;
  }

  /** `extensions.cost` of an answer: what `context` was charged and the limit; undefined when it was never measured. */
  costExtensionOf(context: object): { requested: number; maximum: number } | undefined {
    const requested = costs.get(context);
    return requested === undefined ? undefined : { requested, maximum: this.limits.maxCost };
  }

  private errorFor(exceeded: NonNullable<DocumentAnalysis['exceeded']>): GraphQLError {
    return queryTooComplex(exceeded.limit, this.limitOf(exceeded.limit), exceeded.measured, exceeded.atLeast);
  }

  private limitOf(limit: LimitName): number {
    const { limits } = this;
    return { depth: limits.maxDepth, aliases: limits.maxAliases, directives: limits.maxDirectives, fields: limits.maxFields, tokens: limits.maxTokens, cost: limits.maxCost }[limit];
  }

  /**
   * The Apollo plugin: measures in `didResolveOperation` (after parsing and validation, which
   * Apollo caches per document, and before execution), and adds `extensions.cost` to the answer.
   * The hooks are one object for every request: nothing is allocated per request here.
   */
  plugin(): ApolloServerPlugin<RequestContext> {
    const listener: GraphQLRequestListener<RequestContext> = {
      didResolveOperation: async (rc) => {
        const error = this.check(rc.source, rc.document, rc.request.operationName, rc.request.variables, rc.contextValue);
        // Apollo takes the HTTP status from `extensions.http` and leaves it out of the answer.
        if (error) throw new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status: 400 } } });
      },
      willSendResponse: async (rc) => {
        const cost = this.costExtensionOf(rc.contextValue);
        if (cost === undefined || rc.response.body.kind !== 'single') return;
        const result = rc.response.body.singleResult;
        result.extensions = { ...result.extensions, [QUERY_COST_EXTENSION]: cost };
      },
    };
    return { requestDidStart: async () => listener };
  }
}

/**
 * What an operation costs in rate-limit points: one per 100 objects of its estimated cost, at least
 * one (GitHub's rule), so a client's budget counts work rather than requests: the benchmark's page
 * (841) costs 9, a small lookup 1, the introspection query 46.
 */
export function rateLimitPointsOf(context: RequestContext | Pick<GraphQLRequestContext<RequestContext>, 'contextValue'>): number {
  return Math.max(1, Math.ceil((requestedCostOf(context) ?? 0) / 100));
}
