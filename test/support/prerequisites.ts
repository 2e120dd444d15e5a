import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';

/** Where the cache tests find the Redis every run shares (each test keys under a prefix of its own). */
export const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/** How long the Redis check waits for PONG: long enough for a loaded machine, far below a test timeout. */
const REDIS_PING_TIMEOUT_MS = 2_000;

/**
 * What the suite needs from the machine that no test can provide for itself, checked once before
 * any test file runs (global-setup.ts): without it a run used to end in 30-60 s timeouts among
 * floods of connection errors. Returns one sentence per missing thing; none when all is there.
 */
export async function findMissingPrerequisites(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const missing: string[] = [];
  const redisUrl = env.TEST_REDIS_URL || DEFAULT_TEST_REDIS_URL;
  const redisProblem = await pingRedis(redisUrl);
  if (redisProblem) {
    missing.push(
      `Expected a Redis at ${redisUrl} (TEST_REDIS_URL) for the cache tests, got ${redisProblem}: ` +
        `start one (redis-server --save "" --appendonly no) or point TEST_REDIS_URL at one.`,
    );
  }
  // The fault tests start Redis servers of their own, on free ports.
  const version = spawnSync('redis-server', ['--version'], { encoding: 'utf8', timeout: REDIS_PING_TIMEOUT_MS });
  if (version.error || version.status !== 0) {
    missing.push(`Expected redis-server on the PATH for the Redis fault tests, got ${version.error?.message ?? `exit code ${version.status}`}: install Redis (apt-get install redis-server).`);
  }
  return missing;
}

/** Null when the Redis at the URL answers PING in time, else what happened instead. One attempt, no retries. */
async function pingRedis(url: string): Promise<string | null> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: REDIS_PING_TIMEOUT_MS,
    commandTimeout: REDIS_PING_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => (lastError = error));
  try {
    await redis.connect();
    const pong = await redis.ping();
    return pong === 'PONG' ? null : `"${pong}" to PING`;
  } catch (error) {
    return `no answer (${(lastError ?? (error as Error)).message})`;
  } finally {
    redis.disconnect();
  }
}
