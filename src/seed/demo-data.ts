import { sql, type Kysely } from 'kysely';
import type { Database, PaymentStatusColumn } from '../db/tables.js';
import type { Trx } from '../shared/transaction.js';
import { UserErrorAbort } from '../shared/user-errors.js';
import { BUSINESSES, CANCEL_REASONS, DEMO_SLUGS, FIRST_SLOT_HOUR, FUTURE_DAYS, PAST_DAYS, SATURDAY_BLOCKED_FROM, SLOTS_PER_DAY, type BusinessSpec } from './demo-businesses.js';
import { planBookings } from './demo-planner.js';
import { onboardDemoBusinesses, type OnboardedBusiness } from './demo-onboarding.js';
import { translateDemoCatalog } from './demo-translations.js';

export interface DemoSummary {
  businesses: Array<{ id: string; slug: string; kind: string; partnerIds: string[]; customerIds: string[] }>;
}

async function readSummary(db: Kysely<Database>): Promise<DemoSummary> {
  const rows = await db
    .selectFrom('businesses as b')
    .select([
      'b.id',
      'b.slug',
      'b.kind',
      sql<string[]>`ARRAY(SELECT p.id::text FROM partners p WHERE p.business_id = b.id ORDER BY p.id)`.as(
        'partnerIds',
      ),
      sql<string[]>`ARRAY(SELECT c.id::text FROM customers c
        WHERE c.business_id = b.id AND c.deleted_at IS NULL ORDER BY c.id)`.as('customerIds'),
    ])
    .where('b.slug', 'in', [...DEMO_SLUGS])
    .execute();
  const order = (slug: string) => DEMO_SLUGS.indexOf(slug as (typeof DEMO_SLUGS)[number]);
  return { businesses: rows.sort((a, b) => order(a.slug) - order(b.slug)) };
}

class AlreadySeeded extends Error {
  constructor(readonly summary: DemoSummary) {
    super('demo data already present');
  }
}

/**
 * Fills an empty, migrated database with five demo businesses (one per kind) in one transaction.
 * Safe to call at every start: if `urban-fix` exists, nothing is written and the existing data is summarised.
 * All times are relative to `options.now`: past bookings in the previous week, future ones in the next two.
 */
