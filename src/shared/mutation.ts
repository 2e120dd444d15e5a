import { sql } from 'kysely';
import type { UserError } from '../__generated__/resolvers-types.js';
import { insertAuditLogs, type AuditEntry } from '../audit/audit.repository.js';
import { requireSignedIn, tokenKindOf } from '../auth/access.js';
import { actorOf, type Viewer } from '../auth/viewer.js';
import type { Db } from '../db/sql-helpers.js';
import { insertBookingEvents, insertPaymentEvent, type BookingEventDraft } from '../events/booking-events.repository.js';
import { idempotencyKeyFor, idempotentRefOf, runOncePerKey, type ResultMemory } from '../idempotency/idempotent-mutation.js';
import type { PaymentModel } from '../payments/payment.model.js';
import type { AppServices, RequestContext } from '../server/context.js';
import type { Change, ChangeFeed } from './change-feed.js';
import { forbidden } from './errors.js';
import type { Trx } from './transaction.js';
import { runAction, type ActionResult } from './user-errors.js';

/**
 * The one way a mutation is built. A mutation declares
 * - `who`: who may call it, decided from the token (and the input) before any SQL runs;
 * - `outside` (optional): work outside any database transaction: reads, checks, and calls over the
 *   network (a payment provider), which must never hold a transaction and a connection open; what
 *   it returns reaches `inside` as `prepared`;
 * - `inside`: the work inside the transaction, which returns its value with what it changed (the
 *   change-feed announcements), its audit entries and its outbox events, instead of writing them;
 * - `remember` and `payload`: how an idempotent retry gets the result back, and the payload's fields.
 *
 * `runMutation` does the rest, the same for every mutation: the refusal (UNAUTHENTICATED or
 * FORBIDDEN), idempotency (the `Idempotency-Key` header or `input.idempotencyKey`, one key per
 * caller and mutation), the transaction (a savepoint of the idempotency transaction when there is a
 * key: a refusal undoes the work but not the record of the refusal), the audit and outbox rows, the
 * announcements after the commit (never for a refusal or a replay), and `userErrors`.
 *
 * An `abort(...)` anywhere in `outside` or `inside` becomes the payload's user errors, and rolls back
 * everything `inside` wrote. The steps get a database handle and never learn whether it is a
 * transaction of their own or a savepoint of a larger one.
 *
 * The contract lives in shared/ because every domain uses it; it builds on src/idempotency/, which
 * keeps only the mechanism of keys (claim, wait, replay) and knows nothing of steps and payloads.
 */

/** An outbox row: a booking event, or a payment's status change (its booking's state is read by the insert). */
export type OutboxEvent = BookingEventDraft | { type: 'PAYMENT_STATUS_CHANGED'; payment: PaymentModel; previousStatus: PaymentModel['status'] | null };

/** An audit entry; the actor defaults to the one running the step (the caller, a provider, a job). */
export type AuditDraft = Omit<AuditEntry, 'actor'> & { actor?: string };

/** What a step inside the transaction returns: its value and its effects, written and announced by the runner. */
export interface Step<T> {
  value: T;
  /** Announced on the change feed once the transaction has committed. */
  changes?: Change[];
  audit?: AuditDraft[];
  events?: OutboxEvent[];
}

/** A step's effects only, for composing steps (`...effectsOf(step)`). */
export type Effects = Omit<Step<unknown>, 'value'>;

/** The effects of several steps together, in order. */
export function combine(...steps: Effects[]): Required<Effects> {
  return {
    changes: steps.flatMap((s) => s.changes ?? []),
    audit: steps.flatMap((s) => s.audit ?? []),
    events: steps.flatMap((s) => s.events ?? []),
  };
}

/** What both steps are told about the call. */
export interface Call<I, S> {
  input: I;
  /** What `who` returned: the caller's scope. */
  scope: S;
  viewer: Viewer;
  /** The caller in audit rows. */
  actor: string;
  /** The application's services, without its database: a step uses the handle it is given. */
  app: Omit<AppServices, 'db'>;
  /**
   * The mutation's idempotency key (header or input), or null. A call over the network derives its
   * own key from it, so a retry reaches the provider with the same key.
   */
  idempotencyKey: string | null;
}

