import { sql } from 'kysely';
import type { BookingEventType } from '../events/booking-event.model.js';
import { groupBy, query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';
import type { WebhookEndpointModel } from './webhook.model.js';

/** The webhook_endpoints table: registrations, their secrets, their status and failure count. */

const ENDPOINT_COLUMNS = sql.raw(
  `w.id, w.business_id AS "businessId", w.partner_id AS "partnerId", w.url, w.event_types AS "eventTypes",
   upper(w.status) AS status, w.consecutive_failures AS "consecutiveFailures", w.paused_at AS "pausedAt",
   w.pause_reason AS "pauseReason", w.created_at AS "createdAt"`,
);

// ---------------------------------------------------------------------------------------------
// Reads

/** Live (not deleted) endpoints by id. */
export function findWebhookEndpointsByIds(db: Db, ids: readonly string[]): Promise<WebhookEndpointModel[]> {
  return query(db, 'findWebhookEndpointsByIds', sql`
    SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints w WHERE w.id = ANY(${ids}::bigint[]) AND w.deleted_at IS NULL`);
}

/** The live endpoints of each business, oldest first (a business has at most a few: see MAX_ENDPOINTS_PER_BUSINESS). */
export async function findWebhookEndpointsByBusinessIds(db: Db, businessIds: readonly string[]): Promise<Map<string, WebhookEndpointModel[]>> {
  const rows = await query<WebhookEndpointModel>(db, 'findWebhookEndpointsByBusinessIds', sql`
    SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints w
    WHERE w.business_id = ANY(${businessIds}::bigint[]) AND w.deleted_at IS NULL ORDER BY w.business_id, w.id`);
  return groupBy(rows, (row) => row.businessId);
}

/** A live endpoint's signing secret (for the idempotent replay of its creation, the only place it is shown). */
export async function findWebhookEndpointSecret(db: Db, id: string): Promise<string | null> {
  const rows = await query<{ secret: string }>(db, 'findWebhookEndpointSecret', sql`
    SELECT w.secret FROM webhook_endpoints w WHERE w.id = ${id}::bigint AND w.deleted_at IS NULL`);
  return rows[0]?.secret ?? null;
}

// ---------------------------------------------------------------------------------------------
// Endpoint changes: each runs inside the action's transaction.

/**
 * Locks a live business against concurrent endpoint registrations (the per-business cap) and says
 * whether it exists. FOR NO KEY UPDATE: bookings and other rows pointing at the business take a
 * KEY SHARE lock, which this does not block.
 */
export async function lockBusinessForWebhooks(trx: Trx, businessId: string): Promise<boolean> {
  const rows = await query(trx, 'lockBusinessForWebhooks', sql`
    SELECT 1 FROM businesses b WHERE b.id = ${businessId}::bigint AND b.deleted_at IS NULL FOR NO KEY UPDATE`);
  return rows.length > 0;
}

export async function countLiveWebhookEndpoints(trx: Trx, businessId: string): Promise<number> {
  const rows = await query<{ count: number }>(trx, 'countLiveWebhookEndpoints', sql`
    SELECT count(*)::int AS count FROM webhook_endpoints w WHERE w.business_id = ${businessId}::bigint AND w.deleted_at IS NULL`);
  return rows[0].count;
}

export interface NewWebhookEndpoint {
  businessId: string;
  partnerId: string | null;
  url: string;
  eventTypes: BookingEventType[];
  secret: string;
}

export async function insertWebhookEndpoint(trx: Trx, e: NewWebhookEndpoint): Promise<WebhookEndpointModel> {
  const rows = await query<WebhookEndpointModel>(trx, 'insertWebhookEndpoint', sql`
    INSERT INTO webhook_endpoints AS w (business_id, partner_id, url, event_types, secret)
    VALUES (${e.businessId}::bigint, ${e.partnerId}::bigint, ${e.url}, ${e.eventTypes}::text[], ${e.secret})
    RETURNING ${ENDPOINT_COLUMNS}`);
  return rows[0];
}

export async function lockWebhookEndpointById(trx: Trx, id: string): Promise<WebhookEndpointModel | undefined> {
  const rows = await query<WebhookEndpointModel>(trx, 'lockWebhookEndpointById', sql`
    SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints w WHERE w.id = ${id}::bigint AND w.deleted_at IS NULL FOR NO KEY UPDATE`);
  return rows[0];
}

export async function softDeleteWebhookEndpoint(trx: Trx, id: string): Promise<void> {
  await query(trx, 'softDeleteWebhookEndpoint', sql`UPDATE webhook_endpoints SET deleted_at = now() WHERE id = ${id}::bigint`);
}

/** Re-activates an endpoint with a clean failure count. */
export async function activateWebhookEndpoint(trx: Trx, id: string): Promise<WebhookEndpointModel> {
  const rows = await query<WebhookEndpointModel>(trx, 'activateWebhookEndpoint', sql`
    UPDATE webhook_endpoints AS w SET status = 'active', consecutive_failures = 0, paused_at = NULL, pause_reason = NULL
    WHERE w.id = ${id}::bigint RETURNING ${ENDPOINT_COLUMNS}`);
  return rows[0];
}

// ---------------------------------------------------------------------------------------------
// The dispatcher's outcomes: a failure counts against its endpoint.

/**
 * Counts a failed attempt against its endpoint (locking it: outcomes of one endpoint are recorded
 * one at a time) and pauses it at `pauseAfter` failures in a row. Returns the endpoint's status
 * after, and whether this failure paused it.
 */
export async function countWebhookEndpointFailure(trx: Trx, endpointId: string, pauseAfter: number, pauseReason: string): Promise<{ paused: boolean; pausedNow: boolean }> {
  const rows = await query<{ paused: boolean; pausedNow: boolean }>(trx, 'countWebhookEndpointFailure', sql`
    UPDATE webhook_endpoints w SET
      consecutive_failures = w.consecutive_failures + 1,
      status = CASE WHEN o.pausing THEN 'paused' ELSE w.status END,
      paused_at = CASE WHEN o.pausing THEN now() ELSE w.paused_at END,
      pause_reason = CASE WHEN o.pausing THEN ${pauseReason} ELSE w.pause_reason END
    FROM (
      SELECT id, status = 'active' AND consecutive_failures + 1 >= ${pauseAfter}::int AS pausing
      FROM webhook_endpoints WHERE id = ${endpointId}::bigint FOR NO KEY UPDATE
    ) o
    WHERE w.id = o.id
    RETURNING w.status = 'paused' AS paused, o.pausing AS "pausedNow"`);
  return rows[0] ?? { paused: false, pausedNow: false };
}
