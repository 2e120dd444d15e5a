import { GraphQLError } from 'graphql';
import { accessKeyOf } from '../auth/access.js';
import { actorOf, type Viewer } from '../auth/viewer.js';
import type { Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';
import type { RequestContext } from '../server/context.js';
import { ChangeFeed, type Change } from '../shared/change-feed.js';
import { ErrorCode } from '../shared/errors.js';
import { ok, userError, type ActionResult } from '../shared/user-errors.js';
import type { UserError } from '../__generated__/resolvers-types.js';
import { chooseIdempotencyKey, hashInput } from './idempotency-key.js';
import {
  claimIdempotencyKey,
  findIdempotencyKey,
  saveIdempotencyOutcome,
  setLockTimeout,
  type KeyRef,
  type StoredOutcome,
} from './idempotency-keys.repository.js';

/**
 * Idempotent mutations: a retry with the same key and input returns the first outcome without doing
 * the work again; the same key with another input is refused (IDEMPOTENCY_KEY_REUSED); keys expire
 * after 24 hours.
 *
 * How: one transaction inserts the key, runs the action inside it (the action's own transaction
 * becomes a savepoint, see src/shared/mutation.ts) and stores the outcome before committing. So
 * - the work and the record of it commit together or not at all: a request that fails unexpectedly
 *   (or a process that dies) leaves no key behind, and its retry runs the work afresh;
 * - a concurrent retry's insert of the same key waits (PostgreSQL) until the first commits, then
 *   finds its outcome; on PGlite, one session, the transactions simply run one after the other. No
 *   design that holds one transaction open while running the action's own could work there.
 * - a retry waits at most KEY_WAIT_MS for the first request, then gets IDEMPOTENCY_KEY_IN_USE
 *   (the first one is slow) and may retry later;
 * - what must not hold a transaction open (a payment provider's call over the network) runs before
 *   this transaction, on every try: it carries a key of its own derived from the same idempotency
 *   key, so the provider answers a retry as it answered the first (see src/shared/mutation.ts).
 *
 * Keys are scoped by the caller (token role and subject, within its access: see callerOf) and the
 * mutation's name. Anonymous callers get no idempotency: every mutation refuses them anyway.
 */

/** What the work gets instead of the application's database and change feed. */
export interface UnitOfWork {
  /** The transaction that also records the outcome: pass it to the action as its database. */
  db: Db;
  /** Collects the action's announcements; they are published once the transaction has committed. */
  changes: ChangeFeed;
}

/** How a successful result is kept for retries and brought back: usually its raw id and a loader. */
export interface ResultMemory<T> {
  /** What to store (JSON) to give the same result back on a retry. */
  save(value: T): unknown;
  /** The result again from what `save` stored, or null if it no longer exists (or is hidden). */
  restore(saved: unknown): Promise<T | null>;
}

export const KEY_TTL_HOURS = 24;
/** How long a retry waits for a concurrent request with the same key before IDEMPOTENCY_KEY_IN_USE. */
export const KEY_WAIT_MS = 10_000;
const LOCK_NOT_AVAILABLE = '55P03';

/** Holds a committed action's announcements until the transaction around the action commits too. */
class ChangesAfterCommit extends ChangeFeed {
  readonly pending: Change[] = [];
  override async publish(change: Change): Promise<void> {
    this.pending.push(change);
  }
}

/** The key of one mutation run, scoped to its caller and operation; null when the run is not idempotent. */
export interface IdempotentRef {
  ref: KeyRef;
  requestHash: string;
}

/**
 * The key for this mutation: the `Idempotency-Key` header or `input.idempotencyKey` (refused when
 * both are sent and differ), or null without one or for an anonymous caller.
 */
export function idempotencyKeyFor(context: Pick<RequestContext, 'idempotencyKey'>, input: object): string | null {
  return chooseIdempotencyKey(context.idempotencyKey, (input as { idempotencyKey?: string | null }).idempotencyKey);
}

export function idempotentRefOf(context: Pick<RequestContext, 'viewer'>, operation: string, input: object, key: string | null): IdempotentRef | null {
  if (key === null || context.viewer.role === 'ANONYMOUS') return null;
  return { ref: { caller: callerOf(context.viewer), operation, key }, requestHash: hashInput(input) };
}

/**
 * Runs `work` at most once for the key: in one transaction that claims the key, runs the work and
 * stores its outcome. `ran` is false for a replay of an earlier outcome (nothing was done now).
 */
export async function runOncePerKey<T>(
  db: Db,
  { ref, requestHash }: IdempotentRef,
  work: (trx: Trx) => Promise<ActionResult<T>>,
  memory: ResultMemory<T>,
  options: { waitMs?: number } = {},
): Promise<{ result: ActionResult<T>; ran: boolean }> {
  const done = await db.transaction().execute(async (trx): Promise<{ result: ActionResult<T> } | { replay: StoredOutcome }> => {
    if (!(await claim(trx, ref, requestHash, options.waitMs ?? KEY_WAIT_MS))) {
      const existing = await findIdempotencyKey(trx, ref);
      if (!existing?.outcome) throw inUse(ref.key, ref.operation);
      if (existing.requestHash !== requestHash) {
        throw new GraphQLError(
          `Expected the same input as the first \`${ref.operation}\` with idempotency key "${ref.key}", got a different one; nothing was done. Use a new key for a new request.`,
          { extensions: { code: ErrorCode.IdempotencyKeyReused } },
        );
      }
      return { replay: existing.outcome };
    }
    const result = await work(trx);
    const outcome: StoredOutcome = result.ok ? { ok: true, saved: memory.save(result.value) } : { ok: false, errors: result.errors };
    await saveIdempotencyOutcome(trx, ref, outcome);
    return { result };
  });
  if ('result' in done) return { result: done.result, ran: true };
  return { result: await replay(done.replay, memory), ran: false };
}

/**
 * Runs a unit of work at most once per idempotency key. `run` must do all of its writes through
 * the unit of work it is given. Without a key (or for an anonymous caller), `run` simply runs.
 * Mutations use src/shared/mutation.ts, which builds on runOncePerKey; this form is for work that
 * manages its own transaction through the unit's database.
 */
export async function withIdempotency<T>(
  context: RequestContext,
  operation: string,
  /** The mutation's input; its `idempotencyKey`, if the input type has one, is the key too. */
  input: object,
  run: (unit: UnitOfWork) => Promise<ActionResult<T>>,
  memory: ResultMemory<T>,
  options: { waitMs?: number } = {},
): Promise<ActionResult<T>> {
  const { app } = context;
  const idempotent = idempotentRefOf(context, operation, input, idempotencyKeyFor(context, input));
  if (idempotent === null) return run({ db: app.db, changes: app.changes });
  const changes = new ChangesAfterCommit();
  const { result, ran } = await runOncePerKey(app.db, idempotent, (trx) => run({ db: trx, changes }), memory, options);
  if (ran) for (const change of changes.pending) await app.changes.publish(change);
  return result;
}

/**
 * Whose keys these are: the subject together with what it may reach (role, business, partner,
 * customer). A subject is unique only within one identity provider, and tenants may sign in through
 * different ones: keyed by `staff:<sub>` alone, a staff member of one business replayed another
 * business's outcome (its slot, its deleted endpoint's ID) or was refused for a key it never used.
 */
function callerOf(viewer: Viewer): string {
  // An account's keys are its own across its memberships (an account id is unique across issuers).
  if (viewer.accountId) return actorOf(viewer);
  return `${actorOf(viewer)}@${accessKeyOf(viewer)}`;
}

/** Claims the key, waiting at most `waitMs` for a concurrent request that holds it. */
async function claim(trx: Parameters<typeof claimIdempotencyKey>[0], ref: KeyRef, requestHash: string, waitMs: number): Promise<boolean> {
  await setLockTimeout(trx, waitMs);
  try {
    return await claimIdempotencyKey(trx, ref, requestHash, KEY_TTL_HOURS);
  } catch (error) {
    if ((error as { code?: string }).code === LOCK_NOT_AVAILABLE) throw inUse(ref.key, ref.operation);
    throw error;
  } finally {
    // The action's own lock waits keep the server's limit. (After a timeout the transaction is
    // aborted and this fails too; the rollback that follows is all that matters then.)
    await setLockTimeout(trx, null).catch(() => undefined);
  }
}

function inUse(key: string, operation: string): GraphQLError {
  return new GraphQLError(
    `Another \`${operation}\` with idempotency key "${key}" is still running; retry in a moment to get its result.`,
    { extensions: { code: ErrorCode.IdempotencyKeyInUse } },
  );
}

async function replay<T>(outcome: StoredOutcome, memory: ResultMemory<T>): Promise<ActionResult<T>> {
  if (!outcome.ok) return { ok: false, errors: outcome.errors as UserError[] };
  const value = await memory.restore(outcome.saved);
  if (value === null) return userError('NOT_FOUND', 'The first request with this idempotency key succeeded, but its result no longer exists.');
  return ok(value);
}

/** Remembers a result by its raw id and brings it back through a loader. */
export function rememberById<T extends { id: string }>(load: (id: string) => Promise<T | null>): ResultMemory<T> {
  return { save: (value) => value.id, restore: (saved) => load(String(saved)) };
}
