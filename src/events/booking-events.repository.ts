import { sql } from 'kysely';
import type { BookingModel } from '../bookings/booking.model.js';
import type { PaymentModel } from '../payments/payment.model.js';
import { query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';
import type { BookingEventData, BookingEventModel, BookingEventType } from './booking-event.model.js';

/** An event to write in the outbox, in the transaction of the change it describes. */
export interface BookingEventDraft {
  type: BookingEventType;
  booking: BookingModel;
  /** The booking before a reschedule. */
  previous?: BookingModel;
  /** The payment of a PAYMENT_STATUS_CHANGED event, and its status before (null when it is new). */
  payment?: { after: PaymentModel; previousStatus: PaymentModel['status'] | null };
  /** The message of a MESSAGE_POSTED event: its id and side only (subscribers read the text through its visibility). */
  message?: { id: string; senderSide: 'customer' | 'business' };
}

function dataOf(draft: BookingEventDraft): BookingEventData {
  const { booking, previous, payment, message } = draft;
  return {
    booking: { status: booking.status, partnerId: booking.partnerId, startsAt: booking.startsAt, endsAt: booking.endsAt },
    ...(previous ? { previous: { partnerId: previous.partnerId, startsAt: previous.startsAt, endsAt: previous.endsAt } } : {}),
    ...(payment
      ? { payment: { status: payment.after.status, previousStatus: payment.previousStatus, amountCents: payment.after.amountCents, currency: payment.after.currency, provider: payment.after.provider } }
      : {}),
    ...(message ? { message: { id: message.id, senderSide: message.senderSide } } : {}),
  };
}

/** Writes events into the outbox inside the change's transaction: they commit or roll back with it. */
export async function insertBookingEvents(trx: Trx, drafts: BookingEventDraft[]): Promise<void> {
  if (!drafts.length) return;
  await trx
    .insertInto('booking_events')
    .values(
      drafts.map((d) => ({
        business_id: d.booking.businessId,
        booking_id: d.booking.id,
        payment_id: d.payment?.after.id ?? null,
        partner_ids: d.previous && d.previous.partnerId !== d.booking.partnerId ? [d.booking.partnerId, d.previous.partnerId] : [d.booking.partnerId],
        type: d.type,
        data: JSON.stringify(dataOf(d)),
      })),
    )
    .execute();
}

/** Each field of the model and the column expression it comes from (alias `e`). */
const EVENT_FIELDS: ReadonlyArray<readonly [keyof BookingEventModel, string]> = [
  ['id', 'e.id'],
  ['position', 'e.position'],
  ['type', 'e.type'],
  ['businessId', 'e.business_id'],
  ['bookingId', 'e.booking_id'],
  ['paymentId', 'e.payment_id'],
  // bigint[] as text[]: both drivers then give strings, like every other id.
  ['partnerIds', 'e.partner_ids::text[]'],
  ['occurredAt', 'e.occurred_at'],
  // jsonb: parsed by the driver.
  ['data', 'e.data'],
];

/**
 * A booking event's columns (table alias `e`) named as its model's fields, each name after
 * `prefix`: reads that join events to other rows (webhook deliveries) take them prefixed and get
 * the model back with bookingEventOf.
 */
export function bookingEventColumns(prefix = '') {
  return sql.raw(EVENT_FIELDS.map(([field, column]) => `${column} AS "${prefix}${field}"`).join(', '));
}

/** The event in a row read with bookingEventColumns(prefix). */
export function bookingEventOf(row: Record<string, unknown>, prefix: string): BookingEventModel {
  return Object.fromEntries(EVENT_FIELDS.map(([field]) => [field, row[`${prefix}${field}`]])) as unknown as BookingEventModel;
}

const EVENT_COLUMNS = bookingEventColumns();

type EventRow = BookingEventModel;

// ---------------------------------------------------------------------------------------------
// The relay: one run at a time across all processes, serialized by the counter row's lock.

/** How long a relay run's transaction may sit idle before PostgreSQL ends its session. */
const RELAY_IDLE_LIMIT = '30s';

/**
 * Locks the relay's counter (waiting for a run in another process to commit) and returns it. The
 * same statement bounds how long this transaction may sit idle: a process that froze holding the
 * lock would otherwise stop every relay of every process until its connection died.
 */
export async function lockRelayCounter(trx: Trx): Promise<number> {
  const rows = await query<{ last: string }>(trx, 'lockRelayCounter', sql`
    SELECT last_position AS last, set_config('idle_in_transaction_session_timeout', ${RELAY_IDLE_LIMIT}, true)
    FROM booking_event_relay WHERE id = 1 FOR UPDATE`);
  return Number(rows[0].last);
}

/**
 * Gives the oldest committed events without a position the next positions, in id order, moves the
 * counter past them, and returns them: one statement. Runs after lockRelayCounter, in its
 * transaction: in READ COMMITTED this statement's snapshot is taken after the lock was granted, so
 * it sees what the previous run committed.
 */
export async function positionNextEvents(trx: Trx, lastPosition: number, limit: number): Promise<BookingEventModel[]> {
  const rows = await query<EventRow>(trx, 'positionNextEvents', sql`
    WITH next AS (
      SELECT id, ${lastPosition}::bigint + row_number() OVER (ORDER BY id) AS position
      FROM (SELECT id FROM booking_events WHERE position IS NULL ORDER BY id LIMIT ${limit}) q
    ), moved AS (
      UPDATE booking_events e SET position = n.position, relayed_at = now()
      FROM next n WHERE e.id = n.id
      RETURNING ${EVENT_COLUMNS}
    ), counter AS (
      UPDATE booking_event_relay SET last_position = (SELECT max(position) FROM next)
      WHERE id = 1 AND EXISTS (SELECT 1 FROM next)
    )
    SELECT * FROM moved`);
  return rows.sort((a, b) => Number(a.position) - Number(b.position));
}

/** Positions of events that were given a position at least `olderThanMs` ago and never published (the publisher died or Redis was down). */
export async function findUnpublishedPositions(db: Db, olderThanMs: number, limit: number): Promise<string[]> {
  const rows = await query<{ position: string }>(db, 'findUnpublishedPositions', sql`
    SELECT e.position FROM booking_events e
    WHERE e.position IS NOT NULL AND e.published_at IS NULL AND e.relayed_at < now() - make_interval(secs => ${olderThanMs / 1000})
    ORDER BY e.position LIMIT ${limit}`);
  return rows.map((r) => r.position);
}

export async function markEventsPublished(db: Db, positions: string[]): Promise<void> {
  if (!positions.length) return;
  await sql`/* markEventsPublished */ UPDATE booking_events SET published_at = now()
    WHERE position = ANY(${positions}::bigint[]) AND published_at IS NULL`.execute(db);
}

// ---------------------------------------------------------------------------------------------
// Readers

/**
 * Seconds since the oldest committed event not yet published occurred (0 when none): the outbox's
 * lag, read at every scrape of GET /metrics. Two one-row reads, each the head of a partial index
 * (unrelayed by id, positioned but unpublished by position): its cost does not grow with the backlog.
 */
export async function outboxLagSeconds(db: Db): Promise<number> {
  const rows = await query<{ seconds: string | number }>(db, 'outboxLagSeconds', sql`
    SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(oldest.occurred_at)), 0) AS seconds FROM (
      (SELECT occurred_at FROM booking_events WHERE position IS NULL ORDER BY id LIMIT 1)
      UNION ALL
      (SELECT occurred_at FROM booking_events WHERE position IS NOT NULL AND published_at IS NULL ORDER BY position LIMIT 1)
    ) oldest`);
  return Math.max(0, Number(rows[0].seconds));
}

/** The last position handed out (0 before the first event). */
export async function lastEventPosition(db: Db): Promise<number> {
  const rows = await query<{ last: string }>(db, 'lastEventPosition', sql`SELECT last_position AS last FROM booking_event_relay WHERE id = 1`);
  return Number(rows[0].last);
}

/** Every business's events after a position, in order: a process catching up after a gap or a Redis reconnect. */
export function findEventsAfter(db: Db, after: number, limit: number): Promise<BookingEventModel[]> {
  return query<EventRow>(db, 'findEventsAfter', sql`
    SELECT ${EVENT_COLUMNS} FROM booking_events e
    WHERE e.position > ${after}::bigint AND e.position IS NOT NULL
    ORDER BY e.position LIMIT ${limit}`);
}

/** A business's events after a position (replay), optionally only those touching one partner. */
export function findBusinessEventsAfter(db: Db, args: { businessId: string; partnerId: string | null; after: number; limit: number }): Promise<BookingEventModel[]> {
  // The business is a range, not `=`, so that the order (business_id, position) is one only
  // booking_events_replay_idx gives: with `=` the planner drops business_id from the order, and the
  // prepared statement's generic plan walked the global position index from an old cursor through
  // every other business's events. The position index now needs a sort of every event after the
  // cursor, which the planner takes only when there are few.
  // A partner's events come from its two indexes (current and previous partner), each read in
  // order from the cursor, so one page reads at most two pages of rows. The business is checked
  // after them: a partner's events are all of its business (foreign keys), and inside, the generic
  // plan preferred walking the business's events (it guesses a partner has 1 event in 200).
  if (args.partnerId !== null) {
    const branch = (element: 1 | 2) => sql`(SELECT * FROM booking_events e
      WHERE e.partner_ids[${sql.raw(String(element))}] = ${args.partnerId}::bigint AND e.position > ${args.after}::bigint
      ORDER BY e.position LIMIT ${args.limit})`;
    return query<EventRow>(db, 'findBusinessEventsAfter', sql`
      SELECT ${EVENT_COLUMNS} FROM (${branch(1)} UNION ALL ${branch(2)}) e
      WHERE e.business_id = ${args.businessId}::bigint
      ORDER BY e.position LIMIT ${args.limit}`);
  }
  return query<EventRow>(db, 'findBusinessEventsAfter', sql`
    SELECT ${EVENT_COLUMNS} FROM booking_events e
    WHERE e.business_id >= ${args.businessId}::bigint AND e.business_id <= ${args.businessId}::bigint
      AND e.position > ${args.after}::bigint
    ORDER BY e.business_id, e.position LIMIT ${args.limit}`);
}

/**
 * Writes a PAYMENT_STATUS_CHANGED event for a payment just created or changed, in the payment's
 * transaction, with its booking's state read by the same statement (no extra round trip). The
 * booking row is locked (payment, then booking: the order every payment path takes), so a
 * reschedule in flight commits first and the event shows the booking's partner and time after it.
 */
export async function insertPaymentEvent(trx: Trx, payment: PaymentModel, previousStatus: PaymentModel['status'] | null): Promise<void> {
  const paymentData = JSON.stringify({ status: payment.status, previousStatus, amountCents: payment.amountCents, currency: payment.currency, provider: payment.provider });
  await sql`/* insertPaymentEvent */
    INSERT INTO booking_events (business_id, booking_id, payment_id, partner_ids, type, data)
    SELECT bk.business_id, bk.id, ${payment.id}::bigint, ARRAY[bk.partner_id], 'PAYMENT_STATUS_CHANGED',
      jsonb_build_object(
        'booking', jsonb_build_object(
          'status', upper(bk.status),
          'partnerId', bk.partner_id::text,
          'startsAt', to_char(bk.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
          'endsAt', to_char(bk.ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
        'payment', ${paymentData}::jsonb)
    FROM bookings bk WHERE bk.id = ${payment.bookingId}::bigint
    FOR UPDATE OF bk`.execute(trx);
}

// ---------------------------------------------------------------------------------------------
// Retention (src/retention/)

/**
 * Deletes up to `limit` events that occurred before `before`, oldest first, and raises each
 * touched business's purge mark to the highest position deleted: one statement, so that a reader
 * never sees the events gone without the mark. Only positioned and published events go (the
 * relay's and the hub's work is done), and none a webhook delivery still points at (a pending
 * delivery of a paused endpoint keeps its event). SKIP LOCKED: a row the relay holds is left for
 * the next batch.
 */
export async function purgeBookingEventsBefore(db: Db, before: Date, limit: number): Promise<number> {
  const rows = await query<{ deleted: number }>(db, 'purgeBookingEventsBefore', sql`
    WITH gone AS (
      DELETE FROM booking_events e WHERE e.id = ANY(ARRAY(
        SELECT o.id FROM booking_events o
        WHERE o.position IS NOT NULL AND o.occurred_at < ${before.toISOString()}::timestamptz AND o.published_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = o.id)
        ORDER BY o.occurred_at LIMIT ${limit} FOR UPDATE OF o SKIP LOCKED))
      RETURNING e.business_id, e.position
    ), marked AS (
      INSERT INTO booking_event_purges AS p (business_id, purged_through)
      SELECT business_id, max(position) FROM gone GROUP BY business_id
      ON CONFLICT (business_id) DO UPDATE SET purged_through = GREATEST(p.purged_through, EXCLUDED.purged_through), purged_at = now()
    )
    SELECT count(*)::int AS deleted FROM gone`);
  return Number(rows[0].deleted);
}

/** The highest position of the business's events the retention purge deleted (0 when none was). */
export async function findPurgedThrough(db: Db, businessId: string): Promise<number> {
  const rows = await query<{ through: string }>(db, 'findPurgedThrough', sql`
    SELECT purged_through AS through FROM booking_event_purges WHERE business_id = ${businessId}::bigint`);
  return rows.length ? Number(rows[0].through) : 0;
}
