import { randomUUID } from 'node:crypto';
import { startApp } from '../../src/app.js';
import { signDevelopmentToken, type TokenClaims } from '../../src/auth/tokens.js';
import { createCache, DEFAULT_CACHE_CONFIG, type CacheConfig } from '../../src/cache/create-cache.js';
import type { ReadThroughCache, ReadThroughCacheOptions } from '../../src/cache/keyed-cache.js';
import { TEST_JWT_SECRET, type GraphQLResponse } from '../support/api.js';
import { openTestDatabase } from '../support/database.js';
import { DEFAULT_TEST_REDIS_URL } from '../support/prerequisites.js';

/** The Redis every test run shares; each cache gets a key prefix of its own, so runs never collide. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL || DEFAULT_TEST_REDIS_URL;

export function uniqueKeyPrefix(): string {
  return `test:${randomUUID()}:`;
}

/** A cache for a test: in-process, or over a Redis with a unique prefix. */
export function testCache(backend: 'memory' | 'redis', options: Omit<ReadThroughCacheOptions, 'ttlMs'> & Partial<CacheConfig> = {}): Promise<ReadThroughCache> {
  const { redisUrl, keyPrefix, ttlSeconds, commandTimeoutMs, ...hooks } = options;
  return createCache(
    {
      ...DEFAULT_CACHE_CONFIG,
      redisUrl: backend === 'redis' ? (redisUrl ?? TEST_REDIS_URL) : undefined,
      keyPrefix: keyPrefix ?? uniqueKeyPrefix(),
      ...(ttlSeconds ? { ttlSeconds } : {}),
      ...(commandTimeoutMs ? { commandTimeoutMs } : {}),
    },
    hooks,
  );
}

export type AvailabilityApi = Awaited<ReturnType<typeof startAvailabilityApi>>;

/** The API over real HTTP with the given cache (startTestApi with a cache of the test's choosing). */
export async function startAvailabilityApi(cache: ReadThroughCache) {
  const database = await openTestDatabase();
  const app = await startApp(
    { host: '127.0.0.1', port: 0, auth: { jwtSecret: TEST_JWT_SECRET, jwksUrl: undefined, issuer: undefined, audience: undefined }, slowQueryMs: 60_000 },
    database,
    { log: { info() {}, error() {} }, cache },
  );
  const origin = app.url.replace(/\/graphql$/, '');
  return {
    app,
    db: database.db,
    cache,
    async gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResponse<T>> {
      const res = await fetch(app.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return { ...((await res.json()) as GraphQLResponse<T>), status: res.status };
    },
    async metricsText(): Promise<string> {
      return (await fetch(`${origin}/metrics`)).text();
    },
    async countStatements<T>(work: () => Promise<T>): Promise<{ result: T; statements: number }> {
      const before = database.statementCount();
      const result = await work();
      return { result, statements: database.statementCount() - before };
    },
    token: (claims: TokenClaims) => signDevelopmentToken(TEST_JWT_SECRET, claims),
    async close() {
      await app.stop();
      await database.close();
    },
  };
}

export const AVAILABLE_SLOTS = `query($businessId: ID!, $serviceId: ID!, $date: Date!, $partnerId: ID) {
  availableSlots(businessId: $businessId, serviceId: $serviceId, date: $date, partnerId: $partnerId) { startsAt endsAt partners { id } }
}`;

export const AVAILABLE_PARTNERS = `query($city: String!, $date: Date!, $businessId: ID) {
  availablePartners(city: $city, date: $date, businessId: $businessId) { id name }
}`;

/** The start times of an availableSlots answer. */
export function startTimes(res: GraphQLResponse): string[] {
  if (res.errors) throw new Error(`Expected no errors, got ${JSON.stringify(res.errors)}`);
  return res.data.availableSlots.map((s: { startsAt: string }) => s.startsAt);
}
