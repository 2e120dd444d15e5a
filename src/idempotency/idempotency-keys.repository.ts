import { sql } from 'kysely';
import { deleteOldestBatch, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';

/** One key of one caller for one mutation. */
export interface KeyRef {
  caller: string;
  operation: string;
  key: string;
}

/** What a finished request left for its retries; see the idempotency_keys migration. */
export type StoredOutcome = { ok: true; saved: unknown } | { ok: false; errors: unknown[] };

/**
 * Inserts the key for this request, or takes over an expired one. True when this request is the one
 * to run the work. On PostgreSQL a concurrent request that inserted the same key first makes this
 * statement wait until that request's transaction ends (then it returns false): that wait is what
 * runs the work once for concurrent retries.
 */
export async function claimIdempotencyKey(trx: Trx, ref: KeyRef, requestHash: string, ttlHours: number): Promise<boolean> {
  const result = await sql<{ key: string }>`/* claimIdempotencyKey */
    INSERT INTO idempotency_keys AS ik (caller, operation, key, request_hash, outcome, expires_at)
    VALUES (${ref.caller}, ${ref.operation}, ${ref.key}, ${requestHash}, NULL, now() + make_interval(hours => ${ttlHours}))
    ON CONFLICT (caller, operation, key) DO UPDATE
      SET request_hash = EXCLUDED.request_hash, outcome = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
      WHERE ik.expires_at <= now()
    RETURNING ik.key`.execute(trx);
  return result.rows.length === 1;
}

export async function findIdempotencyKey(trx: Trx, ref: KeyRef): Promise<{ requestHash: string; outcome: StoredOutcome | null } | undefined> {
  const result = await sql<{ requestHash: string; outcome: StoredOutcome | null }>`/* findIdempotencyKey */
    SELECT request_hash AS "requestHash", outcome FROM idempotency_keys
    WHERE caller = ${ref.caller} AND operation = ${ref.operation} AND key = ${ref.key}`.execute(trx);
  return result.rows[0];
}

export async function saveIdempotencyOutcome(trx: Trx, ref: KeyRef, outcome: StoredOutcome): Promise<void> {
  await sql`/* saveIdempotencyOutcome */
    UPDATE idempotency_keys SET outcome = ${JSON.stringify(outcome)}::jsonb
    WHERE caller = ${ref.caller} AND operation = ${ref.operation} AND key = ${ref.key}`.execute(trx);
}

/**
 * Caps how long the next statements of the transaction wait for a lock (SQLSTATE 55P03 past it);
 * `null` goes back to the server's default.
 */
export async function setLockTimeout(trx: Trx, millis: number | null): Promise<void> {
  if (millis === null) {
    await sql`/* setLockTimeout */ SET LOCAL lock_timeout TO DEFAULT`.execute(trx);
  } else {
    await sql`/* setLockTimeout */ SELECT set_config('lock_timeout', ${`${millis}ms`}, true)`.execute(trx);
  }
}

/**
 * Deletes up to `limit` keys that expired before `expiredBefore`, soonest expired first (the
 * retention job's batch). SKIP LOCKED: a key that a request is taking over right now is left to it,
 * and two purges never wait on each other.
 */
export function deleteExpiredIdempotencyKeys(db: Db, expiredBefore: Date, limit: number): Promise<number> {
  return deleteOldestBatch(db, 'deleteExpiredIdempotencyKeys', { table: 'idempotency_keys', key: 'ctid', age: 'expires_at', before: expiredBefore, inclusive: true, limit });
}
