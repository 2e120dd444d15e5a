import { once } from 'node:events';
import { Redis } from 'ioredis';
import type { GenerationStore } from './keyed-cache.js';

/**
 * Reads a scope's generation and the entry stored under it in one round trip. A missing
 * generation (never bumped, or evicted) starts at ARGV[1], a value derived from the clock, never
 * at a small number an evicted generation may have had: that could make an old entry current again.
 * KEYS[2] is the entry's key without its generation suffix; it carries the same hash tag as
 * KEYS[1], so both are in one slot on Redis Cluster.
 */
const READ_SCRIPT = `
local g = redis.call('GET', KEYS[1])
if not g then
  g = ARGV[1]
  redis.call('SET', KEYS[1], g)
end
return {g, redis.call('GET', KEYS[2] .. ':g' .. g)}`;

/** Bumps a generation; a missing one starts from the clock-derived ARGV[1] (see READ_SCRIPT). */
const BUMP_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('INCR', KEYS[1])
end
redis.call('SET', KEYS[1], ARGV[1])
return tonumber(ARGV[1])`;

type ScriptedRedis = Redis & {
  cacheRead(generationKey: string, entryKey: string, initial: string): Promise<[string, string | null]>;
  cacheBump(generationKey: string, initial: string): Promise<number>;
};

export interface RedisStoreOptions {
  url: string;
  /** Prepended to every key: several applications (or test runs) can share one Redis. */
  keyPrefix: string;
  /** A command without a reply by then fails, and the read goes to the database. */
  commandTimeoutMs: number;
}

/**
 * A generation far above any earlier one of the same scope: microseconds since the epoch. A scope
 * would need more than a million bumps a second to catch up with the clock.
 */
function initialGeneration(): string {
  return String(Date.now() * 1000);
}

/**
 * The Redis store. Keys: `{prefix}{scope}:gen` holds a scope's generation (no TTL), and
 * `{prefix}{scope}:{key}:g{generation}` an entry (with a TTL). Scopes carry a hash tag, so a
 * scope's keys share a slot on Redis Cluster. The Redis should not persist (no RDB, no AOF): a
 * restore from a snapshot would bring back entries that later writes had made stale.
 *
 * Failing fast matters more than any single read: no offline queue (a command while disconnected
 * fails at once), a short command timeout, no retries per request; the connection itself is
 * retried in the background, and reads use the cache again as soon as it is back.
 */
export class RedisGenerationStore implements GenerationStore {
  readonly backend = 'redis' as const;
  private readonly redis: ScriptedRedis;

  private constructor(private readonly options: RedisStoreOptions) {
    this.redis = new Redis(options.url, {
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: Math.max(options.commandTimeoutMs * 5, 1000),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(100 * times, 1000),
    }) as ScriptedRedis;
    // Errors reach the callers of the failed commands; without a listener, ioredis would crash the process.
    this.redis.on('error', () => {});
    this.redis.defineCommand('cacheRead', { numberOfKeys: 2, lua: READ_SCRIPT });
    this.redis.defineCommand('cacheBump', { numberOfKeys: 1, lua: BUMP_SCRIPT });
  }

  /** Connects, waiting at most `waitMs` for Redis: the API starts (reading from the database) even when it is down. */
  static async connect(options: RedisStoreOptions, waitMs = 2000): Promise<RedisGenerationStore> {
    const store = new RedisGenerationStore(options);
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(), waitMs);
    try {
      await once(store.redis, 'ready', { signal: timer.signal });
    } catch {
      // Not ready yet: reads go to the database until it is.
    } finally {
      clearTimeout(timeout);
    }
    return store;
  }

  private generationKey(scope: string): string {
    return `${this.options.keyPrefix}${scope}:gen`;
  }

  private entryKey(scope: string, key: string): string {
    return `${this.options.keyPrefix}${scope}:${key}`;
  }

  async read(scope: string, key: string) {
    const [generation, value] = await this.redis.cacheRead(this.generationKey(scope), this.entryKey(scope, key), initialGeneration());
    return { generation: String(generation), value: value ?? null };
  }

  async write(scope: string, key: string, generation: string, value: string, ttlMs: number) {
    await this.redis.set(`${this.entryKey(scope, key)}:g${generation}`, value, 'PX', ttlMs);
  }

  async bump(scopes: readonly string[]) {
    const initial = initialGeneration();
    // One round trip; each script touches one key, so each stays within one slot.
    const pipeline = this.redis.pipeline();
    for (const scope of scopes) (pipeline as unknown as ScriptedRedis).cacheBump(this.generationKey(scope), initial);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed) throw failed[0];
    if (results.length !== scopes.length) throw new Error(`Expected ${scopes.length} replies to the generation bumps, got ${results.length}.`);
  }

  isUp() {
    return this.redis.status === 'ready';
  }

  async ping() {
    await this.redis.ping();
  }

  async close() {
    if (this.redis.status === 'ready') {
      await this.redis.quit().catch(() => this.redis.disconnect());
    } else {
      this.redis.disconnect();
    }
  }
}
