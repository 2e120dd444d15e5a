import { sql, type Transaction } from 'kysely';
import { allOf, deleteOldestBatch, lateralPages, type Db } from '../db/sql-helpers.js';
import type { Database } from '../db/tables.js';
import type { AuditLogEntryModel } from './audit-log.model.js';

export interface AuditEntry {
  businessId: string | null;
  entity: 'booking' | 'slot' | 'partner' | 'payment' | 'business' | 'service' | 'hold' | 'webhook_endpoint' | 'webhook_delivery' | 'membership' | 'invitation' | 'customer' | 'review' | 'payout' | 'message' | 'guest_verification';
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

/**
 * An erased customer's trail keeps who did what and when, not what the rows held: the changes of
 * the customer's earlier entries (their name and e-mail, before and after) are replaced by
 * `{"redacted": true}`. Through audit_logs_entity_created_idx.
 */
export async function redactCustomerAuditChanges(trx: Transaction<Database>, businessId: string, customerId: string): Promise<void> {
  await sql`/* redactCustomerAuditChanges */
    UPDATE audit_logs SET changes = '{"redacted": true}'::jsonb
    WHERE business_id = ${businessId}::bigint AND entity = 'customer' AND entity_id = ${customerId}::bigint AND changes <> '{"redacted": true}'::jsonb`.execute(trx);
}

// Reads: Business.auditLog.

export interface AuditLogPageArgs {
  /** Stored spelling (`webhook_endpoint`), or null for every kind. */
  entity: string | null;
  entityId: string | null;
  actor: string | null;
  from: string | null;
  to: string | null;
  /** The (createdAt, id) of the last entry seen; pages go newest first. */
  after: [string, string] | null;
  limit: number;
}

/**
 * One page of each business's trail, newest first. Through audit_logs_entity_created_idx with an
 * entity id, audit_logs_actor_created_idx with an actor, audit_logs_business_created_idx otherwise.
 */
export function findAuditLogPagesByBusinessIds(db: Db, businessIds: readonly string[], args: AuditLogPageArgs) {
  return lateralPages<AuditLogEntryModel>(db, 'findAuditLogPagesByBusinessIds', businessIds, sql`
    SELECT p.parent_id AS "parentId", a.id, a.business_id AS "businessId", a.entity, a.entity_id AS "entityId", a.action, a.actor,
      a.changes, a.created_at AS "occurredAt"
    FROM audit_logs a
    WHERE ${allOf([
      sql`a.business_id = p.parent_id`,
      args.entity !== null && sql`a.entity = ${args.entity}`,
      args.entityId !== null && sql`a.entity_id = ${args.entityId}::bigint`,
      args.actor !== null && sql`a.actor = ${args.actor}`,
      args.from !== null && sql`a.created_at >= ${args.from}::timestamptz`,
      args.to !== null && sql`a.created_at < ${args.to}::timestamptz`,
      args.after && sql`(a.created_at, a.id) < (${args.after[0]}::timestamptz, ${args.after[1]}::bigint)`,
    ])}
    ORDER BY a.created_at DESC, a.id DESC LIMIT ${args.limit}`);
}
