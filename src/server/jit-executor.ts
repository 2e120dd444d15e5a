import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { GraphQLError, printSchema, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { withUnavailableStatus } from './database-unavailable.js';

/** Compiled operations kept; a client sending endless distinct documents only resets the cache. */
const COMPILED_CACHE_LIMIT = 2000;

/**
 * Runs operations with graphql-jit instead of graphql-js's interpreter: each distinct document is
 * compiled once into a JavaScript function (cached by its text and operation name). Plugged in
 * through Apollo's gateway interface, the one place Apollo lets the executor be replaced; parsing,
 * validation and the HTTP protocol stay Apollo's. Measured on this kind of machine, it lifts a
 * nested page from 0.24x to 0.39x of a hand-written SQL server (with cache control disabled).
 */
export function jitGateway(schema: GraphQLSchema): GatewayInterface {
  const compiled = new Map<string, CompiledQuery>();

  const executor: GatewayExecutor = async (requestContext) => {
    const key = `${requestContext.operationName ?? ''}\u0000${requestContext.source}`;
    let query = compiled.get(key);
    if (!query) {
      const result = compileQuery(schema, requestContext.document, requestContext.operationName ?? undefined);
      if (!isCompiledQuery(result)) return result as ExecutionResult<Record<string, unknown>>;
      if (compiled.size >= COMPILED_CACHE_LIMIT) compiled.clear();
      compiled.set(key, result);
      query = result;
    }
    const result = await query.query(undefined, requestContext.context, requestContext.request.variables ?? {});
    if (result.errors) return { ...result, errors: withUnavailableStatus(result, result.errors.map(restoreError)) };
    return result;
  };

  return {
    async load() {
      return { schema, executor };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => {};
    },
    async stop() {},
  };
}

/**
 * graphql-jit wraps a resolver's error in a new one without `extensions`. Restore a coded error
 * (UNAUTHENTICATED, BAD_USER_INPUT...) as it was, and give any other one a proper GraphQLError
 * shape, so that Apollo hands both to our error formatter.
 */
function restoreError(error: GraphQLError): GraphQLError {
  const original = error.originalError;
  if (original instanceof GraphQLError && original !== error) {
    return new GraphQLError(original.message, {
      nodes: error.nodes,
      path: error.path,
      originalError: original.originalError ?? undefined,
      extensions: original.extensions,
    });
  }
  // A plain error (a database failure, a bug) arrives wrapped with no `extensions` at all, which
  // makes Apollo answer with its own fallback before our formatter can log and mask it.
  if (!error.extensions) {
    const restored = new GraphQLError(error.message, { path: error.path, originalError: original ?? undefined });
    return Object.assign(restored, { locations: error.locations });
  }
  return error;
}
