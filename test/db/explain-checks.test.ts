import { describe, expect, it } from 'vitest';
import { measurePlan } from '../../scripts/db-explain.js';

// A plan node as EXPLAIN (ANALYZE, FORMAT JSON) gives it, with only the fields the checks read.
const node = (type: string, extra: Record<string, unknown> = {}, plans: unknown[] = []) =>
  ({ 'Node Type': type, 'Actual Rows': 1, 'Actual Loops': 1, ...extra, Plans: plans }) as never;
const sizes = new Map([['partner_slots', 1_200_000], ['businesses', 500]]);
const entry = { name: 'a statement', fn: 'findSomething', run: async () => undefined };

describe('db:explain checks', () => {
  it('fails a sequential scan of a large table, and not of a small one', () => {
    const big = measurePlan(node('Seq Scan', { 'Relation Name': 'partner_slots', 'Actual Rows': 5 }), sizes, entry, 50);
    expect(big.problems).toEqual(['Seq Scan of partner_slots (1200000 rows)']);
    const small = measurePlan(node('Seq Scan', { 'Relation Name': 'businesses', 'Actual Rows': 500 }), sizes, entry, 50);
    expect(small.problems).toEqual([]);
  });

  it('fails a plan that discards more rows per row returned than the bound, counting every loop', () => {
    const scan = node('Index Scan', { 'Index Name': 'partner_slots_available_idx', 'Actual Rows': 0, 'Actual Loops': 150, 'Rows Removed by Filter': 48 });
    const plan = node('Limit', { 'Actual Rows': 5 }, [scan]);
    const m = measurePlan(plan, sizes, entry, 50);
    expect(m).toMatchObject({ returned: 5, discarded: 7200, read: 7200, mainIndex: 'partner_slots_available_idx' });
    expect(m.problems).toEqual(['discards 7200 rows for 5 returned (bound 50 a row)']);
    expect(measurePlan(plan, sizes, entry, 2000).problems).toEqual([]);
  });

  it('fails a plan that does not use the index its entry names', () => {
    const plan = node('Index Scan', { 'Index Name': 'booking_events_position_key', 'Actual Rows': 50 });
    expect(measurePlan(plan, sizes, { ...entry, indexes: ['booking_events_replay_idx'] }, 50).problems).toEqual([
      'uses none of booking_events_replay_idx (uses booking_events_position_key)',
    ]);
    expect(measurePlan(plan, sizes, { ...entry, indexes: ['booking_events_position_key'] }, 50).problems).toEqual([]);
  });
});
