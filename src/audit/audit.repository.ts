import type { Transaction } from 'kysely';
import { deleteOldestBatch, type Db } from '../db/sql-helpers.js';
import type { Database } from '../db/tables.js';

export interface AuditEntry {
  businessId: string | null;
  entity: 'booking' | 'slot' | 'partner' | 'payment' | 'business' | 'service' | 'hold' | 'webhook_endpoint' | 'webhook_delivery' | 'membership' | 'invitation' | 'customer' | 'message' | 'guest_verification';
  entityId: string;
  action: string;
  actor: string;
  /** What changed: the fields before and after. */
  changes: { before?: Record<string, unknown>; after?: Record<string, unknown> } & Record<string, unknown>;
}

/** Writes audit rows inside the caller's transaction: the trail commits or rolls back with the change. */
export async function insertAuditLogs(trx: Transaction<Database>, entries: AuditEntry[]): Promise<void> {
  if (!entries.length) return;
  await trx
    .insertInto('audit_logs')
    .values(
      entries.map((e) => ({
        business_id: e.businessId,
        entity: e.entity,
        entity_id: e.entityId,
        action: e.action,
        actor: e.actor,
        changes: JSON.stringify(e.changes),
      })),
    )
    .execute();
}

/** Deletes up to `limit` audit rows written before `before`, oldest first (the retention job's batch); how many it deleted. */
export function purgeAuditLogsBefore(db: Db, before: Date, limit: number): Promise<number> {
  return deleteOldestBatch(db, 'purgeAuditLogsBefore', { table: 'audit_logs', key: 'id', age: 'created_at', before, limit });
}
