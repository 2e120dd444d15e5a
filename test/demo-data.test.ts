import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { connectDatabase, type DatabaseHandle } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { Database } from '../src/db/tables.js';
import { generateSlots } from '../src/schedules/slot-generator.js';
import { DEMO_SLUGS } from '../src/seed/demo-businesses.js';
import { seedDemoData, type DemoSummary } from '../src/seed/demo-data.js';
import { onRealPostgres, openIsolatedTestDatabase } from './support/database.js';

const BOOKING_STATUSES = ['pending', 'confirmed', 'cancelled', 'completed', 'no_show'];
const TABLES = ['services', 'partners', 'customers', 'bookings', 'partner_slots', 'payments', 'audit_logs'] as const;

/** Row counts per table, limited to the given businesses: a shared PostgreSQL may hold other tests' data. */
async function countRows(db: Kysely<Database>, businessIds: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    const { rows } = await sql<{ n: string }>`
      SELECT count(*) AS n FROM ${sql.table(table)} WHERE business_id IN (${sql.join(businessIds)})`.execute(db);
    counts[table] = Number(rows[0].n);
  }
  const { rows } = await sql<{ n: string }>`
    SELECT count(*) AS n FROM businesses WHERE slug IN (${sql.join([...DEMO_SLUGS])})`.execute(db);
  counts.businesses = Number(rows[0].n);
  return counts;
}

