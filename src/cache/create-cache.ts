import { ReadThroughCache, type ReadThroughCacheOptions } from './keyed-cache.js';
import { MemoryGenerationStore } from './memory-generation-store.js';
import { RedisGenerationStore } from './redis-generation-store.js';

export interface CacheConfig {
  /** Redis URL; unset for an in-process cache (one process only). */
  redisUrl: string | undefined;
  keyPrefix: string;
  ttlSeconds: number;
  /** How long the catalog cache keeps a business, service or partner row at most (CATALOG_CACHE_TTL_SECONDS); 0 turns it off. */
  catalogTtlSeconds: number;
  commandTimeoutMs: number;
}

export const DEFAULT_CACHE_CONFIG: CacheConfig = { redisUrl: undefined, keyPrefix: '', ttlSeconds: 60, catalogTtlSeconds: 300, commandTimeoutMs: 200 };

/** The cache for a configuration: over Redis when a URL is given, in-process otherwise. */
export async function createCache(config: CacheConfig, options: Omit<ReadThroughCacheOptions, 'ttlMs'> = {}): Promise<ReadThroughCache> {
  const store = config.redisUrl
    ? await RedisGenerationStore.connect({ url: config.redisUrl, keyPrefix: config.keyPrefix, commandTimeoutMs: config.commandTimeoutMs })
    : new MemoryGenerationStore();
  return new ReadThroughCache(store, { ...options, ttlMs: config.ttlSeconds * 1000 });
}
