import { createRequire } from 'node:module';
import { configDefaults, defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/**
 * Files whose subject the database behind does not change: the HTTP layer, the schema and its
 * limits, the README's examples, the browser tests. CI runs the suite twice, on PGlite and on
 * PostgreSQL; its second pass sets TEST_SKIP_BACKEND_AGNOSTIC=1 and skips these (about a minute).
 * `npm test` alone always runs everything.
 */
const BACKEND_AGNOSTIC = [
  'test/readme-examples.test.ts',
  'test/sandbox.test.ts',
  'test/sandbox-browser.test.ts',
  'test/schema.test.ts',
  'test/http/compression.test.ts',
  'test/http/cors.test.ts',
  'test/http/cors-browser.test.ts',
  'test/server/bounded-caches.test.ts',
  'test/server/client-errors.test.ts',
  'test/server/example-operations-cost.test.ts',
  'test/server/graphql-over-http.test.ts',
  'test/server/query-limits.test.ts',
  'test/server/schema-fuzz.test.ts',
];

export default defineConfig({
  resolve: {
    // graphql 16 ships a CommonJS and an ESM build; Node resolves `graphql` to the CommonJS one for
    // every package, vite would pick the ESM one for our sources: two realms, and schema objects
    // from one are refused by the other. Use the one Node uses.
    alias: { graphql: require.resolve('graphql') },
  },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(process.env.TEST_SKIP_BACKEND_AGNOSTIC === '1' ? BACKEND_AGNOSTIC : [])],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Files share their worker process: each starts its own app, database (or PGlite) and Redis key
    // prefix, and nothing of ours is a module-level singleton, so the module graph is loaded once per
    // worker instead of once per file. Measured on this 2-core machine: the PGlite pass 751 s -> 399 s.
    isolate: false,
    // PGlite starts in about a second per file; storms on real PostgreSQL take a few seconds.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
