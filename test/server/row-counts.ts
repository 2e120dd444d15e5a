import { sql } from 'kysely';
import type { Db } from '../../src/db/sql-helpers.js';

/** Tables whose row counts say whether a request changed anything (the relay's own row aside). */
const TABLES = [
  'businesses', 'services', 'partners', 'customers', 'partner_slots', 'bookings', 'payments', 'audit_logs',
  'partner_weekly_hours', 'partner_schedule_exceptions', 'slot_holds', 'idempotency_keys', 'processed_payment_events',
  'booking_events', 'webhook_endpoints', 'webhook_deliveries',
] as const;

/**
 * Row counts of every table, and a fingerprint of the rows a refused request could have changed
 * in place (slot statuses, partners' counts, bookings' states), in one statement. Meaningful on a
 * database of the test file alone (startTestApi({ isolated: true })).
 */
export async function databaseFingerprint(db: Db): Promise<Record<string, string>> {
  const counts = TABLES.map((table) => sql<string>`(SELECT count(*) FROM ${sql.table(table)})::text`.as(table));
  const { rows } = await sql<Record<string, string>>`SELECT ${sql.join(counts)},
    (SELECT coalesce(md5(string_agg(id || ':' || status || ':' || coalesce(booking_id::text, ''), ',' ORDER BY id)), '') FROM partner_slots) AS slot_states,
    (SELECT coalesce(md5(string_agg(id || ':' || is_active || ':' || active_booking_count, ',' ORDER BY id)), '') FROM partners) AS partner_states,
    (SELECT coalesce(md5(string_agg(id || ':' || status || ':' || starts_at || ':' || partner_id, ',' ORDER BY id)), '') FROM bookings) AS booking_states`.execute(db);
  return rows[0];
}

/** Pairs of live bookings of one partner that overlap: must always be none. */
export async function overlappingLiveBookings(db: Db): Promise<number> {
  const { rows } = await sql<{ n: string }>`SELECT count(*)::text AS n FROM bookings a JOIN bookings b
    ON a.partner_id = b.partner_id AND a.id < b.id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
    WHERE a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')`.execute(db);
  return Number(rows[0].n);
}
