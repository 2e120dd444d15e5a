import type { ApolloServerPlugin, GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import { Kind, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import type { RequestContext } from './context.js';
import { handOffOf } from './hand-off.js';
import { accountKey, operationKey, rateLimitedError, type BucketName, type Budget, type RateLimits, type Verdict } from './rate-limits.js';

/** What the rate limiter reads of an operation Apollo (or the hot path, hot-path.ts) has resolved. */
export type ChargedOperation = Pick<GraphQLRequestContextDidResolveOperation<RequestContext>, 'contextValue' | 'operation' | 'operationName' | 'document' | 'source' | 'request'>;

/** The points an operation costs in the `operations` bucket; the lead wires the query-cost estimator here. */
export type PointsOf = (requestContext: ChargedOperation) => number;

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

export function slotClaimsOf(requestContext: ChargedOperation): number {
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

/** Charges resolved operations to their buckets, and words what is left for `extensions.rateLimit`. */
export interface RateLimitCharger {
  charge(operation: ChargedOperation): Promise<Verdict>;
  /** `{ limit, remaining, resetSeconds }` of the operations bucket, with `bookings` when that was charged too. */
  extensionOf(verdict: Verdict): Partial<Budget> & { bookings?: Budget };
  /** The Apollo plugin: charges in `didResolveOperation`, adds `extensions.rateLimit` in `willSendResponse`. */
  plugin(): ApolloServerPlugin<RequestContext>;
}

/**
 * Charges every GraphQL operation over HTTP to its buckets once it is parsed and validated, before
 * anything executes: a refusal is a top-level RATE_LIMITED error with HTTP 429 and Retry-After, and
 * no resolver (so no SQL) runs. Slot-claiming mutations are charged to `bookings` as well, in the
 * same round trip. A request that fails to parse or validate is charged 1 point when its answer is
 * sent (it cost us the parse). Every answer carries what is left in `extensions.rateLimit`:
 * `{ limit, remaining, resetSeconds }`, plus `bookings` with the same fields for slot-claiming
 * mutations. A request the hot path charged and then handed over (hot-path.ts) is not charged again.
 */
export function rateLimitCharger(limits: RateLimits, options: { pointsOf?: PointsOf } = {}): RateLimitCharger {
  const pointsOf = options.pointsOf ?? (() => 1);
  const keyOf = (context: RequestContext) => operationKey(context.viewer, context.clientIp);
  const charge = (requestContext: ChargedOperation): Promise<Verdict> => {
    const points = Math.max(0, Math.ceil(pointsOf(requestContext)));
    const charges: Array<{ bucket: BucketName; key: string; points: number }> = [{ bucket: 'operations', key: keyOf(requestContext.contextValue), points }];
    const claims = slotClaimsOf(requestContext);
    if (claims > 0) charges.push({ bucket: 'bookings', key: accountKey(requestContext.contextValue.viewer) ?? keyOf(requestContext.contextValue), points: claims });
    return limits.consume(charges);
  };
  const extensionOf = (verdict: Verdict): Partial<Budget> & { bookings?: Budget } => {
    const operations = verdict.bucket === 'operations' ? verdict.budget : verdict.others.operations;
    const bookings = verdict.bucket === 'bookings' ? verdict.budget : verdict.others.bookings;
    return bookings ? { ...operations, bookings } : operations!;
  };
  return {
    charge,
    extensionOf,
    plugin: () => ({
      async requestDidStart() {
        let verdict: Verdict | undefined;
        return {
          async didResolveOperation(requestContext) {
            verdict = handOffOf(requestContext.contextValue)?.verdict ?? (await charge(requestContext));
            if (!verdict.allowed) throw rateLimitedError(verdict);
          },
          async willSendResponse(requestContext) {
            verdict ??= await limits.consumeOne('operations', keyOf(requestContext.contextValue));
            const body = requestContext.response.body;
            if (body.kind !== 'single') return;
            body.singleResult.extensions = { ...body.singleResult.extensions, rateLimit: extensionOf(verdict) };
          },
        };
      },
    }),
  };
}

