/**
 * What the scenarios ask for, read from the database they run against (the suite's own small set or
 * one `npm run seed:large` loaded): businesses, their services and customers, dates ahead with free
 * slots, free slots to book, bookings to fetch by id. The choice is deterministic (the same set of
 * rows for the same data), so two runs on one data set ask the same questions.
 */
import pg from 'pg';
import { toGlobalId } from '../../src/shared/global-id.js';

export interface TargetBusiness {
  id: string;
  gid: string;
  slug: string;
  partners: number;
  /** Active services' global ids; the first is one slot long (the one booked). */
  services: string[];
  bookableServiceGid: string | null;
  customerGids: string[];
}

export interface FreeSlot {
  gid: string;
  businessId: string;
  serviceGid: string;
  customerGid: string;
}

export interface Dataset {
  counts: Record<string, number>;
  businesses: TargetBusiness[];
  /** Local dates (YYYY-MM-DD, the seeds are UTC) from tomorrow on with free slots. */
  dates: string[];
  /** Free slots 2+ days ahead (past the default 24 h cancellation window), spread over the businesses. */
  freeSlots: FreeSlot[];
  bookingGids: string[];
}

const q = async <T extends pg.QueryResultRow>(client: pg.Client, text: string, values: unknown[] = []) => (await client.query<T>(text, values)).rows;

/** `count` businesses: the one with the most partners first (a marketplace), then others spread evenly by id. */
export async function readDataset(databaseUrl: string, options: { businesses: number; freeSlots: number }): Promise<Dataset> {
  const client = new pg.Client({ connectionString: databaseUrl, options: '-c TimeZone=UTC' });
  await client.connect();
  try {
    const [counts] = await q<Record<string, string>>(client, `SELECT
      (SELECT count(*) FROM businesses) AS businesses, (SELECT count(*) FROM partners) AS partners,
      (SELECT count(*) FROM customers) AS customers, (SELECT count(*) FROM bookings) AS bookings,
      (SELECT count(*) FROM partner_slots) AS slots, (SELECT count(*) FROM payments) AS payments`);
    const all = await q<{ id: string; slug: string; partners: number }>(client, `
      SELECT b.id::text, b.slug, count(p.id)::int AS partners FROM businesses b JOIN partners p ON p.business_id = b.id
      WHERE b.deleted_at IS NULL GROUP BY b.id ORDER BY b.id`);
    if (!all.length) throw new Error('Expected businesses with partners in the database, found none: seed it (npm run seed:large) or let the suite seed its own.');
    const largest = all.reduce((a, b) => (b.partners > a.partners ? b : a));
    const rest = all.filter((b) => b !== largest);
    const spread = Array.from({ length: Math.min(options.businesses - 1, rest.length) }, (_, i) => rest[Math.floor((i * rest.length) / Math.max(1, options.businesses - 1))]);
    const chosen = [largest, ...spread];
    const ids = chosen.map((b) => b.id);
    const services = await q<{ business_id: string; id: string; slots: number }>(client, `
      SELECT s.business_id::text, s.id::text, (s.duration_minutes / b.slot_minutes)::int AS slots
      FROM services s JOIN businesses b ON b.id = s.business_id
      WHERE s.business_id = ANY($1::bigint[]) AND s.is_active ORDER BY s.id`, [ids]);
    const customers = await q<{ business_id: string; id: string }>(client, `
      SELECT c.business_id::text, c.id::text FROM unnest($1::bigint[]) AS t(bid)
      CROSS JOIN LATERAL (SELECT business_id, id FROM customers WHERE business_id = t.bid ORDER BY id LIMIT 20) c`, [ids]);
    const businesses: TargetBusiness[] = chosen.map((b) => {
      const own = services.filter((s) => s.business_id === b.id);
      const single = own.find((s) => s.slots === 1);
      return {
        id: b.id,
        gid: toGlobalId('Business', b.id),
        slug: b.slug,
        partners: b.partners,
        services: own.map((s) => toGlobalId('Service', s.id)),
        bookableServiceGid: single ? toGlobalId('Service', single.id) : null,
        customerGids: customers.filter((c) => c.business_id === b.id).map((c) => toGlobalId('Customer', c.id)),
      };
    });
    const dates = (await q<{ d: string }>(client, `
      SELECT DISTINCT to_char(slot_start, 'YYYY-MM-DD') AS d FROM partner_slots
      WHERE business_id = ANY($1::bigint[]) AND status = 'available' AND slot_start >= date_trunc('day', now()) + interval '1 day'
      ORDER BY d LIMIT 7`, [ids])).map((r) => r.d);
    // Free slots of the bookable businesses, round-robin over them, then over partners and time.
    const bookable = businesses.filter((b) => b.bookableServiceGid && b.customerGids.length);
    const perBusiness = Math.ceil(options.freeSlots / Math.max(1, bookable.length));
    const slots = await q<{ id: string; business_id: string; rank: number }>(client, `
      SELECT id::text, business_id::text, rank FROM (
        SELECT s.id, s.business_id, row_number() OVER (PARTITION BY s.business_id ORDER BY s.slot_start, s.partner_id) AS rank
        FROM partner_slots s
        WHERE s.business_id = ANY($1::bigint[]) AND s.status = 'available' AND s.hold_id IS NULL
          AND s.slot_start >= date_trunc('day', now()) + interval '2 days'
      ) ranked WHERE rank <= $2 ORDER BY rank, business_id`, [bookable.map((b) => b.id), perBusiness]);
    const byId = new Map(bookable.map((b) => [b.id, b]));
    const freeSlots = slots.slice(0, options.freeSlots).map((s, i) => {
      const b = byId.get(s.business_id)!;
      return { gid: toGlobalId('Slot', s.id), businessId: b.id, serviceGid: b.bookableServiceGid!, customerGid: b.customerGids[i % b.customerGids.length] };
    });
    // 200 bookings spread evenly over the id range.
    const [range] = await q<{ lo: string; hi: string }>(client, `SELECT min(id)::text AS lo, max(id)::text AS hi FROM bookings`);
    const lo = Number(range.lo ?? 0), hi = Number(range.hi ?? 0);
    const wanted = Array.from({ length: 200 }, (_, i) => String(Math.round(lo + ((hi - lo) * i) / 199)));
    const bookingGids = (await q<{ id: string }>(client, `SELECT id::text FROM bookings WHERE id = ANY($1::bigint[]) AND deleted_at IS NULL`, [wanted])).map((r) => toGlobalId('Booking', r.id));
    return { counts: Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Number(v)])), businesses, dates, freeSlots, bookingGids };
  } finally {
    await client.end();
  }
}
