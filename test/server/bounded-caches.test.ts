import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../src/cache/bounded-map.js';
import { MemoryGenerationStore } from '../../src/cache/memory-generation-store.js';
import { DEFAULT_LIMITS_CONFIG } from '../../src/config.js';
import { resolverMaps } from '../../src/resolvers.js';
import { QueryCostAnalyzer } from '../../src/server/query-cost.js';
import { buildExecutableSchema } from '../../src/server/schema.js';

describe('Caches keyed by client text stay within a weight, not only a count', () => {
  it('evicts the least recently used entry past either bound, and keeps nothing heavier than the whole budget', () => {
    const map = new BoundedMap<string, number>(3, 100);
    map.set('a', 1, 10);
    map.set('b', 2, 10);
    map.set('c', 3, 10);
    expect(map.get('a')).toBe(1); // a is now the most recent: b goes first
    map.set('d', 4, 10);
    expect([map.get('b'), map.get('a'), map.get('c'), map.get('d')]).toEqual([undefined, 1, 3, 4]);
    map.set('e', 5, 85); // 10 + 10 + 10 + 85 > 100: the two least recent go
    expect([map.get('a'), map.get('c'), map.get('d'), map.get('e')]).toEqual([undefined, undefined, 4, 5]);
    expect(map.weight).toBe(95);
    map.set('huge', 6, 101);
    expect(map.get('huge')).toBeUndefined();
    expect([map.size, map.weight]).toEqual([2, 95]);
    map.set('d', 7, 5); // a new value replaces the old weight
    expect([map.get('d'), map.weight]).toEqual([7, 90]);
  });

  it('holds at most its weight of refused documents, however many large distinct ones arrive', () => {
    const budget = 4 * 1024 * 1024;
    const analyzer = new QueryCostAnalyzer(buildExecutableSchema(resolverMaps), DEFAULT_LIMITS_CONFIG, 2000, budget);
    // Each about 360 KB of text: 30,000 aliases, over the alias limit, refused after one walk.
    const aliases = Array.from({ length: 30_000 }, (_, i) => `a${i}: __typename`).join(' ');
    for (let i = 0; i < 24; i++) {
      const analysis = analyzer.analyzeSource(`query Q${i} { ${aliases} }`, null);
      expect(analysis?.exceeded?.limit).toBeDefined();
    }
    const { entries, weight } = analyzer.cached;
    expect(weight).toBeLessThanOrEqual(budget);
    // Before: all 24 kept (a count of 2,000 was the only bound), about 17 MB of text.
    expect(entries).toBeLessThan(4);
    expect(entries).toBeGreaterThan(0);
  });

  it('keeps the in-process cache store within its bytes: the least recently used entries go', async () => {
    const store = new MemoryGenerationStore(10_000, 1024 * 1024);
    const value = 'x'.repeat(100 * 1024); // 200 KB as UTF-16: five fit in a megabyte
    for (let i = 0; i < 8; i++) await store.write('scope', `k${i}`, '0', value, 60_000);
    const kept = [];
    for (let i = 0; i < 8; i++) if ((await store.read('scope', `k${i}`)).value !== null) kept.push(i);
    expect(kept).toEqual([3, 4, 5, 6, 7]);
  });
});
