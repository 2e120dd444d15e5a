import { readFileSync } from 'node:fs';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import { DateScalar, DateTime, LocalTime } from './scalars.js';

export const SCHEMA_PATH = new URL('../../schema.graphql', import.meta.url);

/** Merges the domains' resolver maps type by type; two domains defining one field is a bug. */
export function mergeResolvers(maps: Resolvers[]): Resolvers {
  const merged: Record<string, Record<string, unknown>> = {};
  for (const map of maps) {
    for (const [type, fields] of Object.entries(map)) {
      const target = (merged[type] ??= {});
      for (const [field, resolver] of Object.entries(fields as object)) {
        if (field in target) throw new Error(`Resolver ${type}.${field} is defined twice; expected one domain to own it.`);
        target[field] = resolver;
      }
    }
  }
  return merged as Resolvers;
}

export function buildExecutableSchema(resolverMaps: Resolvers[]): GraphQLSchema {
  return makeExecutableSchema({
    typeDefs: readFileSync(SCHEMA_PATH, 'utf8'),
    resolvers: { ...mergeResolvers(resolverMaps), DateTime, Date: DateScalar, LocalTime } as never,
    resolverValidationOptions: { requireResolversToMatchSchema: 'error' },
  });
}
