import { getIntrospectionQuery, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS_CONFIG } from '../../src/config.js';
import { resolverMaps } from '../../src/resolvers.js';
import { EXAMPLE_OPERATIONS } from '../../src/server/example-operations.js';
import { QueryCostAnalyzer } from '../../src/server/query-cost.js';
import { QueryLimiter, requestedCostOf } from '../../src/server/query-limits.js';
import { buildExecutableSchema } from '../../src/server/schema.js';

const schema = buildExecutableSchema(resolverMaps);
const limiter = new QueryLimiter(new QueryCostAnalyzer(schema, DEFAULT_LIMITS_CONFIG));
const document = parse(EXAMPLE_OPERATIONS);
const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION).map((d) => d.name!.value);

/** The cost README's "Limits" section lists for each example (without variables: every range at its widest). */
const DOCUMENTED_COSTS: Record<string, number> = { Catalog: 103, FreeSlots: 2977, Dashboard: 105, Book: 45, Cancel: 12, Events: 5, Missed: 201 };

describe('Query limits: the sandbox examples stay within them', () => {
  it('has a documented cost for every example operation', () => {
    expect(operations.sort()).toEqual(Object.keys(DOCUMENTED_COSTS).sort());
  });

  it.each(operations)('runs the example %s within every limit, at the cost README lists', (name) => {
    // The sandbox sends the whole document with the operation's name, as GraphiQL does.
    expect(limiter.refuseEarly(EXAMPLE_OPERATIONS, name)).toBeNull();
    const context = {};
    expect(limiter.check(EXAMPLE_OPERATIONS, document, name, {}, context)).toBeNull();
    expect(requestedCostOf(context as never)).toBe(DOCUMENTED_COSTS[name]);
    // Room for an example to grow without touching the limit.
    expect(DOCUMENTED_COSTS[name] * 2).toBeLessThanOrEqual(DEFAULT_LIMITS_CONFIG.maxCost);
  });

  it('prices a slot range from its variables: a week of FreeSlots costs less than the widest range', () => {
    const context = {};
    limiter.check(EXAMPLE_OPERATIONS, document, 'FreeSlots', { from: '2026-12-01T00:00:00Z', to: '2026-12-08T00:00:00Z' }, context);
    // The partner, and a slot every 15 minutes for 7 days.
    expect(requestedCostOf(context as never)).toBe(1 + 7 * 96);
  });

  it('lets the introspection query of the sandbox through', () => {
    const query = getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true });
    expect(limiter.refuseEarly(query, 'IntrospectionQuery')).toBeNull();
    const context = {};
    expect(limiter.check(query, parse(query), 'IntrospectionQuery', {}, context)).toBeNull();
    // Introspection is priced by the schema's size (query-cost.ts, introspectionBounds), scaled so
    // that this query takes at most half the limit however many types the schema gains: before the
    // scaling it had reached 7,173 of 10,000 and grew with every feature.
    expect(requestedCostOf(context as never)).toBeLessThanOrEqual(DEFAULT_LIMITS_CONFIG.maxCost * 0.5);
    expect(requestedCostOf(context as never)).toBeGreaterThan(DEFAULT_LIMITS_CONFIG.maxCost * 0.25);
  });

  it('still multiplies introspection nested past what the sandbox asks, and refuses it', () => {
    const nested = '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }';
    expect(limiter.refuseEarly(nested, null)).toMatchObject({ extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'cost' } });
  });
});