describe('seedDemoData', () => {
  let handle: DatabaseHandle;
  let db: Kysely<Database>;
  let summary: DemoSummary;
  let ids: string[];
  // Every query below is limited to the demo businesses (`IN (${inDemo()})`).
  const inDemo = () => sql.join(ids);

  beforeAll(async () => {
    handle = await connectDatabase({ databaseUrl: process.env.DATABASE_URL });
    db = handle.db;
    await migrateToLatest(db);
    summary = await seedDemoData(db);
    ids = summary.businesses.map((b) => b.id);
  }, 60_000);

  afterAll(async () => {
    await handle?.close();
  });

  it('creates one business per kind, each with its own time zone and currency', async () => {
    expect(summary.businesses.map((b) => b.slug)).toEqual([...DEMO_SLUGS]);
    const { rows } = await sql<{ slug: string; kind: string; time_zone: string; currency: string }>`
      SELECT slug, kind, time_zone, currency FROM businesses WHERE id IN (${inDemo()})`.execute(db);
    expect(rows).toHaveLength(5);
    expect(new Set(rows.map((r) => r.kind)).size).toBe(5);
    expect(new Set(rows.map((r) => r.time_zone)).size).toBe(5);
    expect(new Set(rows.map((r) => r.currency)).size).toBe(5);
    expect(Object.fromEntries(rows.map((r) => [r.slug, r.kind]))).toEqual({
      'urban-fix': 'marketplace',
      'glow-studio': 'salon',
      'green-light-driving': 'driving_school',
      'north-end-barbers': 'barber_shop',
      'clear-mind-clinic': 'appointments',
    });
  });

  it('summarises exactly the partners and customers in the database', async () => {
    for (const business of summary.businesses) {
      const partners = await db
        .selectFrom('partners')
        .select('id')
        .where('business_id', '=', business.id)
        .orderBy('id')
        .execute();
      const customers = await db
        .selectFrom('customers')
        .select('id')
        .where('business_id', '=', business.id)
        .orderBy('id')
        .execute();
      expect(business.partnerIds).toEqual(partners.map((p) => p.id));
      expect(business.customerIds).toEqual(customers.map((c) => c.id));
      expect(business.partnerIds.length).toBeGreaterThanOrEqual(3);
      expect(business.partnerIds.length).toBeLessThanOrEqual(5);
      expect(business.customerIds.length).toBeGreaterThanOrEqual(6);
      expect(business.customerIds.length).toBeLessThanOrEqual(10);
    }
  });

  it('has services in half-hour multiples, one inactive service and partner, and a two-city marketplace', async () => {
    const services = await db.selectFrom('services').selectAll().where('business_id', 'in', ids).execute();
    expect(services.every((s) => s.duration_minutes % 30 === 0)).toBe(true);
    expect(services.some((s) => s.duration_minutes === 90)).toBe(true);
    expect(services.filter((s) => !s.is_active)).toHaveLength(1);
    const partners = await db.selectFrom('partners').selectAll().where('business_id', 'in', ids).execute();
    expect(partners.filter((p) => !p.is_active)).toHaveLength(1);
    const marketplace = summary.businesses.find((b) => b.kind === 'marketplace')!;
    const cities = new Set(partners.filter((p) => p.business_id === marketplace.id).map((p) => p.city));
    expect(cities.size).toBe(2);
  });

  it('has bookings of every status in every business', async () => {
    const { rows } = await sql<{ business_id: string; statuses: string[]; n: string }>`
      SELECT business_id, array_agg(DISTINCT status ORDER BY status) AS statuses, count(*) AS n
      FROM bookings WHERE business_id IN (${inDemo()}) GROUP BY business_id`.execute(db);
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      expect(row.statuses).toEqual([...BOOKING_STATUSES].sort());
      expect(Number(row.n)).toBeGreaterThanOrEqual(20);
      expect(Number(row.n)).toBeLessThanOrEqual(40);
    }
  });

  it('prices bookings at the service price in the business currency, in the past or future by status', async () => {
    const { rows } = await sql<{ bad: string }>`
      SELECT count(*) AS bad
      FROM bookings bk
      JOIN services s ON s.id = bk.service_id
      JOIN businesses b ON b.id = bk.business_id
      WHERE bk.business_id IN (${inDemo()})
        AND (bk.total_cents <> s.price_cents OR bk.currency <> b.currency
          OR (bk.status IN ('completed', 'no_show') AND bk.ends_at > now())
          OR (bk.status IN ('pending', 'confirmed') AND bk.starts_at < bk.created_at)
          OR ((bk.status = 'cancelled') <> (bk.cancel_reason IS NOT NULL)))`.execute(db);
    expect(Number(rows[0].bad)).toBe(0);
  });

  it('links every booked slot to a booking of the same partner and business, and no other slot to any', async () => {
    const { rows } = await sql<{
      orphan: string;
      mismatched: string;
      cancelled_holder: string;
      unbooked_linked: string;
    }>`
      SELECT
        count(*) FILTER (WHERE s.status = 'booked' AND bk.id IS NULL) AS orphan,
        count(*) FILTER (WHERE s.status = 'booked'
          AND (bk.partner_id <> s.partner_id OR bk.business_id <> s.business_id)) AS mismatched,
        count(*) FILTER (WHERE bk.status = 'cancelled') AS cancelled_holder,
        count(*) FILTER (WHERE s.status <> 'booked' AND s.booking_id IS NOT NULL) AS unbooked_linked
      FROM partner_slots s
      LEFT JOIN bookings bk ON bk.id = s.booking_id
      WHERE s.business_id IN (${inDemo()})`.execute(db);
    expect(rows[0]).toEqual({ orphan: '0', mismatched: '0', cancelled_holder: '0', unbooked_linked: '0' });
  });

  it('covers each slot-holding booking exactly with its slots', async () => {
    const { rows } = await sql<{ id: string; status: string; ok: boolean }>`
      SELECT bk.id, bk.status,
             coalesce(sum(s.slot_end - s.slot_start) = bk.ends_at - bk.starts_at
                      AND min(s.slot_start) = bk.starts_at AND max(s.slot_end) = bk.ends_at, false) AS ok
      FROM bookings bk
      LEFT JOIN partner_slots s ON s.booking_id = bk.id
      WHERE bk.business_id IN (${inDemo()}) AND bk.status <> 'cancelled'
      GROUP BY bk.id`.execute(db);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((r) => !r.ok)).toEqual([]);
    const cancelled = await sql<{ n: string }>`
      SELECT count(*) AS n FROM bookings bk JOIN partner_slots s ON s.booking_id = bk.id
      WHERE bk.business_id IN (${inDemo()}) AND bk.status = 'cancelled'`.execute(db);
    expect(cancelled.rows[0].n).toBe('0');
  });

  it('keeps active_booking_count equal to the pending and confirmed bookings of each partner', async () => {
    const { rows } = await sql<{ id: string; active_booking_count: number; actual: string }>`
      SELECT p.id, p.active_booking_count,
             (SELECT count(*) FROM bookings bk WHERE bk.partner_id = p.id
                AND bk.status IN ('pending', 'confirmed') AND bk.deleted_at IS NULL) AS actual
      FROM partners p WHERE p.business_id IN (${inDemo()})`.execute(db);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect({ id: row.id, count: row.active_booking_count }).toEqual({ id: row.id, count: Number(row.actual) });
    }
    expect(rows.some((r) => r.active_booking_count > 0)).toBe(true);
  });

  it('lays out half-hour slots Monday to Saturday, 09:00-17:00 local, last week and the next two', async () => {
    const { rows } = await sql<{ bad: string; past: string; future: string }>`
      SELECT
        count(*) FILTER (WHERE s.slot_end - s.slot_start <> interval '30 minutes'
          OR (s.slot_start AT TIME ZONE b.time_zone)::time NOT BETWEEN '09:00' AND '16:30'
          OR extract(isodow FROM s.slot_start AT TIME ZONE b.time_zone) = 7) AS bad,
        count(*) FILTER (WHERE s.slot_start < now() - interval '5 days') AS past,
        count(*) FILTER (WHERE s.slot_start > now() + interval '10 days') AS future
      FROM partner_slots s JOIN businesses b ON b.id = s.business_id
      WHERE s.business_id IN (${inDemo()})`.execute(db);
    expect(rows[0].bad).toBe('0');
    expect(Number(rows[0].past)).toBeGreaterThan(0);
    expect(Number(rows[0].future)).toBeGreaterThan(0);
  });

  it('gives every partner the weekly hours its slots come from, so the generator would make exactly those slots', async () => {
    const hours = await sql<{ partnerId: string; days: number[]; start: string; end: string; timeZone: string; from: string }>`
      SELECT h.partner_id AS "partnerId", array_agg(h.day_of_week ORDER BY h.day_of_week) AS days,
             min(to_char(h.start_time, 'HH24:MI')) AS start, max(to_char(h.end_time, 'HH24:MI')) AS "end",
             b.time_zone AS "timeZone", to_char(min(h.effective_from), 'YYYY-MM-DD') AS "from"
      FROM partner_weekly_hours h JOIN businesses b ON b.id = h.business_id
      WHERE h.business_id IN (${inDemo()}) GROUP BY h.partner_id, b.time_zone ORDER BY h.partner_id`.execute(db);
    const partnerIds = summary.businesses.flatMap((b) => b.partnerIds).sort((a, b) => Number(a) - Number(b));
    expect(hours.rows.map((r) => r.partnerId)).toEqual(partnerIds);
    for (const row of hours.rows) expect({ days: row.days.map(Number), start: row.start, end: row.end }).toEqual({ days: [1, 2, 3, 4, 5, 6], start: '09:00', end: '17:00' });

    // For one partner of each business: the slots the generator makes from these hours over the
    // seeded fortnight are exactly the seeded slots' starts (whatever their status).
    for (const business of summary.businesses) {
      const row = hours.rows.find((r) => r.partnerId === business.partnerIds[0])!;
      const weekly = [1, 2, 3, 4, 5, 6].map((dayOfWeek) => ({ dayOfWeek, startMinute: 540, endMinute: 1020, effectiveFrom: row.from, effectiveTo: null }));
      const to = new Date(Date.parse(`${row.from}T12:00:00Z`) + 20 * 86_400_000).toISOString().slice(0, 10);
      const generated = generateSlots({ timeZone: row.timeZone, slotMinutes: 30, from: row.from, to, weekly, overrides: [] }).map((slot) => new Date(slot.start).toISOString());
      const seeded = await sql<{ start: string }>`
        SELECT slot_start AS start FROM partner_slots
        WHERE partner_id = ${row.partnerId}::bigint AND slot_start <= ${generated.at(-1)!}::timestamptz ORDER BY slot_start`.execute(db);
      expect(seeded.rows.map((r) => new Date(r.start).toISOString())).toEqual(generated);
    }
  });

  it('records payments of every status, and a succeeded one for every confirmed or completed booking', async () => {
    const { rows } = await sql<{ status: string }>`
      SELECT DISTINCT status FROM payments WHERE business_id IN (${inDemo()})`.execute(db);
    expect(rows.map((r) => r.status).sort()).toEqual(['failed', 'pending', 'refunded', 'succeeded']);
    const unpaid = await sql<{ n: string }>`
      SELECT count(*) AS n FROM bookings bk
      WHERE bk.business_id IN (${inDemo()}) AND bk.status IN ('confirmed', 'completed')
        AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.booking_id = bk.id AND p.status = 'succeeded'
                          AND p.amount_cents = bk.total_cents AND p.currency = bk.currency)`.execute(db);
    expect(unpaid.rows[0].n).toBe('0');
  });

  it('gives glow-studio Japanese names beside its English ones, for the business and each of its services', async () => {
    const glow = summary.businesses.find((b) => b.slug === 'glow-studio')!.id;
    const business = await db.selectFrom('business_translations').select(['locale', 'name']).where('business_id', '=', glow).execute();
    expect(business).toEqual([{ locale: 'ja', name: 'グロー・スタジオ' }]);
    const services = await sql<{ name: string; ja: string | null }>`
      SELECT s.name, t.name AS ja FROM services s LEFT JOIN service_translations t ON t.service_id = s.id AND t.locale = 'ja'
      WHERE s.business_id = ${glow}::bigint ORDER BY s.name`.execute(db);
    expect(services.rows.length).toBeGreaterThan(0);
    expect(services.rows.filter((r) => r.ja === null)).toEqual([]);
  });

  it('writes one audit row per business', async () => {
    const rows = await db
      .selectFrom('audit_logs')
      .select(['business_id', 'entity_id'])
      .where('business_id', 'in', ids)
      .where('entity', '=', 'business')
      .where('action', '=', 'seeded')
      .where('actor', '=', 'system:seed')
      .execute();
    expect(rows.map((r) => r.business_id).sort()).toEqual([...ids].sort());
    expect(rows.every((r) => r.entity_id === r.business_id)).toBe(true);
  });

  it('onboards every business, service, partner and customer through the actions the mutations use', async () => {
    const audited = await sql<{ action: string; n: string }>`
      SELECT action, count(*) AS n FROM audit_logs
      WHERE business_id IN (${inDemo()}) AND actor = 'system:seed' AND action LIKE '%.created'
      GROUP BY action ORDER BY action`.execute(db);
    const live = async (table: 'services' | 'partners' | 'customers') =>
      Number((await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(table)} WHERE business_id IN (${inDemo()})`.execute(db)).rows[0].n);
    expect(audited.rows.map((r) => [r.action, Number(r.n)])).toEqual([
      ['business.created', 5],
      ['customer.created', await live('customers')],
      ['invitation.created', 10],
      ['membership.created', 10],
      ['partner.created', await live('partners')],
      ['service.created', await live('services')],
    ]);
    // businessCreate made the demo owner's account the owner, and staff and the first partner joined
    // by accepting an invitation (seedDemoAccounts has not run here).
    const members = await sql<{ slug: string; role: string; subject: string; partner_id: string | null; invited: boolean }>`
      SELECT b.slug, m.role, a.subject, m.partner_id::text AS partner_id,
             EXISTS (SELECT 1 FROM invitations i WHERE i.membership_id = m.id AND i.accepted_at IS NOT NULL) AS invited
      FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN businesses b ON b.id = m.business_id
      WHERE m.business_id IN (${inDemo()}) ORDER BY b.slug, m.role`.execute(db);
    expect(members.rows).toEqual([...DEMO_SLUGS].sort().flatMap((slug) => [
      { slug, role: 'owner', subject: `demo-owner-${slug}`, partner_id: null, invited: false },
      { slug, role: 'partner', subject: `demo-partner-${slug}`, partner_id: summary.businesses.find((b) => b.slug === slug)!.partnerIds[0], invited: true },
      { slug, role: 'staff', subject: `demo-staff-${slug}`, partner_id: null, invited: true },
    ]));
    // partnerCreate without serviceIds: each partner performs every service of its business.
    const { rows } = await sql<{ missing: string }>`
      SELECT count(*) AS missing FROM partners p JOIN services s ON s.business_id = p.business_id
      WHERE p.business_id IN (${inDemo()})
        AND NOT EXISTS (SELECT 1 FROM partner_services ps WHERE ps.partner_id = p.id AND ps.service_id = s.id)`.execute(db);
    expect(Number(rows[0].missing)).toBe(0);
  });

  it('dates the catalog before the history: no booking older than its business, service, partner or customer', async () => {
    const { rows } = await sql<{ bad: string }>`
      SELECT count(*) AS bad FROM bookings bk
      JOIN businesses b ON b.id = bk.business_id JOIN services s ON s.id = bk.service_id
      JOIN partners p ON p.id = bk.partner_id JOIN customers c ON c.id = bk.customer_id
      WHERE bk.business_id IN (${inDemo()})
        AND bk.created_at < GREATEST(b.created_at, s.created_at, p.created_at, c.created_at)`.execute(db);
    expect(Number(rows[0].bad)).toBe(0);
  });

  it('does nothing when called again', async () => {
    const before = await countRows(db, ids);
    const statements = handle.statementCount();
    const again = await seedDemoData(db);
    expect(handle.statementCount() - statements).toBeLessThanOrEqual(3);
    expect(again).toEqual(summary);
    expect(await countRows(db, ids)).toEqual(before);
  });
});

describe.runIf(onRealPostgres)('seedDemoData from two starts at once', () => {
  let handle: (DatabaseHandle & { url: string | undefined }) | undefined;
  afterAll(async () => {
    await handle?.close();
  });

  it('leaves one set of demo data, and both get its summary', async () => {
    handle = await openIsolatedTestDatabase();
    // Two transactions on two connections: the loser's businessCreate waits on the slug index and
    // finds urban-fix taken (a SLUG_TAKEN abort), or it starts late and finds the data there.
    const [first, second] = await Promise.all([seedDemoData(handle.db), seedDemoData(handle.db)]);
    expect(second).toEqual(first);
    const ids = first.businesses.map((b) => b.id);
    expect(ids).toHaveLength(5);
    const counts = await countRows(handle.db, ids);
    expect(counts.businesses).toBe(5);
    const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM businesses`.execute(handle.db);
    expect(Number(rows[0].n)).toBe(5);
  }, 120_000);
});

