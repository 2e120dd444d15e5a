import type { ApolloServerPlugin, GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import { Kind, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import type { RequestContext } from './context.js';
import { accountKey, operationKey, rateLimitedError, type BucketName, type RateLimits, type Verdict } from './rate-limits.js';

/** The points an operation costs in the `operations` bucket; the lead wires the query-cost estimator here. */
export type PointsOf = (requestContext: GraphQLRequestContextDidResolveOperation<RequestContext>) => number;

/** Root mutation fields that claim slots: each one in an operation costs a point of the `bookings` bucket. */
export const SLOT_CLAIMING_MUTATIONS: ReadonlySet<string> = new Set(['bookingCreate', 'slotHold', 'bookingReschedule']);

/** Slot-claiming root fields per operation node; Apollo reuses the parsed document of a repeated text, so this is computed once per text. */
const claimsByOperation = new WeakMap<OperationDefinitionNode, number>();

function countClaims(selectionSet: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, seen: Set<string>): number {
  let claims = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (SLOT_CLAIMING_MUTATIONS.has(selection.name.value)) claims++;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      claims += countClaims(selection.selectionSet, fragments, seen);
    } else {
      const fragment = fragments.get(selection.name.value);
      if (fragment && !seen.has(fragment.name.value)) {
        seen.add(fragment.name.value);
        claims += countClaims(fragment.selectionSet, fragments, seen);
      }
    }
  }
  return claims;
}

export function slotClaimsOf(requestContext: GraphQLRequestContextDidResolveOperation<RequestContext>): number {
  const { operation, document } = requestContext;
  if (!operation || operation.operation !== 'mutation') return 0;
  let claims = claimsByOperation.get(operation);
  if (claims === undefined) {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    claims = countClaims(operation.selectionSet, fragments, new Set());
    claimsByOperation.set(operation, claims);
  }
  return claims;
}

/**
 * Charges every GraphQL operation over HTTP to its buckets once it is parsed and validated, before
 * anything executes: a refusal is a top-level RATE_LIMITED error with HTTP 429 and Retry-After, and
 * no resolver (so no SQL) runs. Slot-claiming mutations are charged to `bookings` as well, in the
 * same round trip. A request that fails to parse or validate is charged 1 point when its answer is
 * sent (it cost us the parse). Every answer carries what is left in `extensions.rateLimit`:
 * `{ limit, remaining, resetSeconds }`, plus `bookings` with the same fields for slot-claiming
 * mutations.
 */
export function rateLimitPlugin(limits: RateLimits, options: { pointsOf?: PointsOf } = {}): ApolloServerPlugin<RequestContext> {
  const pointsOf = options.pointsOf ?? (() => 1);
  const keyOf = (context: RequestContext) => operationKey(context.viewer, context.clientIp);
  return {
    async requestDidStart() {
      let verdict: Verdict | undefined;
      return {
        async didResolveOperation(requestContext) {
          const points = Math.max(0, Math.ceil(pointsOf(requestContext)));
          const charges: Array<{ bucket: BucketName; key: string; points: number }> = [{ bucket: 'operations', key: keyOf(requestContext.contextValue), points }];
          const claims = slotClaimsOf(requestContext);
          if (claims > 0) charges.push({ bucket: 'bookings', key: accountKey(requestContext.contextValue.viewer) ?? keyOf(requestContext.contextValue), points: claims });
          verdict = await limits.consume(charges);
          if (!verdict.allowed) throw rateLimitedError(verdict);
        },
        async willSendResponse(requestContext) {
          verdict ??= await limits.consumeOne('operations', keyOf(requestContext.contextValue));
          const body = requestContext.response.body;
          if (body.kind !== 'single') return;
          const operations = verdict.bucket === 'operations' ? verdict.budget : verdict.others.operations;
          const bookings = verdict.bucket === 'bookings' ? verdict.budget : verdict.others.bookings;
          const rateLimit = bookings ? { ...operations, bookings } : operations;
          body.singleResult.extensions = { ...body.singleResult.extensions, rateLimit };
        },
      };
    },
  };
}
