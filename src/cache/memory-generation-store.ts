import { BoundedMap } from './bounded-map.js';
import type { GenerationStore } from './keyed-cache.js';

/**
 * How many entries the in-process store keeps, and their summed size (UTF-16 characters of the JSON
 * text, 2 bytes each); the least recently used go first. Bounds memory, not correctness: one
 * date's starts of a large marketplace are a hundred kilobytes, and 10,000 of them would be a gigabyte.
 */
const DEFAULT_MAX_ENTRIES = 10_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The store for one process without Redis (embedded mode, tests): the same keys, generations and
 * TTLs as the Redis store, in two Maps. Values are kept as JSON text, as in Redis, so a caller can
 * never change a cached value by mutating what it got.
 */
export class MemoryGenerationStore implements GenerationStore {
  readonly backend = 'memory' as const;
  private readonly generations = new Map<string, number>();
  private readonly entries: BoundedMap<string, { value: string; expiresAt: number }>;

  constructor(maxEntries = DEFAULT_MAX_ENTRIES, maxBytes = DEFAULT_MAX_BYTES) {
    this.entries = new BoundedMap(maxEntries, maxBytes);
  }

  async read(scope: string, key: string) {
    const generation = String(this.generations.get(scope) ?? 0);
    const entryKey = `${scope}:${key}:g${generation}`;
    const entry = this.entries.get(entryKey);
    if (entry && entry.expiresAt <= Date.now()) this.entries.delete(entryKey);
    return { generation, value: entry && entry.expiresAt > Date.now() ? entry.value : null };
  }

  async write(scope: string, key: string, generation: string, value: string, ttlMs: number) {
    const entryKey = `${scope}:${key}:g${generation}`;
    this.entries.set(entryKey, { value, expiresAt: Date.now() + ttlMs }, (entryKey.length + value.length) * 2);
  }

  async bump(scopes: readonly string[]) {
    for (const scope of scopes) this.generations.set(scope, (this.generations.get(scope) ?? 0) + 1);
  }

  isUp() {
    return true;
  }

  async close() {
    this.entries.clear();
  }
}
