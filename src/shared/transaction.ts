import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/tables.js';
import type { Db } from '../db/sql-helpers.js';
import { runAction, type ActionResult } from './user-errors.js';

export type Trx = Transaction<Database>;

/**
 * Runs an action's work in one transaction. `abort(...)` anywhere inside rolls everything back and
 * becomes the action's user errors; any other error rolls back and propagates (masked for clients).
 *
 * Given a transaction (an idempotent mutation runs its action inside the transaction that records
 * the outcome, see src/idempotency/), the work runs in a savepoint of it instead: a refusal undoes
 * the action's writes but not the record of the refusal.
 */
export function inTransaction<T>(db: Db, work: (trx: Trx) => Promise<T>): Promise<ActionResult<T>> {
  if (db.isTransaction) return runAction(() => inSavepoint(db as Trx, work));
  return runAction(() => db.transaction().execute(work));
}

async function inSavepoint<T>(trx: Trx, work: (trx: Trx) => Promise<T>): Promise<T> {
  await sql`SAVEPOINT action`.execute(trx);
  try {
    const value = await work(trx);
    await sql`RELEASE SAVEPOINT action`.execute(trx);
    return value;
  } catch (error) {
    await sql`ROLLBACK TO SAVEPOINT action`.execute(trx);
    throw error;
  }
}
