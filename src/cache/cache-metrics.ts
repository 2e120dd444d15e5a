import type { AppMetrics } from '../server/metrics.js';

/**
 * Counters of a cache, for operators: `GET /metrics` serves them in the Prometheus text format.
 * Per-family counters say which read is hot or cold; the others describe the store.
 */
export type FamilyCounter = 'hits' | 'misses' | 'joins' | 'computations';
export type StoreCounter = 'invalidations' | 'storeErrors';

const FAMILY_HELP: Record<FamilyCounter, [name: string, help: string]> = {
  hits: ['cache_hits_total', 'Reads answered from the cache.'],
  misses: ['cache_misses_total', 'Reads the cache could not answer (including those that joined a computation in flight).'],
  joins: ['cache_singleflight_joins_total', 'Misses that waited for an identical computation already running instead of starting one.'],
  computations: ['cache_computations_total', 'Values computed from the database.'],
};
const STORE_HELP: Record<StoreCounter, [name: string, help: string]> = {
  invalidations: ['cache_invalidations_total', 'Scope generations bumped (one per business or city a committed change touched).'],
  storeErrors: ['cache_store_errors_total', 'Cache store commands that failed or timed out; the reads were answered from the database.'],
};

export class CacheMetrics {
  private readonly families = new Map<string, Record<FamilyCounter, number>>();
  private readonly store: Record<StoreCounter, number> = { invalidations: 0, storeErrors: 0 };

  constructor(
    readonly backend: string,
    private readonly isUp: () => boolean,
  ) {}

  count(counter: FamilyCounter, family: string): void {
    let counters = this.families.get(family);
    if (!counters) {
      counters = { hits: 0, misses: 0, joins: 0, computations: 0 };
      this.families.set(family, counters);
    }
    counters[counter]++;
  }

  add(counter: StoreCounter, amount: number): void {
    this.store[counter] += amount;
  }

  /** A copy of every counter, for tests and for the exposition below. */
  snapshot(): { families: Record<string, Record<FamilyCounter, number>> } & Record<StoreCounter, number> {
    const families: Record<string, Record<FamilyCounter, number>> = {};
    for (const [family, counters] of this.families) families[family] = { ...counters };
    return { families, ...this.store };
  }

  /** Serves these counters at GET /metrics (names unchanged since the hand-built exposition), with each family's hit ratio. */
  register(metrics: AppMetrics): void {
    for (const counter of Object.keys(FAMILY_HELP) as FamilyCounter[]) {
      const [name, help] = FAMILY_HELP[counter];
      metrics.counterFrom(name, help, ['family'], () => [...this.families].map(([family, counters]) => [{ family }, counters[counter]]));
    }
    for (const counter of Object.keys(STORE_HELP) as StoreCounter[]) {
      const [name, help] = STORE_HELP[counter];
      metrics.counterFrom(name, help, ['backend'], () => [[{ backend: this.backend }, this.store[counter]]]);
    }
    metrics.gaugeFrom('cache_store_up', 'Whether the cache store answers (1) or reads go to the database (0).', ['backend'], () => [[{ backend: this.backend }, this.isUp() ? 1 : 0]]);
    metrics.gaugeFrom('cache_hit_ratio', 'Hits over reads (hits + misses) since start, per family.', ['family'], () =>
      [...this.families].filter(([, c]) => c.hits + c.misses > 0).map(([family, c]) => [{ family }, c.hits / (c.hits + c.misses)]),
    );
  }
}
