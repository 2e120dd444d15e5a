import { sql, type Kysely } from 'kysely';
import type { BookingStatus, BusinessKind, Database, PaymentStatus } from '../db/tables.js';

/** The demo businesses, one per kind; `urban-fix` doubles as the "already seeded" marker. */
export const DEMO_SLUGS = [
  'urban-fix',
  'glow-studio',
  'green-light-driving',
  'north-end-barbers',
  'clear-mind-clinic',
] as const;

export interface DemoSummary {
  businesses: Array<{ id: string; slug: string; kind: string; partnerIds: string[]; customerIds: string[] }>;
}

interface ServiceSpec {
  name: string;
  minutes: 30 | 60 | 90;
  priceCents: number;
  active?: false;
}
interface PartnerSpec {
  name: string;
  city?: string;
  active?: false;
}
interface BusinessSpec {
  slug: (typeof DEMO_SLUGS)[number];
  name: string;
  kind: BusinessKind;
  city: string;
  timeZone: string;
  currency: string;
  services: ServiceSpec[];
  partners: PartnerSpec[];
  customers: Array<[name: string, email: string]>;
}

const BUSINESSES: BusinessSpec[] = [
  {
    slug: 'urban-fix',
    name: 'Urban Fix',
    kind: 'marketplace',
    city: 'Berlin',
    timeZone: 'Europe/Berlin',
    currency: 'EUR',
    services: [
      { name: 'Leaking tap repair', minutes: 30, priceCents: 4900 },
      { name: 'Emergency plumbing call-out', minutes: 60, priceCents: 11900 },
      { name: 'Electrical safety inspection', minutes: 90, priceCents: 14900 },
      { name: 'Light and socket installation', minutes: 60, priceCents: 7900 },
      { name: 'Apartment deep clean', minutes: 90, priceCents: 9900 },
      // Kept (inactive) so that past bookings of a withdrawn service still have their service.
      { name: 'Gas boiler service', minutes: 60, priceCents: 12900, active: false },
    ],
    partners: [
      { name: 'Jonas Becker', city: 'Berlin' },
      { name: 'Lena Fischer', city: 'Berlin' },
      { name: 'Mehmet Yilmaz', city: 'Hamburg' },
      { name: 'Sophie Wagner', city: 'Hamburg' },
      { name: 'Tomasz Nowak', city: 'Hamburg', active: false },
    ],
    customers: [
      ['Amira Haddad', 'amira.haddad@example.com'],
      ['Felix Hoffmann', 'felix.hoffmann@example.com'],
      ['Katarzyna Zielinska', 'katarzyna.zielinska@example.com'],
      ['Lukas Schneider', 'lukas.schneider@example.com'],
      ['Elif Demir', 'elif.demir@example.com'],
      ['Johanna Krause', 'johanna.krause@example.com'],
      ['Nikolai Petrov', 'nikolai.petrov@example.com'],
      ['Marie Dubois', 'marie.dubois@example.com'],
    ],
  },
  {
    slug: 'glow-studio',
    name: 'Glow Studio',
    kind: 'salon',
    city: 'London',
    timeZone: 'Europe/London',
    currency: 'GBP',
    services: [
      { name: "Women's cut and blow-dry", minutes: 60, priceCents: 6500 },
      { name: "Men's cut", minutes: 30, priceCents: 3200 },
      { name: 'Blow-dry', minutes: 30, priceCents: 2800 },
      { name: 'Full head colour', minutes: 90, priceCents: 11500 },
      { name: 'Balayage', minutes: 90, priceCents: 14500 },
    ],
    partners: [
      { name: 'Amelia Clarke' },
      { name: 'Priya Patel' },
      { name: 'Olivia Bennett' },
      { name: 'Chloe Evans' },
      { name: 'Marcus Reid' },
    ],
    customers: [
      ['Grace Thompson', 'grace.thompson@example.com'],
      ['Oliver Hughes', 'oliver.hughes@example.com'],
      ['Aaliyah Okafor', 'aaliyah.okafor@example.com'],
      ['Hannah Walsh', 'hannah.walsh@example.com'],
      ['Rhys Morgan', 'rhys.morgan@example.com'],
      ['Sofia Rossi', 'sofia.rossi@example.com'],
      ['Imogen Fraser', 'imogen.fraser@example.com'],
      ['Zainab Hussain', 'zainab.hussain@example.com'],
      ['Ewan Campbell', 'ewan.campbell@example.com'],
    ],
  },
  {
    slug: 'green-light-driving',
    name: 'Green Light Driving School',
    kind: 'driving_school',
    city: 'Toronto',
    timeZone: 'America/Toronto',
    currency: 'CAD',
    services: [
      { name: 'Standard driving lesson', minutes: 60, priceCents: 6500 },
      { name: 'Extended driving lesson', minutes: 90, priceCents: 9500 },
      { name: 'Highway driving lesson', minutes: 90, priceCents: 10500 },
      { name: 'G2 road test preparation', minutes: 60, priceCents: 8000 },
    ],
    partners: [
      { name: 'Daniel Tremblay' },
      { name: 'Aisha Mohammed' },
      { name: 'Kevin Nguyen' },
      { name: 'Sarah MacDonald' },
    ],
    customers: [
      ['Ethan Roy', 'ethan.roy@example.com'],
      ['Mei Lin', 'mei.lin@example.com'],
      ['Arjun Sharma', 'arjun.sharma@example.com'],
      ['Chloe Gagnon', 'chloe.gagnon@example.com'],
      ['Mateo Alvarez', 'mateo.alvarez@example.com'],
      ['Fatima Siddiqui', 'fatima.siddiqui@example.com'],
      ['Liam O’Brien', 'liam.obrien@example.com'],
    ],
  },
  {
    slug: 'north-end-barbers',
    name: 'North End Barbers',
    kind: 'barber_shop',
    city: 'New York',
    timeZone: 'America/New_York',
    currency: 'USD',
    services: [
      { name: 'Classic haircut', minutes: 30, priceCents: 3500 },
      { name: 'Skin fade', minutes: 30, priceCents: 4000 },
      { name: 'Beard trim', minutes: 30, priceCents: 2000 },
      { name: 'Haircut and beard', minutes: 60, priceCents: 5500 },
      { name: 'Hot towel shave', minutes: 30, priceCents: 3000 },
    ],
    partners: [
      { name: 'Tony Russo' },
      { name: 'Malik Johnson' },
      { name: 'Carlos Rivera' },
      { name: 'Eli Goldberg' },
    ],
    customers: [
      ['Marcus Williams', 'marcus.williams@example.com'],
      ['Darnell Brooks', 'darnell.brooks@example.com'],
      ['Jake Sullivan', 'jake.sullivan@example.com'],
      ['Luis Ramirez', 'luis.ramirez@example.com'],
      ['Samuel Cohen', 'samuel.cohen@example.com'],
      ['Kenji Watanabe', 'kenji.watanabe@example.com'],
      ['Andre Baptiste', 'andre.baptiste@example.com'],
      ['Noah Kim', 'noah.kim@example.com'],
      ['Omar Farouk', 'omar.farouk@example.com'],
      ['Ryan Doyle', 'ryan.doyle@example.com'],
    ],
  },
  {
    slug: 'clear-mind-clinic',
    name: 'Clear Mind Clinic',
    kind: 'appointments',
    city: 'Sydney',
    timeZone: 'Australia/Sydney',
    currency: 'AUD',
    services: [
      { name: 'Initial consultation', minutes: 90, priceCents: 26000 },
      { name: 'Follow-up session', minutes: 60, priceCents: 19000 },
      { name: 'Brief check-in', minutes: 30, priceCents: 9500 },
      { name: 'Couples session', minutes: 90, priceCents: 29000 },
    ],
    partners: [{ name: 'Dr Hannah Wright' }, { name: 'Dr James Chen' }, { name: 'Dr Maya Singh' }],
    customers: [
      ['Charlotte Nguyen', 'charlotte.nguyen@example.com'],
      ['Jack Murphy', 'jack.murphy@example.com'],
      ['Isla Papadopoulos', 'isla.papadopoulos@example.com'],
      ['Tane Parata', 'tane.parata@example.com'],
      ['Ruby Anderson', 'ruby.anderson@example.com'],
      ['Vikram Iyer', 'vikram.iyer@example.com'],
      ['Emily Tran', 'emily.tran@example.com'],
      ['Lachlan Scott', 'lachlan.scott@example.com'],
    ],
  },
];