export interface Access<I, S> {
  /** Names who may, for the refusal: "Expected <expected>, got a customer token.". */
  expected: string;
  /**
   * The caller's scope, or null to refuse. May throw `forbidden(...)` itself for a refusal that
   * depends on the input (a partner naming another partner); it runs before any SQL.
   */
  scope: (viewer: Viewer, input: I) => S | null;
}

export interface MutationDefinition<I extends object, S, O, T> {
  /** The mutation's field name: the scope of its idempotency keys. */
  name: string;
  who: Access<I, S>;
  outside?: (call: Call<I, S>, db: Db) => Promise<O>;
  inside: (trx: Trx, call: Call<I, S> & { prepared: O }) => Promise<Step<T>>;
  /** How a result is kept with its idempotency key and brought back for a retry. */
  remember: (context: RequestContext) => ResultMemory<T>;
  /** The payload's fields besides `userErrors`: from the value, or all null (`value` null) after a refusal. */
  payload: (value: T | null) => Record<string, unknown>;
}

/** Refuses the call: UNAUTHENTICATED without a token, else FORBIDDEN naming who may. */
export function refuse(viewer: Viewer, expected: string): never {
  requireSignedIn(viewer);
  throw forbidden(`Expected ${expected}, got ${tokenKindOf(viewer)}.`);
}

/** Whether the viewer holds the role somewhere: an admin, a membership of that role (owners count as staff), a customer record. */
function holds(viewer: Viewer, role: Viewer['role']): boolean {
  switch (role) {
    case 'ADMIN':
      return viewer.admin;
    case 'STAFF':
      return viewer.memberships.some((m) => m.role === 'OWNER' || m.role === 'STAFF');
    case 'PARTNER':
      return viewer.memberships.some((m) => m.role === 'PARTNER');
    case 'CUSTOMER':
      return viewer.customers.length > 0;
    default:
      return false;
  }
}

/**
 * Callers who hold one of `roles` in some business may; their viewer is the scope. The step then
 * checks the business of what it touches (isStaffOf, canSeeBooking): holding a role in one
 * business reaches nothing of another.
 */
export function roles(...allowed: Viewer['role'][]): (viewer: Viewer) => Viewer | null {
  return (viewer) => (allowed.some((role) => holds(viewer, role)) ? viewer : null);
}

/** Adds every account token to `scope`'s callers: an account books for itself, registering as a customer where it is none yet. */
export function orAnyAccount(scope: (viewer: Viewer) => Viewer | null): (viewer: Viewer) => Viewer | null {
  return (viewer) => (viewer.accountId ? viewer : scope(viewer));
}

/**
 * Every signed-in caller, a fresh account without any grant included: for a mutation whose step
 * decides from what it reads (a record the caller may not manage reads like a missing one), or one
 * any account may call (businessCreate).
 */
export const signedIn = orAnyAccount(roles('ADMIN', 'STAFF', 'PARTNER', 'CUSTOMER'));

/** A mutation's resolver from its definition. */
export function mutation<I extends object, S, O, T>(definition: MutationDefinition<I, S, O, T>) {
  return async (_parent: unknown, args: { input: I }, context: RequestContext) => {
    // Reads of a mutation (its checks, its payload) see the primary, never a replica behind it.
    context.loaders.stayOnPrimary();
    const result = await runMutation(definition, context, args.input);
    if (!result.ok) return { ...definition.payload(null), userErrors: result.errors };
    // This viewer's next reads, on any instance, stay on the primary for a while (read-routing.ts).
    await context.app.reads?.wrote(context.viewer);
    // The payload's nested fields read the committed state, not what the request loaded before.
    context.loaders.clearAll();
    return { ...definition.payload(result.value), userErrors: [] as UserError[] };
  };
}

