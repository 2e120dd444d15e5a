import { sql } from 'kysely';
import { query, type Db } from '../db/sql-helpers.js';

/** A booking as the CSV export writes it: one row, names and money joined in. */
export interface BookingExportRow {
  id: string;
  startsAt: string;
  endsAt: string;
  localDate: string;
  status: string;
  partnerName: string;
  serviceName: string;
  customerName: string;
  customerEmail: string;
  totalCents: number;
  currency: string;
  capturedCents: number;
  refundedCents: number;
  cancelReason: string | null;
  createdAt: string;
}

export interface BookingExportPageArgs {
  businessId: string;
  timeZone: string;
  /** Local dates, inclusive. */
  from: string;
  to: string;
  /** The last row of the previous page (start, id), or null for the first page. */
  after: { startsAt: string; id: string } | null;
  limit: number;
}

/**
 * One page of a business's bookings starting between two local dates, in (start, id) order from a
 * keyset cursor, through bookings_business_starts_idx: each page costs what it returns, however
 * deep into the range it is. Payments are summed per booking like the stats rollups count them.
 */
export function findBookingExportPage(db: Db, args: BookingExportPageArgs): Promise<BookingExportRow[]> {
  const after = args.after === null ? sql`TRUE` : sql`(bk.starts_at, bk.id) > (${args.after.startsAt}::timestamptz, ${args.after.id}::bigint)`;
  return query<BookingExportRow>(db, 'findBookingExportPage', sql`
    SELECT bk.id::text AS id, bk.starts_at AS "startsAt", bk.ends_at AS "endsAt",
      to_char(bk.starts_at AT TIME ZONE ${args.timeZone}, 'YYYY-MM-DD') AS "localDate", upper(bk.status) AS status,
      pa.name AS "partnerName", sv.name AS "serviceName", cu.name AS "customerName", cu.email AS "customerEmail",
      bk.total_cents AS "totalCents", bk.currency, COALESCE(pay.captured, 0)::float8 AS "capturedCents", COALESCE(pay.refunded, 0)::float8 AS "refundedCents",
      bk.cancel_reason AS "cancelReason", bk.created_at AS "createdAt"
    FROM bookings bk
    JOIN partners pa ON pa.id = bk.partner_id
    JOIN services sv ON sv.id = bk.service_id
    JOIN customers cu ON cu.id = bk.customer_id
    LEFT JOIN LATERAL (
      SELECT sum(py.amount_cents) AS captured,
        sum(CASE WHEN py.status = 'refunded' THEN GREATEST(py.amount_refunded_cents, py.amount_cents) ELSE py.amount_refunded_cents END) AS refunded
      FROM payments py WHERE py.booking_id = bk.id AND py.status IN ('succeeded', 'refunded')
    ) pay ON true
    WHERE bk.business_id = ${args.businessId}::bigint AND bk.deleted_at IS NULL
      AND bk.starts_at >= (${args.from}::date::timestamp AT TIME ZONE ${args.timeZone})
      AND bk.starts_at < ((${args.to}::date + 1)::timestamp AT TIME ZONE ${args.timeZone})
      AND ${after}
    ORDER BY bk.starts_at, bk.id
    LIMIT ${args.limit}`);
}