describe('seedDemoData across a DST change', () => {
  // Always a private in-memory database: a fixed `now` in spring 2026 puts Europe's switch
  // (29 March) and Sydney's (5 April) inside the seeded range.
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await connectDatabase({});
    await migrateToLatest(handle.db);
    await seedDemoData(handle.db, { now: new Date('2026-03-26T12:00:00Z') });
  }, 60_000);
  afterAll(async () => {
    await handle?.close();
  });

  it('keeps opening hours in local time on both sides of the switch', async () => {
    const { rows } = await sql<{
      slug: string;
      first: string;
      last: string;
      min_n: string;
      max_n: string;
      days: string;
    }>`
      WITH per_day AS (
        SELECT b.slug, s.partner_id, (s.slot_start AT TIME ZONE b.time_zone)::date AS day, count(*) AS n,
               min((s.slot_start AT TIME ZONE b.time_zone)::time) AS first,
               max((s.slot_end AT TIME ZONE b.time_zone)::time) AS last
        FROM partner_slots s JOIN businesses b ON b.id = s.business_id
        GROUP BY 1, 2, 3
      )
      SELECT slug, min(first)::text AS first, max(last)::text AS last, min(n) AS min_n, max(n) AS max_n,
             count(DISTINCT day) AS days
      FROM per_day GROUP BY slug`.execute(handle.db);
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      expect({ slug: row.slug, first: row.first, last: row.last, min: row.min_n, max: row.max_n }).toEqual({
        slug: row.slug,
        first: '09:00:00',
        last: '17:00:00',
        min: '16',
        max: '16',
      });
      // 2026-03-19 .. 2026-04-08, Sundays excluded.
      expect(row.days).toBe('18');
    }
  });

  it('places bookings in opening hours, on the slots that cover them, across the switch', async () => {
    const { rows } = await sql<{ bad: string }>`
      SELECT count(*) AS bad FROM bookings bk JOIN businesses b ON b.id = bk.business_id
      WHERE (bk.starts_at AT TIME ZONE b.time_zone)::time < '09:00'
         OR (bk.ends_at AT TIME ZONE b.time_zone)::time > '17:00'
         OR (bk.status <> 'cancelled' AND (bk.ends_at - bk.starts_at) IS DISTINCT FROM
              (SELECT sum(s.slot_end - s.slot_start) FROM partner_slots s
               WHERE s.booking_id = bk.id AND s.slot_start >= bk.starts_at AND s.slot_end <= bk.ends_at))
    `.execute(handle.db);
    expect(rows[0].bad).toBe('0');
  });
});
