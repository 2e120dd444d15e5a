import { startApp, type App } from '../../src/app.js';
import { signDevelopmentToken, type TokenClaims } from '../../src/auth/tokens.js';
import { DEFAULT_CACHE_CONFIG, type CacheConfig } from '../../src/cache/create-cache.js';
import { DEFAULT_RATE_LIMIT_CONFIG, type RateLimitConfig } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/connect.js';
import type { PointsOf } from '../../src/server/rate-limit-plugin.js';
import { TEST_JWT_SECRET } from '../support/api.js';
import { openTestDatabase } from '../support/database.js';

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

export type LimitedApi = Awaited<ReturnType<typeof startLimitedApi>>;

/**
 * The API with rate limits of the test's choosing (small, so a test spends a budget in a handful of
 * requests instead of waiting for a window), answers with their headers, and the log kept.
 */
export async function startLimitedApi(options: { rateLimits: Partial<RateLimitConfig>; cache?: Partial<CacheConfig>; database?: DatabaseHandle; pointsOf?: PointsOf }) {
  const ownDatabase = !options.database;
  const database = options.database ?? (await openTestDatabase());
  const logged: Array<{ level: 'info' | 'error'; message: string; context?: Record<string, unknown> }> = [];
  const app: App = await startApp(
    {
      host: '127.0.0.1',
      port: 0,
      auth: { jwtSecret: TEST_JWT_SECRET, jwksUrl: undefined, issuer: undefined, audience: undefined },
      slowQueryMs: 60_000,
      rateLimits: { ...DEFAULT_RATE_LIMIT_CONFIG, ...options.rateLimits },
      cache: { ...DEFAULT_CACHE_CONFIG, ...options.cache },
    },
    database,
    {
      log: { info: (message, context) => void logged.push({ level: 'info', message, context }), error: (message, context) => void logged.push({ level: 'error', message, context }) },
      pointsOf: options.pointsOf,
    },
  );
  // A request sent before the Redis connection is up is counted by the in-process fallback alone,
  // and the budgets the tests assert would start off by one.
  await app.rateLimits.whenReady();
  const origin = app.url.replace(/\/graphql$/, '');
  return {
    app,
    db: database.db,
    database,
    origin,
    logged,
    async gql(query: string, variables?: Record<string, unknown>, options: { token?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
      const res = await fetch(app.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, headers: res.headers, body: await res.json() };
    },
    async countStatements<T>(work: () => Promise<T>): Promise<{ result: T; statements: number }> {
      const before = database.statementCount();
      const result = await work();
      return { result, statements: database.statementCount() - before };
    },
    token: (claims: TokenClaims) => signDevelopmentToken(TEST_JWT_SECRET, claims),
    async metricsText(): Promise<string> {
      return (await fetch(`${origin}/metrics`)).text();
    },
    async close() {
      await app.stop();
      if (ownDatabase) await database.close();
    },
  };
}
