import { sql } from 'kysely';
import type { BookingEventModel } from '../events/booking-event.model.js';
import { bookingEventColumns, bookingEventOf } from '../events/booking-events.repository.js';
import { allOf, deleteOldestBatch, lateralPages, query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';
import type { WebhookDeliveryStatus } from '../__generated__/resolvers-types.js';
import type { WebhookDeliveryModel } from './webhook.model.js';

/**
 * The webhook_deliveries table. A pending delivery of a paused endpoint is parked at next_attempt_at =
 * 'infinity', past the end of the dispatcher's index range, so a paused endpoint's backlog costs the
 * claim nothing; every statement that writes next_attempt_at keeps to that rule. 'infinity' never
 * leaves this file: the drivers cannot turn it into a date.
 */

/** Deliveries carry their event: its columns come prefixed, see bookingEventColumns. */
const EVENT_PREFIX = 'event.';
const EVENT_COLUMNS = bookingEventColumns(EVENT_PREFIX);

const DELIVERY_COLUMNS = sql.raw(
  `d.id, d.business_id AS "businessId", d.endpoint_id AS "endpointId", upper(d.status) AS status, d.attempts,
   CASE WHEN d.status = 'pending' AND d.next_attempt_at <> 'infinity' THEN d.next_attempt_at END AS "nextAttemptAt",
   d.last_attempt_at AS "lastAttemptAt", d.last_status_code AS "lastStatusCode", d.last_error AS "lastError",
   d.delivered_at AS "deliveredAt", d.created_at AS "createdAt", d.redelivery_of AS "redeliveryOfId"`,
);

type DeliveryRow = Omit<WebhookDeliveryModel, 'event'> & Record<string, unknown>;

function deliveryOf(row: DeliveryRow): WebhookDeliveryModel {
  const delivery = Object.fromEntries(Object.entries(row).filter(([key]) => !key.startsWith(EVENT_PREFIX))) as Omit<WebhookDeliveryModel, 'event'>;
  return { ...delivery, event: bookingEventOf(row, EVENT_PREFIX) };
}

// ---------------------------------------------------------------------------------------------
// Reads

/** Deliveries by id, with their events; whoever may see the endpoint may see them. */
export async function findWebhookDeliveriesByIds(db: Db, ids: readonly string[]): Promise<WebhookDeliveryModel[]> {
  const rows = await query<DeliveryRow>(db, 'findWebhookDeliveriesByIds', sql`
    SELECT ${DELIVERY_COLUMNS}, ${EVENT_COLUMNS} FROM webhook_deliveries d JOIN booking_events e ON e.id = d.event_id
    WHERE d.id = ANY(${ids}::bigint[])`);
  return rows.map(deliveryOf);
}

export interface DeliveryListArgs {
  status: WebhookDeliveryStatus | null;
  /** The id of the last delivery seen (pages go newest first). */
  after: string | null;
  limit: number;
}

/** One page of each endpoint's delivery log, newest first, in one statement. */
export async function findWebhookDeliveryPagesByEndpointIds(db: Db, endpointIds: readonly string[], args: DeliveryListArgs): Promise<Map<string, WebhookDeliveryModel[]>> {
  const pages = await lateralPages<DeliveryRow>(db, 'findWebhookDeliveryPagesByEndpointIds', endpointIds, sql`
    SELECT p.parent_id AS "parentId", ${DELIVERY_COLUMNS}, ${EVENT_COLUMNS}
    FROM webhook_deliveries d JOIN booking_events e ON e.id = d.event_id
    WHERE ${allOf([
      sql`d.endpoint_id = p.parent_id`,
      args.status && sql`d.status = ${args.status.toLowerCase()}`,
      args.after !== null && sql`d.id < ${args.after}::bigint`,
    ])}
    ORDER BY d.id DESC LIMIT ${args.limit}`);
  const models = new Map<string, WebhookDeliveryModel[]>();
  for (const [endpointId, rows] of pages) models.set(endpointId, rows.map((row) => deliveryOf(row)));
  return models;
}

// ---------------------------------------------------------------------------------------------
// Deliveries changed by an endpoint's mutations: inside the action's transaction.

/** Gives up an endpoint's pending deliveries (it was deleted); returns how many. */
export async function failPendingWebhookDeliveries(trx: Trx, endpointId: string, reason: string): Promise<number> {
  const rows = await query(trx, 'failPendingWebhookDeliveries', sql`
    UPDATE webhook_deliveries SET status = 'failed', last_error = ${reason}
    WHERE endpoint_id = ${endpointId}::bigint AND status = 'pending' RETURNING id`);
  return rows.length;
}

/** Makes the parked (paused-endpoint) deliveries of an endpoint due now; returns how many. */
export async function unparkWebhookDeliveries(trx: Trx, endpointId: string): Promise<number> {
  const rows = await query(trx, 'unparkWebhookDeliveries', sql`
    UPDATE webhook_deliveries SET next_attempt_at = now()
    WHERE endpoint_id = ${endpointId}::bigint AND status = 'pending' AND next_attempt_at = 'infinity' RETURNING id`);
  return rows.length;
}

/** A new delivery of a delivery's event to the same endpoint, due now (parked if the endpoint is paused). */
export async function insertRedelivery(trx: Trx, deliveryId: string): Promise<string> {
  const rows = await query<{ id: string }>(trx, 'insertRedelivery', sql`
    INSERT INTO webhook_deliveries (business_id, endpoint_id, event_id, event_position, redelivery_of, next_attempt_at)
    SELECT d.business_id, d.endpoint_id, d.event_id, d.event_position, d.id,
           CASE WHEN w.status = 'active' THEN now() ELSE 'infinity'::timestamptz END
    FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
    WHERE d.id = ${deliveryId}::bigint
    RETURNING id`);
  return rows[0].id;
}

// ---------------------------------------------------------------------------------------------
// Fan-out: in the relay's transaction.

/**
 * One delivery per (event, matching live endpoint), in one statement however many events: an
 * endpoint matches an event of its business whose type it lists, and, if it has a partner, whose
 * partner ids (the booking's partner, and the previous one after a move) include that partner.
 * Paused endpoints get their deliveries too, parked until they are resumed. The endpoints are read
 * FOR SHARE: a resume (or pause) committing meanwhile is waited for and its status used, so no
 * delivery is parked on an endpoint that was just resumed.
 */
export async function insertDeliveriesForEvents(trx: Trx, events: readonly BookingEventModel[]): Promise<number> {
  if (!events.length) return 0;
  const rows = await query<{ count: number }>(trx, 'insertDeliveriesForEvents', sql`
    WITH inserted AS (
      INSERT INTO webhook_deliveries (business_id, endpoint_id, event_id, event_position, next_attempt_at)
      SELECT w.business_id, w.id, ev.id, ev.position, CASE WHEN w.status = 'active' THEN now() ELSE 'infinity'::timestamptz END
      FROM unnest(${events.map((e) => e.id)}::bigint[], ${events.map((e) => e.position)}::bigint[], ${events.map((e) => e.businessId)}::bigint[],
                  ${events.map((e) => e.type)}::text[], ${events.map((e) => e.partnerIds[0])}::bigint[], ${events.map((e) => e.partnerIds[1] ?? null)}::bigint[])
           AS ev(id, position, business_id, type, partner_id, previous_partner_id)
      JOIN webhook_endpoints w ON w.business_id = ev.business_id AND w.deleted_at IS NULL AND ev.type = ANY(w.event_types)
      WHERE w.partner_id IS NULL OR w.partner_id = ev.partner_id OR w.partner_id = ev.previous_partner_id
      ORDER BY ev.position, w.id
      FOR SHARE OF w
      RETURNING 1
    )
    SELECT count(*)::int AS count FROM inserted`);
  return rows[0].count;
}

// ---------------------------------------------------------------------------------------------
// The dispatcher

/** A delivery claimed for one attempt, with what the request needs. */
export interface ClaimedDelivery {
  id: string;
  /** This attempt's number (1 for the first); the outcome is recorded only if it is still the latest. */
  attempt: number;
  endpointId: string;
  url: string;
  secret: string;
  event: BookingEventModel;
}

/**
 * Claims up to `limit` due deliveries of active endpoints for one attempt each, in one statement:
 * the attempt is counted and next_attempt_at pushed `leaseMs` ahead, so no other dispatcher takes
 * them meanwhile (SKIP LOCKED passes over rows another claim is taking right now; a row it has
 * just taken is no longer due when re-checked). If this process dies before recording the outcome,
 * the delivery is due again when the lease ends.
 */
export async function claimDueWebhookDeliveries(db: Db, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  const rows = await query<Omit<ClaimedDelivery, 'event'> & Record<string, unknown>>(db, 'claimDueWebhookDeliveries', sql`
    WITH claimed AS (
    UPDATE webhook_deliveries d
    SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => ${leaseMs / 1000})
    FROM webhook_endpoints w, booking_events e
    -- = ANY(ARRAY(...)), not IN (...): the claimed ids are fetched first and then looked up by key.
    -- With IN, the prepared statement's generic plan (which cannot see the limit) hash-joined them
    -- against a scan of every delivery.
    WHERE d.id = ANY(ARRAY(
        SELECT q.id FROM webhook_deliveries q JOIN webhook_endpoints qw ON qw.id = q.endpoint_id
        WHERE q.status = 'pending' AND q.next_attempt_at <= now() AND qw.status = 'active' AND qw.deleted_at IS NULL
        ORDER BY q.next_attempt_at, q.id
        LIMIT ${limit}
        FOR UPDATE OF q SKIP LOCKED))
      AND w.id = d.endpoint_id AND e.id = d.event_id
    RETURNING d.id, d.attempts AS attempt, d.endpoint_id AS "endpointId", w.url, w.secret, ${EVENT_COLUMNS}
    )
    -- Oldest first, whatever order the key lookups returned them in.
    SELECT * FROM claimed ORDER BY id`);
  return rows.map((row) => ({ id: row.id, attempt: row.attempt, endpointId: row.endpointId, url: row.url, secret: row.secret, event: bookingEventOf(row, EVENT_PREFIX) }));
}

/**
 * Pending deliveries due now (those of paused endpoints are parked at 'infinity' and not counted), at
 * most `cap`: the webhook backlog at every scrape of GET /metrics, a range of the due index cut at `cap`.
 */
export async function countDueWebhookDeliveries(db: Db, cap: number): Promise<number> {
  const rows = await query<{ due: string }>(db, 'countDueWebhookDeliveries', sql`
    SELECT count(*) AS due FROM (
      SELECT 1 FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= now() LIMIT ${cap}
    ) due`);
  return Number(rows[0].due);
}

/**
 * Records a 2xx answer and resets the endpoint's failure count. Whichever attempt of a delivery
 * succeeds first wins, even one whose lease had run out. The endpoint is locked first, as failures,
 * pauses and deletes lock it before its deliveries: one lock order, no deadlock.
 */
export async function recordWebhookSuccess(trx: Trx, endpointId: string, id: string, statusCode: number): Promise<void> {
  await sql`/* lockEndpointForOutcome */ SELECT 1 FROM webhook_endpoints WHERE id = ${endpointId}::bigint FOR NO KEY UPDATE`.execute(trx);
  await query(trx, 'recordWebhookSuccess', sql`
    WITH d AS (
      UPDATE webhook_deliveries SET status = 'succeeded', delivered_at = now(), last_attempt_at = now(),
        last_status_code = ${statusCode}, last_error = NULL
      WHERE id = ${id}::bigint AND status = 'pending'
      RETURNING endpoint_id
    )
    UPDATE webhook_endpoints w SET consecutive_failures = 0
    FROM d WHERE w.id = d.endpoint_id AND w.status = 'active' AND w.consecutive_failures > 0`);
}

export interface FailedAttempt {
  id: string;
  attempt: number;
  statusCode: number | null;
  error: string;
  /** Until the next attempt, unless the retry window ends first (then the last attempt is at its end). */
  retryDelayMs: number;
  retryWindowMs: number;
  /** The endpoint is paused: the delivery waits for a resume instead. */
  parked: boolean;
}

/**
 * Records a failed attempt: the next one is scheduled, or the delivery is given up once it is as old
 * as the retry window. Only the latest attempt's outcome counts (false when a later claim took the
 * delivery over, or it is no longer pending).
 */
export async function recordWebhookFailure(trx: Trx, f: FailedAttempt): Promise<{ gaveUp: boolean } | null> {
  const rows = await query<{ gaveUp: boolean }>(trx, 'recordWebhookFailure', sql`
    UPDATE webhook_deliveries d SET
      last_attempt_at = now(), last_status_code = ${f.statusCode}::int, last_error = ${f.error},
      status = CASE WHEN now() >= d.created_at + make_interval(secs => ${f.retryWindowMs / 1000}) THEN 'failed' ELSE 'pending' END,
      next_attempt_at = CASE
        WHEN ${f.parked}::boolean THEN 'infinity'::timestamptz
        ELSE LEAST(now() + make_interval(secs => ${f.retryDelayMs / 1000}), d.created_at + make_interval(secs => ${f.retryWindowMs / 1000}))
      END
    WHERE d.id = ${f.id}::bigint AND d.attempts = ${f.attempt}::int AND d.status = 'pending'
    RETURNING d.status = 'failed' AS "gaveUp"`);
  return rows[0] ?? null;
}

/** Parks every pending delivery of an endpoint that was just paused; returns how many. */
export async function parkWebhookDeliveries(trx: Trx, endpointId: string): Promise<number> {
  const rows = await query(trx, 'parkWebhookDeliveries', sql`
    UPDATE webhook_deliveries SET next_attempt_at = 'infinity'
    WHERE endpoint_id = ${endpointId}::bigint AND status = 'pending' AND next_attempt_at <> 'infinity' RETURNING id`);
  return rows.length;
}

/**
 * Hands a claimed delivery back without an outcome (the process is stopping mid-request): due at
 * once for another process, not counted as a failure.
 */
export async function releaseWebhookDelivery(trx: Trx, endpointId: string, id: string, attempt: number, note: string): Promise<void> {
  // The endpoint's latest status, locked, as recordWebhookSuccess does (same order, same reason).
  const rows = await query<{ active: boolean }>(trx, 'lockEndpointForOutcome', sql`
    SELECT status = 'active' AS active FROM webhook_endpoints WHERE id = ${endpointId}::bigint FOR NO KEY UPDATE`);
  await query(trx, 'releaseWebhookDelivery', sql`
    UPDATE webhook_deliveries d SET last_error = ${note},
      next_attempt_at = CASE WHEN ${rows[0]?.active ?? false}::boolean THEN now() ELSE 'infinity'::timestamptz END
    WHERE d.id = ${id}::bigint AND d.attempts = ${attempt}::int AND d.status = 'pending'`);
}

/**
 * Deletes up to `limit` finished deliveries (succeeded or failed) created before `before`, oldest
 * first (the retention job's batch). Pending ones are work still to do and stay, whatever their age;
 * so does a delivery a kept redelivery points at (it goes in a later round, after the redelivery).
 * SKIP LOCKED: a row a redelivery is being made of right now is left for the next batch.
 */
export function purgeFinishedWebhookDeliveriesBefore(db: Db, before: Date, limit: number): Promise<number> {
  return deleteOldestBatch(db, 'purgeFinishedWebhookDeliveriesBefore', {
    table: 'webhook_deliveries', key: 'id', age: 'created_at', before, limit,
    where: sql`o.status <> 'pending' AND NOT EXISTS (SELECT 1 FROM webhook_deliveries r WHERE r.redelivery_of = o.id)`,
  });
}
