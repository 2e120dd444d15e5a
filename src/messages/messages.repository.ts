import { sql } from 'kysely';
import { lateralPages, query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';
import type { MessageModel, MessageSide } from './message.model.js';

const MESSAGE_COLUMNS = sql.raw(
  `m.id, m.business_id AS "businessId", m.booking_id AS "bookingId", m.sender_side AS "senderSide", m.body, m.created_at AS "createdAt"`,
);

export function findMessagesByIds(db: Db, ids: readonly string[]): Promise<MessageModel[]> {
  return query(db, 'findMessagesByIds', sql`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.id = ANY(${ids}::bigint[])`);
}

/**
 * A page of each booking's thread, newest first, after a keyset cursor (created_at, id): one
 * statement for all the bookings, each an index range of messages_booking_history_idx.
 */
export function findMessagePagesByBookingIds(db: Db, bookingIds: readonly string[], args: { after: [string, string] | null; limit: number }): Promise<Map<string, MessageModel[]>> {
  const after = args.after ? sql`AND (m.created_at, m.id) < (${args.after[0]}::timestamptz, ${args.after[1]}::bigint)` : sql``;
  return lateralPages<MessageModel>(db, 'findMessagePagesByBookingIds', bookingIds, sql`
    SELECT ${MESSAGE_COLUMNS}, p.parent_id::text AS "parentId" FROM messages m
    WHERE m.booking_id = p.parent_id ${after}
    ORDER BY m.created_at DESC, m.id DESC LIMIT ${args.limit}`);
}

/**
 * Unread counts of (booking, side) pairs: the other side's messages after the side's read marker.
 * One statement for a page of bookings.
 */
export async function countUnreadMessages(db: Db, keys: ReadonlyArray<{ bookingId: string; side: MessageSide }>): Promise<Map<string, number>> {
  const rows = await query<{ bookingId: string; side: MessageSide; unread: string | number }>(db, 'countUnreadMessages', sql`
    SELECT k.booking_id::text AS "bookingId", k.side, (
      SELECT count(*) FROM messages m
      WHERE m.booking_id = k.booking_id AND m.sender_side <> k.side
        AND m.id > COALESCE((SELECT r.last_read_message_id FROM message_thread_reads r WHERE r.booking_id = k.booking_id AND r.side = k.side), 0)
    ) AS unread
    FROM unnest(${keys.map((k) => k.bookingId)}::bigint[], ${keys.map((k) => k.side)}::text[]) AS k(booking_id, side)`);
  return new Map(rows.map((r) => [`${r.side}:${r.bookingId}`, Number(r.unread)]));
}

// Writes: each runs inside the action's transaction, after the booking's row lock.

export async function insertMessage(trx: Trx, m: { businessId: string; bookingId: string; senderSide: MessageSide; sender: string; body: string }): Promise<MessageModel> {
  // clock_timestamp(), not now(): taken after the booking's lock, so a thread's order is its commit order.
  const [row] = await query<MessageModel>(trx, 'insertMessage', sql`
    INSERT INTO messages AS m (business_id, booking_id, sender_side, sender, body, created_at)
    VALUES (${m.businessId}::bigint, ${m.bookingId}::bigint, ${m.senderSide}, ${m.sender}, ${m.body}, clock_timestamp())
    RETURNING ${MESSAGE_COLUMNS}`);
  return row;
}

/** Moves a side's read marker to the thread's newest message (never back); one statement, none to write when the thread is empty. */
export async function markThreadRead(trx: Trx, args: { businessId: string; bookingId: string; side: MessageSide }): Promise<void> {
  await query(trx, 'markThreadRead', sql`
    INSERT INTO message_thread_reads AS r (business_id, booking_id, side, last_read_message_id)
    SELECT ${args.businessId}::bigint, ${args.bookingId}::bigint, ${args.side}, max(m.id) FROM messages m
    WHERE m.booking_id = ${args.bookingId}::bigint HAVING max(m.id) IS NOT NULL
    ON CONFLICT (booking_id, side) DO UPDATE SET last_read_message_id = GREATEST(r.last_read_message_id, EXCLUDED.last_read_message_id), read_at = now()`);
}
