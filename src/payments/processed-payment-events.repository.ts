import { sql } from 'kysely';
import { deleteOldestBatch, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';

/**
 * Records a provider's event as processed, in the transaction that applies it. `false` when it
 * was already there: the event was applied before (or is being applied by a concurrent delivery,
 * whose row lock this insert waits on until that transaction commits or rolls back).
 */
export async function recordProcessedEvent(trx: Trx, event: { provider: string; eventId: string; type: string }): Promise<boolean> {
  const result = await sql`/* recordProcessedEvent */
    INSERT INTO processed_payment_events (provider, event_id, event_type) VALUES (${event.provider}, ${event.eventId}, ${event.type})
    ON CONFLICT (provider, event_id) DO NOTHING RETURNING 1 AS inserted`.execute(trx);
  return result.rows.length === 1;
}

/**
 * Deletes up to `limit` processed events received before `before`, oldest first (the retention
 * job's batch); how many it deleted.
 */
export function pruneProcessedEvents(db: Db, before: Date, limit: number): Promise<number> {
  return deleteOldestBatch(db, 'pruneProcessedEvents', { table: 'processed_payment_events', key: 'ctid', age: 'received_at', before, limit });
}