export async function seedDemoData(db: Kysely<Database>, options: { now?: Date } = {}): Promise<DemoSummary> {
  const now = options.now ?? new Date();
  const nowIso = now.toISOString();
  const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000).toISOString();

  try {
    return await db.transaction().execute(async (trx) => {
      const existing = await readSummary(trx);
      if (existing.businesses.some((b) => b.slug === 'urban-fix')) throw new AlreadySeeded(existing);
      // Months of slots in one transaction: longer than a request's statement timeout may allow.
      await sql`SET LOCAL statement_timeout = 0`.execute(trx);

      // Businesses, services, partners (and what they perform) and customers go through onboarding's
      // own steps; what follows them (bookings, slots, hours, payments) is history, written in bulk.
      const onboarded = await onboardDemoBusinesses(trx, BUSINESSES);
      const bySlug = new Map(onboarded.map((b) => [b.spec.slug, b]));
      const idOf = (spec: BusinessSpec) => bySlug.get(spec.slug)!.id;
      const businessIds = onboarded.map((b) => b.id);
      await backdateCatalog(trx, onboarded, hoursAgo);

      // "Today" is computed by PostgreSQL, with the same tz database as the slot series below.
      const todays = await trx
        .selectFrom('businesses')
        .select(['id', sql<string>`((${nowIso}::timestamptz AT TIME ZONE time_zone)::date)::text`.as('today')])
        .where('id', 'in', businessIds)
        .execute();
      const todayOf = new Map(todays.map((row) => [row.id, row.today]));
      const plans = new Map(BUSINESSES.map((spec, i) => [spec.slug, planBookings(spec, i, todayOf.get(idOf(spec))!)]));

      await translateDemoCatalog(trx, onboarded.map((b) => ({ id: b.id, spec: b.spec, serviceIdOf: (name) => b.serviceIds.get(name)! })));

      let cancelIndex = 0;
      const bookingRows = await trx
        .insertInto('bookings')
        .values(
          BUSINESSES.flatMap((spec) => {
            const { id: bid, serviceIds, partnerIds, customerIds } = bySlug.get(spec.slug)!;
            const at = (local: string) => sql<string>`(${local}::timestamp AT TIME ZONE ${spec.timeZone})`;
            return plans.get(spec.slug)!.map((b) => {
              const service = spec.services[b.service];
              const closed = b.status === 'completed' || b.status === 'no_show';
              return {
                business_id: bid,
                customer_id: customerIds.get(spec.customers[b.customer][1])!,
                partner_id: partnerIds.get(spec.partners[b.partner].name)!,
                service_id: serviceIds.get(service.name)!,
                starts_at: at(b.localStart),
                ends_at: at(b.localEnd),
                status: b.status,
                cancel_reason: b.status === 'cancelled' ? CANCEL_REASONS[cancelIndex++ % CANCEL_REASONS.length] : null,
                total_cents: service.priceCents,
                currency: spec.currency,
                created_at: hoursAgo(b.createdHoursAgo),
                updated_at: closed
                  ? sql<string>`(${b.localEnd}::timestamp AT TIME ZONE ${spec.timeZone}) + interval '1 hour'`
                  : b.status === 'pending'
                    ? hoursAgo(b.createdHoursAgo)
                    : hoursAgo(b.createdHoursAgo - 2),
                deleted_at: null,
              };
            });
          }),
        )
        .returning(['id', 'business_id', 'status', 'total_cents', 'currency', 'created_at', 'updated_at'])
        .execute();

      // The bookings are history, written in bulk, so the counter the booking actions keep is set from them.
      await sql`UPDATE partners p SET active_booking_count = c.n
        FROM (SELECT partner_id, count(*)::int AS n FROM bookings
              WHERE business_id IN (${sql.join(businessIds)}) AND status IN ('pending', 'confirmed') AND deleted_at IS NULL
              GROUP BY partner_id) c
        WHERE p.id = c.partner_id`.execute(trx);

      // Slots are inserted after the bookings so each slot is born 'booked' by the booking covering it:
      // one statement, no UPDATE pass. Each day's local wall-clock times are turned into instants
      // separately, so 09:00 stays 09:00 across DST changes. The tables are too new to have
      // statistics: the grid is materialized, or the planner joins bookings on business_id alone and
      // re-evaluates AT TIME ZONE for every candidate pair; and the series have constant bounds, whose
      // sizes the planner knows, or it guesses millions of rows and PostgreSQL JIT-compiles the query.
      const slotCounts = await sql<{ business_id: string; slots: string }>`
        WITH grid AS MATERIALIZED (
          SELECT p.business_id, p.id AS partner_id, s.slot_start,
                 extract(isodow FROM d.day) = 6 AND k.n >= ${SATURDAY_BLOCKED_FROM}::int AS blocked
          FROM partners p
          JOIN businesses b ON b.id = p.business_id
          CROSS JOIN generate_series(${-PAST_DAYS}::int, ${FUTURE_DAYS - 1}::int) AS o(day_offset)
          CROSS JOIN LATERAL (
            SELECT ((${nowIso}::timestamptz AT TIME ZONE b.time_zone)::date + o.day_offset)::timestamp
          ) AS d(day)
          CROSS JOIN generate_series(0, ${SLOTS_PER_DAY - 1}::int) AS k(n)
          CROSS JOIN LATERAL (
            SELECT (d.day + make_interval(hours => ${FIRST_SLOT_HOUR}::int, mins => 30 * k.n)) AT TIME ZONE b.time_zone
          ) AS s(slot_start)
          WHERE p.business_id IN (${sql.join(businessIds)})
            AND extract(isodow FROM d.day) <= 6
        ),
        inserted AS (
          INSERT INTO partner_slots (business_id, partner_id, slot_start, slot_end, status, booking_id, created_at)
          SELECT g.business_id, g.partner_id, g.slot_start, g.slot_start + interval '30 minutes',
                 CASE WHEN bk.id IS NOT NULL THEN 'booked' WHEN g.blocked THEN 'blocked' ELSE 'available' END,
                 bk.id, ${hoursAgo(24 * 10)}::timestamptz
          FROM grid g
          LEFT JOIN bookings bk
            ON bk.business_id = g.business_id AND bk.partner_id = g.partner_id
           AND bk.status IN ('pending', 'confirmed', 'completed', 'no_show') AND bk.deleted_at IS NULL
           AND bk.starts_at <= g.slot_start AND g.slot_start + interval '30 minutes' <= bk.ends_at
          RETURNING business_id
        )
        SELECT business_id, count(*) AS slots FROM inserted GROUP BY business_id
      `.execute(trx);
      const slotsOf = new Map(slotCounts.rows.map((r) => [r.business_id, Number(r.slots)]));

      // The weekly hours the slots above come from, so schedules show in the API and the
      // rolling-horizon job keeps making slots beyond the seeded two weeks.
      await sql`
        INSERT INTO partner_weekly_hours (business_id, partner_id, day_of_week, start_time, end_time, effective_from)
        SELECT p.business_id, p.id, dow, make_time(${FIRST_SLOT_HOUR}::int, 0, 0),
               make_time(${FIRST_SLOT_HOUR}::int, 0, 0) + make_interval(mins => 30 * ${SLOTS_PER_DAY}::int),
               (${nowIso}::timestamptz AT TIME ZONE b.time_zone)::date - ${PAST_DAYS}::int
        FROM partners p
        JOIN businesses b ON b.id = p.business_id
        CROSS JOIN generate_series(1, 6) AS dow
        WHERE p.business_id IN (${sql.join(businessIds)})
      `.execute(trx);

      const payments: Array<{
        business_id: string;
        booking_id: string;
        status: PaymentStatusColumn;
        amount_cents: number;
        currency: string;
        at: string;
        updated: string;
      }> = [];
      const seenPerBusiness = new Map<string, number>();
      for (const b of [...bookingRows].sort((x, y) => Number(x.id) - Number(y.id))) {
        const counterKey = `${b.business_id}|${b.status}`;
        const nth = seenPerBusiness.get(counterKey) ?? 0;
        seenPerBusiness.set(counterKey, nth + 1);
        const paidAt = new Date(Date.parse(b.created_at) + 5 * 60_000).toISOString();
        const add = (status: PaymentStatusColumn, at = paidAt, updated = at) =>
          payments.push({
            business_id: b.business_id,
            booking_id: b.id,
            status,
            amount_cents: b.total_cents,
            currency: b.currency,
            at,
            updated,
          });
        switch (b.status) {
          case 'confirmed':
          case 'completed':
          case 'no_show': // prepaid, and forfeited by not turning up
            add('succeeded');
            break;
          case 'pending':
            // The first pending booking shows a declined card followed by a retry still in flight.
            if (nth === 0) {
              add('failed');
              add('pending', new Date(Date.parse(paidAt) + 10 * 60_000).toISOString());
            } else if (nth % 2 === 1) add('pending');
            break;
          case 'cancelled':
            if (nth === 0) add('refunded', paidAt, b.updated_at);
            break;
        }
      }
      await trx
        .insertInto('payments')
        .values(
          payments.map((p, index) => ({
            business_id: p.business_id,
            booking_id: p.booking_id,
            provider: 'test',
            // Booking ids are unique across tenants, so this cannot collide with another seed run's ids.
            provider_txn_id: `test_txn_seed_${p.booking_id}_${index}`,
            amount_cents: p.amount_cents,
            currency: p.currency,
            status: p.status,
            created_at: p.at,
            updated_at: p.updated,
          })),
        )
        .execute();

      await trx
        .insertInto('audit_logs')
        .values(
          BUSINESSES.map((spec) => {
            const bid = idOf(spec);
            return {
              business_id: bid,
              entity: 'business',
              entity_id: bid,
              action: 'seeded',
              actor: 'system:seed',
              changes: JSON.stringify({
                slug: spec.slug,
                services: spec.services.length,
                partners: spec.partners.length,
                customers: spec.customers.length,
                bookings: plans.get(spec.slug)!.length,
                payments: payments.filter((p) => p.business_id === bid).length,
                slots: slotsOf.get(bid) ?? 0,
              }),
            };
          }),
        )
        .execute();

      return {
        businesses: BUSINESSES.map((spec) => {
          const bid = idOf(spec);
          return {
            id: bid,
            slug: spec.slug,
            kind: spec.kind,
            partnerIds: [...bySlug.get(spec.slug)!.partnerIds.values()].sort(byNumericId),
            customerIds: [...bySlug.get(spec.slug)!.customerIds.values()].sort(byNumericId),
          };
        }),
      };
    });
  } catch (error) {
    if (error instanceof AlreadySeeded) return error.summary;
    // Two processes seeding at once: the loser's businessCreate waits on the slug index, then finds
    // the slug taken (or another insert fails on a unique index); the winner's data is what it would
    // have created.
    if (error instanceof UserErrorAbort || (error as { code?: string }).code === '23505') {
      const summary = await readSummary(db);
      if (summary.businesses.some((b) => b.slug === 'urban-fix')) return summary;
    }
    throw error;
  }
}

/**
 * Onboarding ran just now; the history that follows (bookings of past weeks) needs a catalog that
 * existed before it: businesses and services half a year old, partners a little younger, customers
 * who registered one after another in the last months.
 */
async function backdateCatalog(trx: Trx, onboarded: OnboardedBusiness[], hoursAgo: (hours: number) => string): Promise<void> {
  const ids = onboarded.map((b) => b.id);
  await trx.updateTable('businesses').set({ created_at: hoursAgo(24 * 180) }).where('id', 'in', ids).execute();
  await trx.updateTable('services').set({ created_at: hoursAgo(24 * 180) }).where('business_id', 'in', ids).execute();
  await trx.updateTable('partners').set({ created_at: hoursAgo(24 * 170) }).where('business_id', 'in', ids).execute();
  const customers = onboarded.flatMap((b) => b.spec.customers.map(([, email], index) => sql`(${b.customerIds.get(email)!}::bigint, ${hoursAgo(24 * (30 + index * 9))}::timestamptz)`));
  await sql`UPDATE customers c SET created_at = v.at FROM (VALUES ${sql.join(customers)}) AS v(id, at) WHERE c.id = v.id`.execute(trx);
}

const byNumericId = (a: string, b: string) => Number(a) - Number(b);