/** Working day: 16 half-hour slots from 09:00 to 17:00 local time, Monday to Saturday (also the partners' weekly hours). */
const SLOTS_PER_DAY = 16;
const FIRST_SLOT_HOUR = 9;
/** Saturdays close early: the slots from 15:00 on are 'blocked', so the demo has all slot statuses. */
const SATURDAY_BLOCKED_FROM = 12;
const PAST_DAYS = 7;
const FUTURE_DAYS = 14;

const CANCEL_REASONS = [
  'Customer rescheduled',
  'Customer cancelled by phone',
  'Partner unavailable (illness)',
  'Booked by mistake',
];

/** How many bookings of each status a business gets; past ones first (day offsets < 0). */
const STATUS_PLAN: Array<{ status: BookingStatus; past: boolean; count: (businessIndex: number) => number }> = [
  { status: 'completed', past: true, count: (i) => 8 + (i % 3) },
  { status: 'no_show', past: true, count: (i) => 2 + (i % 2) },
  { status: 'cancelled', past: true, count: () => 1 },
  { status: 'confirmed', past: false, count: (i) => 8 + ((i * 2) % 5) },
  { status: 'pending', past: false, count: (i) => 5 + (i % 2) },
  { status: 'cancelled', past: false, count: () => 2 },
];

