import type { Transaction } from 'kysely';
import type { Database } from '../db/tables.js';

/**
 * A database transaction. Steps of a mutation get one and never learn whether it is a transaction of
 * their own or a savepoint of a larger one: src/shared/mutation.ts decides.
 */
export type Trx = Transaction<Database>;