export async function runMutation<I extends object, S, O, T>(definition: MutationDefinition<I, S, O, T>, context: RequestContext, input: I): Promise<ActionResult<T>> {
  const { viewer, app } = context;
  const scope = definition.who.scope(viewer, input) ?? refuse(viewer, definition.who.expected);
  const idempotencyKey = idempotencyKeyFor(context, input);
  const call: Call<I, S> = { input, scope, viewer, actor: actorOf(viewer), app, idempotencyKey };

  // Outside any transaction, also with a key: a retry runs it again (its network calls carry keys
  // derived from the same idempotency key, so the provider answers as the first time), then finds
  // the first outcome and replays it whatever this run found.
  const outside = definition.outside ? await runAction(() => definition.outside!(call, app.db)) : ({ ok: true, value: undefined as O } as const);
  const inside = (trx: Trx) => (outside.ok ? runInside(trx, call.actor, (t) => definition.inside(t, { ...call, prepared: outside.value })) : Promise.resolve(outside));

  const idempotent = idempotentRefOf(context, definition.name, input, idempotencyKey);
  if (idempotent === null) {
    if (!outside.ok) return outside;
    return commitStep(app, call.actor, (trx) => definition.inside(trx, { ...call, prepared: outside.value }));
  }
  const pending: Change[] = [];
  const { result, ran } = await runOncePerKey(
    app.db,
    idempotent,
    async (trx) => {
      const step = await inside(trx);
      if (!step.ok) return step;
      pending.push(...step.value.changes);
      return { ok: true, value: step.value.value };
    },
    definition.remember(context),
  );
  if (ran && result.ok) await announceAll(app.changes, pending);
  return result;
}

/**
 * Runs a step in a transaction of its own, writes its audit and outbox rows in it, and announces
 * its changes once it has committed. For work outside GraphQL (a provider's webhook, a listener),
 * with the actor it acts as.
 */
export async function commitStep<T>(services: { db: Db; changes: ChangeFeed }, actor: string, step: (trx: Trx) => Promise<Step<T>>): Promise<ActionResult<T>> {
  const result = await runAction(() =>
    services.db.transaction().execute(async (trx) => {
      const done = await step(trx);
      await writeEffects(trx, actor, done);
      return done;
    }),
  );
  if (!result.ok) return result;
  await announceAll(services.changes, announcedChanges(result.value));
  return { ok: true, value: result.value.value };
}

/** The step in a savepoint of the caller's transaction: a refusal rolls back the step only. */
async function runInside<T>(trx: Trx, actor: string, step: (trx: Trx) => Promise<Step<T>>): Promise<ActionResult<{ value: T; changes: Change[] }>> {
  return runAction(async () => {
    await sql`SAVEPOINT step`.execute(trx);
    try {
      const done = await step(trx);
      await writeEffects(trx, actor, done);
      await sql`RELEASE SAVEPOINT step`.execute(trx);
      return { value: done.value, changes: announcedChanges(done) };
    } catch (error) {
      await sql`ROLLBACK TO SAVEPOINT step`.execute(trx);
      throw error;
    }
  });
}

/** Outbox rows in the order given (consecutive booking events in one statement), then the audit rows in one. */
async function writeEffects(trx: Trx, actor: string, effects: Effects): Promise<void> {
  let drafts: BookingEventDraft[] = [];
  for (const event of effects.events ?? []) {
    if ('booking' in event) {
      drafts.push(event);
      continue;
    }
    await insertBookingEvents(trx, drafts);
    drafts = [];
    await insertPaymentEvent(trx, event.payment, event.previousStatus);
  }
  await insertBookingEvents(trx, drafts);
  await insertAuditLogs(trx, (effects.audit ?? []).map((entry) => ({ ...entry, actor: entry.actor ?? actor })));
}

/** The audited entities whose rows the catalog cache keeps. */
const CATALOG_ENTITIES: ReadonlySet<AuditEntry['entity']> = new Set(['business', 'service', 'partner']);

/**
 * A step's changes, and a catalog change when it audited a business, service or partner: every write
 * to those rows is audited, so the catalog cache is told of each without every step saying so
 * (test/catalog/catalog-cache.test.ts goes through each such mutation).
 */
function announcedChanges(effects: Effects): Change[] {
  const changes = effects.changes ?? [];
  const touched = effects.audit?.find((entry) => CATALOG_ENTITIES.has(entry.entity));
  if (!touched) return changes;
  return [...changes, { action: 'catalog.changed', businessId: touched.businessId ?? '', partnerIds: [], ranges: [], availability: false, catalog: true }];
}

async function announceAll(changes: ChangeFeed, list: Change[]): Promise<void> {
  for (const change of list) await changes.publish(change);
}
