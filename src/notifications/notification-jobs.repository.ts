import { sql } from 'kysely';
import type { BookingEventModel } from '../events/booking-event.model.js';
import { deleteOldestBatch, query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';

/**
 * The notification_jobs table: a small durable queue (see migration 20261202000400 and
 * job-queue.ts). Times are the caller's clock (`now`), never the database's, so tests move time by
 * handing the worker a later clock.
 */

/** Job kinds. One e-mail job per (event, audience); one reminder job per (booking, channel). */
export const JobKind = {
  BookingEmail: 'booking_email',
  ReminderEmail: 'booking_reminder_email',
  ReminderSms: 'booking_reminder_sms',
  /** A message of a booking's thread (MESSAGE_POSTED), e-mailed to the other side unless it read the message first; keyed by the message. */
  MessageEmail: 'message_email',
} as const;
export type JobKind = (typeof JobKind)[keyof typeof JobKind];

export interface ClaimedJob {
  id: string;
  kind: string;
  key: string;
  businessId: string;
  payload: unknown;
  /** This attempt's number, 1 for the first. */
  attempts: number;
  /** The version this claim set: an outcome is recorded only while the job still has it. */
  version: number;
}

/**
 * Claims up to `limit` due jobs in one statement: each gets run_at = now + lease (so a worker that
 * dies leaves it due again afterwards), one more attempt and a new version. SKIP LOCKED: two
 * workers never claim the same job, and neither waits for the other.
 */
export function claimDueJobs(db: Db, now: Date, limit: number, leaseMs: number): Promise<ClaimedJob[]> {
  return query<ClaimedJob>(db, 'claimDueJobs', sql`
    UPDATE notification_jobs j SET run_at = ${now.toISOString()}::timestamptz + make_interval(secs => ${leaseMs / 1000}),
      attempts = j.attempts + 1, version = j.version + 1
    FROM (SELECT id FROM notification_jobs WHERE status = 'pending' AND run_at <= ${now.toISOString()}::timestamptz
          ORDER BY run_at LIMIT ${limit} FOR UPDATE SKIP LOCKED) due
    WHERE j.id = due.id
    RETURNING j.id, j.kind, j.key, j.business_id AS "businessId", j.payload, j.attempts, j.version`);
}

/** Marks claimed jobs done, in one statement; a job rescheduled or reclaimed since (another version) is left alone. */
export async function completeJobs(db: Db, jobs: readonly Pick<ClaimedJob, 'id' | 'version'>[], now: Date): Promise<number> {
  if (!jobs.length) return 0;
  const rows = await query(db, 'completeJobs', sql`
    UPDATE notification_jobs j SET status = 'done', finished_at = ${now.toISOString()}::timestamptz, last_error = NULL
    FROM unnest(${jobs.map((j) => j.id)}::bigint[], ${jobs.map((j) => j.version)}::int[]) AS c(id, version)
    WHERE j.id = c.id AND j.version = c.version AND j.status = 'pending' RETURNING j.id`);
  return rows.length;
}

/** Records a failed attempt: due again at `retryAt`, or dead when `retryAt` is null. */
export async function failJob(db: Db, job: Pick<ClaimedJob, 'id' | 'version'>, error: string, retryAt: Date | null, now: Date): Promise<boolean> {
  const rows = await query(db, 'failJob', sql`
    UPDATE notification_jobs SET last_error = ${error},
      status = ${retryAt ? 'pending' : 'dead'}, run_at = coalesce(${retryAt?.toISOString() ?? null}::timestamptz, run_at),
      finished_at = CASE WHEN ${retryAt === null} THEN ${now.toISOString()}::timestamptz END
    WHERE id = ${job.id}::bigint AND version = ${job.version} AND status = 'pending' RETURNING id`);
  return rows.length > 0;
}

/** Deletes up to `limit` jobs that finished (done or dropped) before `before`, oldest first (the retention job's batch); how many it deleted. */
export function purgeFinishedNotificationJobsBefore(db: Db, before: Date, limit: number): Promise<number> {
  return deleteOldestBatch(db, 'purgeFinishedNotificationJobsBefore', { table: 'notification_jobs', key: 'id', age: 'finished_at', before, limit, where: sql`o.status IN ('done', 'dropped')` });
}

/** How many jobs are dead, and how many pending ones are due at `now`: for GET /metrics (bounded by `cap`). */
export async function countJobBacklog(db: Db, now: Date, cap: number): Promise<{ dead: number; due: number }> {
  const rows = await query<{ dead: number; due: number }>(db, 'countJobBacklog', sql`
    SELECT (SELECT count(*)::int FROM (SELECT 1 FROM notification_jobs WHERE status = 'dead' LIMIT ${cap}) d) AS dead,
           (SELECT count(*)::int FROM (SELECT 1 FROM notification_jobs WHERE status = 'pending' AND run_at <= ${now.toISOString()}::timestamptz LIMIT ${cap}) p) AS due`);
  return rows[0];
}

/** Event types that send booking e-mails (and move the calendar SEQUENCE). */
const EMAIL_EVENT_TYPES = ['BOOKING_CREATED', 'BOOKING_CONFIRMED', 'BOOKING_RESCHEDULED', 'BOOKING_CANCELLED'];

/**
 * The relay hook's one statement, for every event it positioned: the bookings' calendar sequences
 * (one more per e-mail event, in event order), an e-mail job per event and audience (the customer
 * for every e-mail event; the partner for all but a confirmation; after a move to another partner,
 * the previous partner too), and each booking's reminders as
 * its last event in the batch leaves them: scheduled (or moved) at starts_at - reminder_hours when
 * that is still after the event, dropped when the booking was cancelled, finished or moved inside
 * the reminder window. UNIQUE (kind, key) makes a second relay of the same event a no-op.
 */
export async function insertJobsForEvents(trx: Trx, events: readonly BookingEventModel[], now: Date, messageEmailDelaySeconds: number): Promise<void> {
  if (!events.length) return;
  await query(trx, 'insertJobsForEvents', sql`
    WITH ev AS (
      SELECT * FROM unnest(${events.map((e) => e.id)}::bigint[], ${events.map((e) => e.bookingId)}::bigint[], ${events.map((e) => e.businessId)}::bigint[],
                           ${events.map((e) => e.type)}::text[], ${events.map((e) => JSON.stringify(e.data))}::jsonb[], ${events.map((e) => e.occurredAt)}::timestamptz[])
        WITH ORDINALITY AS ev(id, booking_id, business_id, type, data, occurred_at, n)
    ),
    mailed AS (SELECT * FROM ev WHERE type = ANY(${EMAIL_EVENT_TYPES}::text[])),
    per_booking AS (SELECT booking_id, min(business_id) AS business_id, count(*)::int AS n FROM mailed GROUP BY booking_id),
    sequences AS (
      INSERT INTO booking_calendar_sequences AS s (booking_id, business_id, sequence)
      SELECT booking_id, business_id, n - 1 FROM per_booking
      ON CONFLICT (booking_id) DO UPDATE SET sequence = s.sequence + EXCLUDED.sequence + 1
      RETURNING booking_id, sequence
    ),
    numbered AS (
      SELECT m.*, s.sequence - p.n + row_number() OVER (PARTITION BY m.booking_id ORDER BY m.n) AS sequence
      FROM mailed m JOIN per_booking p USING (booking_id) JOIN sequences s USING (booking_id)
    ),
    emails AS (
      INSERT INTO notification_jobs (kind, key, business_id, payload, run_at)
      SELECT ${JobKind.BookingEmail}, x.id || ':' || a.audience, x.business_id,
             jsonb_build_object('eventId', x.id::text, 'bookingId', x.booking_id::text, 'type', x.type, 'audience', a.audience, 'sequence', x.sequence,
                                'booking', x.data -> 'booking', 'previous', x.data -> 'previous'),
             ${now.toISOString()}::timestamptz
      FROM numbered x CROSS JOIN (VALUES ('customer'), ('partner'), ('previous_partner')) AS a(audience)
      WHERE CASE a.audience WHEN 'customer' THEN TRUE WHEN 'partner' THEN x.type <> 'BOOKING_CONFIRMED'
              -- A move to another partner: the partner it left gets a cancellation of their own.
              ELSE x.type = 'BOOKING_RESCHEDULED' AND x.data -> 'previous' ->> 'partnerId' IS DISTINCT FROM x.data -> 'booking' ->> 'partnerId' END
      ON CONFLICT (kind, key) DO NOTHING
      RETURNING id
    ),
    last_event AS (
      SELECT DISTINCT ON (ev.booking_id) ev.*, (ev.data -> 'booking' ->> 'startsAt')::timestamptz - make_interval(hours => b.reminder_hours) AS remind_at, b.reminder_hours
      FROM ev JOIN businesses b ON b.id = ev.business_id
      -- Only events that move or end a booking decide its reminders: a message leaves them be.
      WHERE ev.type NOT IN ('BOOKING_CONFIRMED', 'PAYMENT_STATUS_CHANGED', 'MESSAGE_POSTED')
      ORDER BY ev.booking_id, ev.n DESC
    ),
    scheduled AS (
      INSERT INTO notification_jobs AS j (kind, key, business_id, payload, run_at)
      SELECT k.kind, l.booking_id::text, l.business_id, jsonb_build_object('bookingId', l.booking_id::text, 'startsAt', l.data -> 'booking' ->> 'startsAt'), l.remind_at
      FROM last_event l CROSS JOIN (VALUES (${JobKind.ReminderEmail}), (${JobKind.ReminderSms})) AS k(kind)
      WHERE l.type IN ('BOOKING_CREATED', 'BOOKING_RESCHEDULED') AND l.reminder_hours > 0 AND l.remind_at > l.occurred_at
      ON CONFLICT (kind, key) DO UPDATE SET run_at = EXCLUDED.run_at, payload = EXCLUDED.payload, status = 'pending', attempts = 0,
        version = j.version + 1, last_error = NULL, finished_at = NULL
      RETURNING id
    ),
    -- A posted message: one e-mail job per message, due after the delay (the worker sends it only if
    -- the other side has not read the thread that far by then: "not connected" seen from any process).
    message_emails AS (
      INSERT INTO notification_jobs (kind, key, business_id, payload, run_at)
      SELECT ${JobKind.MessageEmail}, ev.data -> 'message' ->> 'id', ev.business_id,
             jsonb_build_object('bookingId', ev.booking_id::text, 'messageId', ev.data -> 'message' ->> 'id', 'senderSide', ev.data -> 'message' ->> 'senderSide'),
             ${now.toISOString()}::timestamptz + make_interval(secs => ${messageEmailDelaySeconds})
      FROM ev WHERE ev.type = 'MESSAGE_POSTED' AND ev.data -> 'message' ->> 'id' IS NOT NULL
      ON CONFLICT (kind, key) DO NOTHING
      RETURNING id
    ),
    dropped AS (
      UPDATE notification_jobs SET status = 'dropped', version = version + 1, finished_at = ${now.toISOString()}::timestamptz
      WHERE kind IN (${JobKind.ReminderEmail}, ${JobKind.ReminderSms}) AND status = 'pending'
        AND key IN (SELECT l.booking_id::text FROM last_event l
                    WHERE NOT (l.type IN ('BOOKING_CREATED', 'BOOKING_RESCHEDULED') AND l.reminder_hours > 0 AND l.remind_at > l.occurred_at))
      RETURNING id
    )
    SELECT (SELECT count(*) FROM emails) AS emails, (SELECT count(*) FROM scheduled) AS scheduled, (SELECT count(*) FROM dropped) AS dropped,
      (SELECT count(*) FROM message_emails) AS message_emails`);
}

/** A thread message as its e-mail job needs it: its text, who wrote it, and whether the other side has read it since. */
export interface ThreadMessageForEmail {
  bookingId: string;
  body: string;
  senderSide: 'customer' | 'business';
  unread: boolean;
}

export async function findThreadMessageForEmail(db: Db, messageId: string): Promise<ThreadMessageForEmail | undefined> {
  const rows = await query<ThreadMessageForEmail>(db, 'findThreadMessageForEmail', sql`
    SELECT m.booking_id AS "bookingId", m.body, m.sender_side AS "senderSide",
      m.id > coalesce((SELECT r.last_read_message_id FROM message_thread_reads r
                       WHERE r.booking_id = m.booking_id AND r.side = CASE m.sender_side WHEN 'customer' THEN 'business' ELSE 'customer' END), 0) AS unread
    FROM messages m WHERE m.id = ${messageId}::bigint`);
  return rows[0];
}

/** What a booking message needs, read in one statement when it is sent. */
export interface BookingMessageContext {
  bookingId: string;
  status: string;
  startsAt: string;
  endsAt: string;
  businessId: string;
  businessName: string;
  timeZone: string;
  defaultLocale: string;
  customerId: string;
  customerName: string;
  customerEmail: string;
  customerPhone: string | null;
  customerLocale: string | null;
  remindersOptedOut: boolean;
  erased: boolean;
  serviceName: string;
  partnerName: string;
  /** E-mail addresses of the live partner memberships of `partnerId`'s partner. */
  partnerEmails: string[];
}

/** The booking, its business, customer, service and a partner (the event's; null: the booking's own) with its members' e-mails. */
export async function findBookingMessageContext(db: Db, bookingId: string, partnerId: string | null): Promise<BookingMessageContext | undefined> {
  const rows = await query<BookingMessageContext>(db, 'findBookingMessageContext', sql`
    SELECT bk.id AS "bookingId", upper(bk.status) AS status, bk.starts_at AS "startsAt", bk.ends_at AS "endsAt",
      b.id AS "businessId", b.name AS "businessName", b.time_zone AS "timeZone", b.default_locale AS "defaultLocale",
      c.id AS "customerId", c.name AS "customerName", c.email AS "customerEmail", c.phone AS "customerPhone", c.locale AS "customerLocale",
      c.reminders_opted_out_at IS NOT NULL AS "remindersOptedOut", c.erased_at IS NOT NULL AS erased,
      s.name AS "serviceName", p.name AS "partnerName",
      ARRAY(SELECT a.email FROM memberships m JOIN accounts a ON a.id = m.account_id
            WHERE m.business_id = bk.business_id AND m.partner_id = p.id AND m.role = 'partner' AND m.removed_at IS NULL
              AND a.email IS NOT NULL ORDER BY a.email) AS "partnerEmails"
    FROM bookings bk
    JOIN businesses b ON b.id = bk.business_id
    JOIN customers c ON c.id = bk.customer_id
    JOIN services s ON s.id = bk.service_id
    JOIN partners p ON p.id = coalesce(${partnerId}::bigint, bk.partner_id) AND p.business_id = bk.business_id
    WHERE bk.id = ${bookingId}::bigint`);
  return rows[0];
}
