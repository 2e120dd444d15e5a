import type { GenerationStore } from './keyed-cache.js';

/** How many entries the in-process store keeps; the oldest go first. Bounds memory, not correctness. */
const DEFAULT_MAX_ENTRIES = 10_000;

/**
 * The store for one process without Redis (embedded mode, tests): the same keys, generations and
 * TTLs as the Redis store, in two Maps. Values are kept as JSON text, as in Redis, so a caller can
 * never change a cached value by mutating what it got.
 */
export class MemoryGenerationStore implements GenerationStore {
  readonly backend = 'memory' as const;
  private readonly generations = new Map<string, number>();
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();

  constructor(private readonly maxEntries = DEFAULT_MAX_ENTRIES) {}

  async read(scope: string, key: string) {
    const generation = String(this.generations.get(scope) ?? 0);
    const entryKey = `${scope}:${key}:g${generation}`;
    const entry = this.entries.get(entryKey);
    if (entry && entry.expiresAt <= Date.now()) this.entries.delete(entryKey);
    return { generation, value: entry && entry.expiresAt > Date.now() ? entry.value : null };
  }

  async write(scope: string, key: string, generation: string, value: string, ttlMs: number) {
    const entryKey = `${scope}:${key}:g${generation}`;
    this.entries.delete(entryKey);
    this.entries.set(entryKey, { value, expiresAt: Date.now() + ttlMs });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
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
