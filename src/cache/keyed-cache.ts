import { boundedKeyPart, MAX_KEY_PART_LENGTH } from './bounded-key.js';
import { CacheMetrics } from './cache-metrics.js';

/**
 * A read-through cache of JSON values, invalidated by generation instead of by deletion.
 *
 * Every key lives in a scope (for example one business) that has a generation number, and the
 * generation is part of the stored key. Invalidating a scope increments its generation: one
 * command per scope, whatever number of keys it held, and no keyspace scan. Entries of older
 * generations are never read again and expire by their TTL.
 *
 * This also closes the set-after-invalidate race that delete-on-write has: a slow reader that
 * read generation g, then computed from the database while a writer committed and bumped the
 * scope to g + 1, stores its (stale) value under g, where no reader after the write looks.
 * A reader reads the generation before it reads the database, so whatever it stores under g was
 * computed from a state at least as new as the bump that made g current.
 *
 * The store is pluggable (Redis, or in-process when there is no Redis); single flight, counters,
 * the fallback when the store fails, and the invalidations owed to a failed store live here, so
 * both stores have the same semantics.
 */
export interface GenerationStore {
  readonly backend: 'redis' | 'memory';
  /** The scope's current generation and the value stored under it for `key`, in one round trip. */
  read(scope: string, key: string): Promise<{ generation: string; value: string | null }>;
  write(scope: string, key: string, generation: string, value: string, ttlMs: number): Promise<void>;
  /** Moves each scope to a generation none of its earlier entries carry. */
  bump(scopes: readonly string[]): Promise<void>;
  /** Whether the store answers at all now (a gauge for operators). */
  isUp(): boolean;
  /** One round trip to the store, for readiness checks (rejects when it does not answer); in-process stores have none. */
  ping?(): Promise<void>;
  close(): Promise<void>;
}

export interface CacheRead<T> {
  /** What is cached, for the counters: for example `available_slots`. */
  family: string;
  /** The scope whose generation guards the entry, for example `availability:{42}`. */
  scope: string;
  /** The entry's key within its scope. */
  key: string;
  compute: () => Promise<T>;
  /** How long to keep this value: undefined for the cache's TTL, 0 or less to not store it. */
  ttlMs?: (value: T) => number | undefined;
  /** The request's own counts (its log line): told whether this read was a hit. */
  tally?: CacheTally;
}

/** Hits and misses of one request's reads (shared/request-telemetry.ts keeps one per HTTP request). */
export interface CacheTally {
  cacheHits: number;
  cacheMisses: number;
}

export interface StoreEvent {
  scope: string;
  key: string;
  generation: string;
}

export interface ReadThroughCacheOptions {
  ttlMs: number;
  /**
   * Runs after a value was computed and before it is stored. Tests use it to hold a slow reader
   * at the worst moment of the set-after-invalidate race.
   */
  beforeStore?: (event: StoreEvent) => Promise<void> | void;
  /** Told once when the store starts failing (and again after it recovered). */
  onStoreError?: (error: unknown) => void;
}

/** A key no entry is stored under: reading it returns the scope's generation alone. */
const GENERATION_ONLY_KEY = '-';

export class ReadThroughCache {
  readonly metrics: CacheMetrics;
  /** Computations in progress, by scope, key and generation: a burst of misses computes once. */
  private readonly flights = new Map<string, Promise<unknown>>();
  /**
   * Scopes whose bump failed (store down). Until they are bumped, no value is read from the store:
   * an entry computed before a write that returned must never be served after it.
   */
  private readonly owedBumps = new Set<string>();
  private failing = false;

  constructor(
    private readonly store: GenerationStore,
    private readonly options: ReadThroughCacheOptions,
  ) {
    this.metrics = new CacheMetrics(store.backend, () => store.isUp());
  }

  get backend(): GenerationStore['backend'] {
    return this.store.backend;
  }

  async get<T>(read: CacheRead<T>): Promise<T> {
    // Whatever a caller builds a key from, no stored key grows with it.
    if (read.key.length > MAX_KEY_PART_LENGTH) read = { ...read, key: boundedKeyPart(read.key) };
    let found: { generation: string; value: string | null };
    try {
      await this.payOwedBumps();
      found = await this.store.read(read.scope, read.key);
      this.recovered();
    } catch (error) {
      // The store is down or slow: answer from the source, without joining or starting a flight
      // (a flight without a generation could have started before a write this caller saw return).
      this.storeFailed(error);
      this.metrics.count('misses', read.family);
      this.metrics.count('computations', read.family);
      if (read.tally) read.tally.cacheMisses++;
      return read.compute();
    }
    if (found.value !== null) {
      this.metrics.count('hits', read.family);
      if (read.tally) read.tally.cacheHits++;
      return JSON.parse(found.value) as T;
    }
    this.metrics.count('misses', read.family);
    if (read.tally) read.tally.cacheMisses++;
    const flightKey = `${read.scope}\u0000${read.key}\u0000${found.generation}`;
    const running = this.flights.get(flightKey);
    if (running) {
      this.metrics.count('joins', read.family);
      return running as Promise<T>;
    }
    const flight = this.computeAndStore(read, found.generation).finally(() => this.flights.delete(flightKey));
    this.flights.set(flightKey, flight);
    return flight;
  }

  /**
   * The scope's current generation, for a cache that keeps its values in this process and asks the
   * store only which generation is current (catalog-cache.ts). Null when the store does not answer
   * or a bump is still owed: then nothing kept under an earlier generation may be served.
   */
  async generationOf(scope: string): Promise<string | null> {
    try {
      await this.payOwedBumps();
      const { generation } = await this.store.read(scope, GENERATION_ONLY_KEY);
      this.recovered();
      return generation;
    } catch (error) {
      this.storeFailed(error);
      return null;
    }
  }

  /** Makes every entry of these scopes unreachable. Never throws: a failed bump is owed and paid before the next read. */
  async invalidate(scopes: readonly string[]): Promise<void> {
    const unique = [...new Set(scopes)];
    if (!unique.length) return;
    this.metrics.add('invalidations', unique.length);
    try {
      await this.payOwedBumps();
      await this.store.bump(unique);
      this.recovered();
    } catch (error) {
      this.storeFailed(error);
      for (const scope of unique) this.owedBumps.add(scope);
    }
  }

  /** Whether the store answers (GET /readyz): a round trip to Redis, nothing for the in-process store. */
  async ping(): Promise<void> {
    await this.store.ping?.();
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private async computeAndStore<T>(read: CacheRead<T>, generation: string): Promise<T> {
    this.metrics.count('computations', read.family);
    const value = await read.compute();
    const ttlMs = read.ttlMs?.(value) ?? this.options.ttlMs;
    if (ttlMs > 0) {
      await this.options.beforeStore?.({ scope: read.scope, key: read.key, generation });
      try {
        await this.store.write(read.scope, read.key, generation, JSON.stringify(value), Math.ceil(ttlMs));
      } catch (error) {
        this.storeFailed(error);
      }
    }
    return value;
  }

  private async payOwedBumps(): Promise<void> {
    if (!this.owedBumps.size) return;
    const owed = [...this.owedBumps];
    await this.store.bump(owed);
    for (const scope of owed) this.owedBumps.delete(scope);
  }

  private storeFailed(error: unknown): void {
    this.metrics.add('storeErrors', 1);
    if (!this.failing) this.options.onStoreError?.(error);
    this.failing = true;
  }

  private recovered(): void {
    this.failing = false;
  }
}