interface PlannedBooking {
  partner: number;
  customer: number;
  service: number;
  status: BookingStatus;
  /** Local wall-clock times, turned into instants by PostgreSQL with the business's time zone. */
  localStart: string;
  localEnd: string;
  createdHoursAgo: number;
}

/** Deterministic PRNG (mulberry32): the same `now` always yields the same demo data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function localTime(date: string, slot: number): string {
  const minutes = FIRST_SLOT_HOUR * 60 + slot * 30;
  return `${date} ${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}:00`;
}

/**
 * Bookings of one business, placed so that no two slot-holding bookings of a partner share a slot
 * (partner_slots.booking_id holds one booking) and none runs into a blocked Saturday afternoon.
 * Cancelled bookings hold no slots, so they may sit on top of another booking (a freed, rebooked time).
 */
function planBookings(spec: BusinessSpec, businessIndex: number, today: string): PlannedBooking[] {
  const random = prng(0x5eed + businessIndex * 7919);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  const allPartners = spec.partners.map((_, i) => i);
  const activePartners = allPartners.filter((i) => spec.partners[i].active !== false);
  const allServices = spec.services.map((_, i) => i);
  const activeServices = allServices.filter((i) => spec.services[i].active !== false);
  const occupied = new Set<string>();
  const planned: PlannedBooking[] = [];

  for (const { status, past, count } of STATUS_PLAN) {
    for (let n = count(businessIndex); n > 0; n--) {
      // A partner who has since left, or a withdrawn service, can only appear in the past.
      const partners = past ? allPartners : activePartners;
      const services = past ? allServices : activeServices;
      const holdsSlots = status !== 'cancelled';
      let placed = false;
      for (let attempt = 0; attempt < 500 && !placed; attempt++) {
        // Past bookings end before today and future ones start after it, whatever the time of day `now` is.
        const dayOffset = past ? -1 - Math.floor(random() * PAST_DAYS) : 1 + Math.floor(random() * (FUTURE_DAYS - 1));
        const date = addDays(today, dayOffset);
        const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
        if (weekday === 0) continue;
        const partner = pick(partners);
        const service = pick(services);
        const length = spec.services[service].minutes / 30;
        const lastSlot = weekday === 6 ? SATURDAY_BLOCKED_FROM : SLOTS_PER_DAY;
        const first = Math.floor(random() * (lastSlot - length + 1));
        const keys = Array.from({ length }, (_, k) => `${partner}|${date}|${first + k}`);
        if (holdsSlots && keys.some((key) => occupied.has(key))) continue;
        if (holdsSlots) for (const key of keys) occupied.add(key);
        planned.push({
          partner,
          customer: Math.floor(random() * spec.customers.length),
          service,
          status,
          localStart: localTime(date, first),
          localEnd: localTime(date, first + length),
          // Made at least a day before now and, for past appointments, before their day.
          createdHoursAgo: (Math.max(0, -dayOffset) + 1 + Math.floor(random() * 10)) * 24 + Math.floor(random() * 12),
        });
        placed = true;
      }
      if (!placed) throw new Error(`demo seed: could not place a ${status} booking for ${spec.slug}`);
    }
  }
  // Ids then follow created_at, as they would had the bookings been made one at a time.
  return planned.sort((a, b) => b.createdHoursAgo - a.createdHoursAgo);
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

      // "Today" is computed by PostgreSQL, with the same tz database as the slot series below.
      const businessRows = await trx
        .insertInto('businesses')
        .values(
          BUSINESSES.map((b) => ({
            slug: b.slug,
            name: b.name,
            kind: b.kind,
            city: b.city,
            time_zone: b.timeZone,
            currency: b.currency,
            created_at: hoursAgo(24 * 180),
          })),
        )
        .returning([
          'id',
          'slug',
          sql<string>`((${nowIso}::timestamptz AT TIME ZONE time_zone)::date)::text`.as('today'),
        ])
        .execute();
      const business = new Map(businessRows.map((row) => [row.slug, row]));
      const idOf = (spec: BusinessSpec) => business.get(spec.slug)!.id;
      const plans = new Map(
        BUSINESSES.map((spec, i) => [spec.slug, planBookings(spec, i, business.get(spec.slug)!.today)]),
      );

      const serviceRows = await trx
        .insertInto('services')
        .values(
          BUSINESSES.flatMap((spec) =>
            spec.services.map((s) => ({
              business_id: idOf(spec),
              name: s.name,
              duration_minutes: s.minutes,
              price_cents: s.priceCents,
              is_active: s.active ?? true,
              created_at: hoursAgo(24 * 180),
              deleted_at: null,
            })),
          ),
        )
        .returning(['id', 'business_id', 'name'])
        .execute();

      // The counter is written with the partners, from the plan, rather than by an UPDATE afterwards.
      const partnerRows = await trx
        .insertInto('partners')
        .values(
          BUSINESSES.flatMap((spec) =>
            spec.partners.map((p, index) => ({
              business_id: idOf(spec),
              name: p.name,
              city: p.city ?? spec.city,
              is_active: p.active ?? true,
              active_booking_count: plans
                .get(spec.slug)!
                .filter((b) => b.partner === index && (b.status === 'pending' || b.status === 'confirmed')).length,
              created_at: hoursAgo(24 * 170),
            })),
          ),
        )
        .returning(['id', 'business_id', 'name'])
        .execute();

      const customerRows = await trx
        .insertInto('customers')
        .values(
          BUSINESSES.flatMap((spec) =>
            spec.customers.map(([name, email], index) => ({
              business_id: idOf(spec),
              name,
              email,
              created_at: hoursAgo(24 * (30 + index * 9)),
              deleted_at: null,
            })),
          ),
        )
        .returning(['id', 'business_id', 'email'])
        .execute();

      // Rows are matched back by natural key, not by the order RETURNING happens to use.
      const key = (businessId: string, name: string) => `${businessId}|${name}`;
      const serviceId = new Map(serviceRows.map((r) => [key(r.business_id, r.name), r.id]));
      const partnerId = new Map(partnerRows.map((r) => [key(r.business_id, r.name), r.id]));
      const customerId = new Map(customerRows.map((r) => [key(r.business_id, r.email), r.id]));

      let cancelIndex = 0;
      const bookingRows = await trx
        .insertInto('bookings')
        .values(
          BUSINESSES.flatMap((spec) => {
            const bid = idOf(spec);
            const at = (local: string) => sql<string>`(${local}::timestamp AT TIME ZONE ${spec.timeZone})`;
            return plans.get(spec.slug)!.map((b) => {
              const service = spec.services[b.service];
              const closed = b.status === 'completed' || b.status === 'no_show';
              return {
                business_id: bid,
                customer_id: customerId.get(key(bid, spec.customers[b.customer][1]))!,
                partner_id: partnerId.get(key(bid, spec.partners[b.partner].name))!,
                service_id: serviceId.get(key(bid, service.name))!,
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

      // Slots are inserted after the bookings so each slot is born 'booked' by the booking covering it:
      // one statement, no UPDATE pass. Each day's local wall-clock times are turned into instants
      // separately, so 09:00 stays 09:00 across DST changes. The tables are too new to have
      // statistics: the grid is materialized, or the planner joins bookings on business_id alone and
      // re-evaluates AT TIME ZONE for every candidate pair; and the series have constant bounds, whose
      // sizes the planner knows, or it guesses millions of rows and PostgreSQL JIT-compiles the query.
      const businessIds = businessRows.map((b) => b.id);
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
        status: PaymentStatus;
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
        const add = (status: PaymentStatus, at = paidAt, updated = at) =>
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
            partnerIds: partnerRows.filter((r) => r.business_id === bid).map((r) => r.id).sort(byNumericId),
            customerIds: customerRows.filter((r) => r.business_id === bid).map((r) => r.id).sort(byNumericId),
          };
        }),
      };
    });
  } catch (error) {
    if (error instanceof AlreadySeeded) return error.summary;
    // Two processes seeding at once: the loser's insert waits on the slug index, then fails; the
    // winner's data is what it would have created.
    if ((error as { code?: string }).code === '23505') {
      const summary = await readSummary(db);
      if (summary.businesses.some((b) => b.slug === 'urban-fix')) return summary;
    }
    throw error;
  }
}

const byNumericId = (a: string, b: string) => Number(a) - Number(b);
