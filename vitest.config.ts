import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships a CommonJS and an ESM build; Node resolves `graphql` to the CommonJS one for
    // every package, vite would pick the ESM one for our sources: two realms, and schema objects
    // from one are refused by the other. Use the one Node uses.
    alias: { graphql: require.resolve('graphql') },
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // PGlite starts in about a second per file; storms on real PostgreSQL take a few seconds.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
