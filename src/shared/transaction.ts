import type { Transaction } from 'kysely';
import type { Database } from '../db/tables.js';
import type { Db } from '../db/sql-helpers.js';
import { runAction, type ActionResult } from './user-errors.js';

export type Trx = Transaction<Database>;

/**
 * Runs an action's work in one transaction. `abort(...)` anywhere inside rolls everything back and
 * becomes the action's user errors; any other error rolls back and propagates (masked for clients).
 */
export function inTransaction<T>(db: Db, work: (trx: Trx) => Promise<T>): Promise<ActionResult<T>> {
  return runAction(() => db.transaction().execute(work));
}
