/**
 * npm run seed:large -- [--bookings N] [--businesses N] [--partners N] [--customers N] [--days N]
 *                       [--database-url URL] [--reset]
 *
 * Bulk-loads a large, skewed data set into a PostgreSQL database (migrated first, if it is not):
 * a few marketplaces holding most partners, hundreds of small businesses; a year of bookings per
 * partner (mostly past, every status; the last businesses joined 12 weeks ago), one payment, one event and one audit row per booking,
 * `--days` days of slots around today, webhook endpoints with a delivery log and a backlog.
 *
 * Everything is set-based SQL (INSERT ... SELECT generate_series). Secondary indexes, exclusion
 * constraints and foreign keys of the loaded tables are dropped first and rebuilt from their own
 * definitions after (one sort or one anti-join each instead of one probe per row).
 *
 * Coherence with the schema: every booking sits on its own one-hour cell of its partner's week
 * (Mon-Fri, 08:00-16:00 UTC), so no two bookings of a partner overlap, whatever their status;
 * slots in the window are 30 minutes on the same grid, 'booked' by the live or finished booking
 * on them, 'available' (a few 'blocked') otherwise; cancelled bookings hold no slot, as after
 * bookingCancel. Tenancy keys come from the same business throughout.
 */
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { migrateToLatest } from '../src/db/migrate.js';

export interface SeedOptions {
  databaseUrl: string;
  bookings: number;
  businesses: number;
  partners: number;
  customers: number;
  days: number;
  reset: boolean;
  log?: (line: string) => void;
}

/** The tables the load fills, whose indexes and constraints are dropped and rebuilt around it. */
const LOADED_TABLES = ['businesses', 'services', 'partners', 'customers', 'bookings', 'partner_slots', 'payments', 'booking_events', 'audit_logs', 'webhook_endpoints', 'webhook_deliveries', 'slot_holds'];

function parseArgs(argv: string[]): SeedOptions {
  const flags = new Map<string, string>();
  let reset = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--reset') reset = true;
    else if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split('=', 2);
      const value = inline ?? argv[++i];
      if (value === undefined) throw new Error(`Expected a value after --${name}, got the end of the arguments.`);
      flags.set(name, value);
    } else throw new Error(`Expected a --flag, got "${arg}".`);
  }
  const known = new Set(['bookings', 'businesses', 'partners', 'customers', 'days', 'database-url']);
  for (const name of flags.keys()) if (!known.has(name)) throw new Error(`Unknown flag --${name}; expected one of ${[...known].map((k) => `--${k}`).join(', ')}, --reset.`);
  const int = (name: string, fallback: number, min: number) => {
    const raw = flags.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min) throw new Error(`Expected --${name} to be an integer of at least ${min}, got "${raw}".`);
    return n;
  };
  const bookings = int('bookings', 1_000_000, 1);
  const businesses = int('businesses', Math.max(5, Math.min(500, Math.round(bookings / 2000))), 2);
  const partners = int('partners', Math.max(businesses, Math.round(bookings / 200)), businesses);
  const customers = int('customers', Math.max(businesses, Math.round(bookings / 5)), businesses);
  const days = int('days', 60, 2);
  const databaseUrl = flags.get('database-url') ?? process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('Expected --database-url or DATABASE_URL, got neither.');
  return { databaseUrl, bookings, businesses, partners, customers, days, reset };
}

/** Splits `total` over `weights` in whole numbers, each at least `min`, summing to `total`. */
function apportion(total: number, weights: number[], min: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const spare = total - min * weights.length;
  const shares = weights.map((w) => min + Math.floor((spare * w) / sum));
  let left = total - shares.reduce((a, b) => a + b, 0);
  for (let i = 0; left > 0; i = (i + 1) % shares.length, left--) shares[i]++;
  return shares;
}

export async function seedLarge(options: SeedOptions): Promise<void> {
  const log = options.log ?? ((line: string) => console.log(line));
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 1, options: '-c TimeZone=UTC' });
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  const started = performance.now();
  // One session throughout: the temporary tables and SET live in it.
  let client: pg.PoolClient | undefined;
  const step = async (name: string, text: string) => {
    const t = performance.now();
    const result = await client!.query(text);
    const rows = Array.isArray(result) ? result.at(-1)?.rowCount : result.rowCount;
    const took = (performance.now() - t) / 1000;
    log(`[seed] ${name.padEnd(34)} ${String(rows ?? '').padStart(9)} rows  ${took.toFixed(1).padStart(6)} s  (total ${((performance.now() - started) / 1000).toFixed(0)} s)`);
  };
  try {
    if (options.reset) {
      await pool.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
      log('[seed] reset: dropped and recreated schema public');
    }
    const applied = await migrateToLatest(db);
    if (applied.length) log(`[seed] migrated: ${applied.length} migrations`);
    client = await pool.connect();
    const existing = await client.query('SELECT (SELECT count(*) FROM businesses) + (SELECT count(*) FROM bookings) AS n');
    if (Number(existing.rows[0].n) > 0) throw new Error('Expected an empty database, found businesses or bookings: pass --reset to wipe it first.');

    const { bookings: N, businesses: B, partners: P, customers: C, days: D } = options;
    // A few marketplaces hold 60% of the partners and customers; the rest is spread with a long tail.
    const marketplaces = Math.max(1, Math.round(B / 100));
    const lateJoiners = Math.max(1, Math.round(B / 20));
    const weights = Array.from({ length: B }, (_, i) => (i < marketplaces ? (0.6 * (B - marketplaces)) / (0.4 * marketplaces) : 1 + ((i * 7) % 5)));
    const partnerShares = apportion(P, weights, 1);
    const customerShares = apportion(C, weights, 1);
    // One-hour cells per partner over 52 weeks back and 5 weeks ahead, Mon-Fri, 8 a day.
    const weeksBack = 52;
    const weeksAhead = 5;
    const cells = (weeksBack + weeksAhead) * 5 * 8;
    const perPartner = Math.ceil(N / P);
    if (perPartner > cells) throw new Error(`Expected at most ${cells} bookings per partner, got ${perPartner}: pass more --partners.`);
    log(`[seed] ${B} businesses (${marketplaces} marketplaces of ${partnerShares[0]} partners), ${P} partners, ${C} customers, ${N} bookings, ${D} days of slots`);

    await step('session settings', `SET maintenance_work_mem = '512MB'; SET synchronous_commit = off; SET work_mem = '64MB'`);
    // Definitions to rebuild, read from the catalog so the rebuilt schema is the migrated one.
    const saved = await client.query<{ kind: string; tbl: string; name: string; def: string }>(`
      SELECT 'i' AS kind, c.relname AS tbl, i.relname AS name, pg_get_indexdef(i.oid) AS def
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
      WHERE c.relname = ANY($1) AND c.relnamespace = 'public'::regnamespace
        AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid)
      UNION ALL
      SELECT k.contype::text, c.relname, k.conname, pg_get_constraintdef(k.oid)
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
      WHERE c.relname = ANY($1) AND c.relnamespace = 'public'::regnamespace AND k.contype IN ('f', 'x')`, [LOADED_TABLES]);
    const fks = saved.rows.filter((r) => r.kind === 'f');
    const rest = saved.rows.filter((r) => r.kind !== 'f');
    for (const r of fks) await client.query(`ALTER TABLE ${r.tbl} DROP CONSTRAINT ${r.name}`);
    for (const r of rest) await client.query(r.kind === 'i' ? `DROP INDEX ${r.name}` : `ALTER TABLE ${r.tbl} DROP CONSTRAINT ${r.name}`);
    log(`[seed] dropped ${rest.length} indexes and exclusion constraints, ${fks.length} foreign keys`);

    await client.query(`CREATE TEMP TABLE seed_biz (b int PRIMARY KEY, partner_lo int, partner_n int, customer_lo int, customer_n int)`);
    await client.query(
      `INSERT INTO seed_biz SELECT b, 1 + coalesce(sum(pn) OVER w, 0), pn, 1 + coalesce(sum(cn) OVER w, 0), cn
       FROM unnest($1::int[], $2::int[]) WITH ORDINALITY AS t(pn, cn, b)
       WINDOW w AS (ORDER BY b ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)`,
      [partnerShares, customerShares],
    );

    await step('businesses', `
      INSERT INTO businesses (id, slug, name, kind, city, time_zone, currency, created_at)
      SELECT b, CASE WHEN b <= ${marketplaces} THEN 'market-' ELSE 'shop-' END || b, 'Business ' || b,
        CASE WHEN b <= ${marketplaces} THEN 'marketplace' ELSE (ARRAY['salon', 'driving_school', 'barber_shop', 'appointments'])[1 + b % 4] END,
        (ARRAY['Berlin', 'Paris', 'Madrid', 'Rome', 'Lisbon'])[1 + b % 5], 'UTC', 'EUR', now() - interval '400 days'
      FROM seed_biz`);
    await step('services', `
      INSERT INTO services (id, business_id, name, duration_minutes, price_cents, created_at)
      SELECT (b - 1) * 3 + s + 1, b, (ARRAY['Short visit', 'Long visit', 'Check-up'])[s + 1], (ARRAY[30, 60, 30])[s + 1],
        (ARRAY[2500, 4500, 3000])[s + 1], now() - interval '400 days'
      FROM seed_biz, generate_series(0, 2) s`);
    await step('partners', `
      INSERT INTO partners (id, business_id, name, city, created_at)
      SELECT p, b, 'Partner ' || p, (ARRAY['Berlin', 'Paris', 'Madrid', 'Rome', 'Lisbon'])[1 + (CASE WHEN b <= ${marketplaces} THEN p ELSE b END) % 5], now() - interval '400 days'
      FROM seed_biz, generate_series(partner_lo, partner_lo + partner_n - 1) p`);
    // Every partner performs every service of their business, as the API's defaults have it.
    await step('partner services', `
      INSERT INTO partner_services (business_id, partner_id, service_id, created_at)
      SELECT p.business_id, p.id, s.id, now() - interval '400 days' FROM partners p JOIN services s ON s.business_id = p.business_id`);
    await step('customers', `
      INSERT INTO customers (id, business_id, email, name, created_at)
      SELECT c, b, 'customer' || c || '@example.com', 'Customer ' || c, now() - interval '400 days'
      FROM seed_biz, generate_series(customer_lo, customer_lo + customer_n - 1) c`);

    await client.query(`CREATE TEMP TABLE seed_partner AS
      SELECT p.id AS pid, s.b, s.customer_lo, s.customer_n, s.b > ${B - lateJoiners} AS late FROM partners p JOIN seed_biz s ON s.b = p.business_id`);
    await client.query(`ALTER TABLE seed_partner ADD PRIMARY KEY (pid)`);
    // Booking n: partner n % P, its (n / P)-th cell, spread evenly over the partner's year.
    const stride = Math.floor(cells / perPartner);
    // Late joiners (the last businesses) have all their bookings in the last 12 weeks, so their
    // events sit at the end of the log: an old cursor of theirs is the costly replay.
    const lateCells = Math.max(perPartner, 12 * 5 * 8);
    const lateStride = Math.floor(lateCells / perPartner);
    await step('bookings', `
      INSERT INTO bookings (id, business_id, customer_id, partner_id, service_id, starts_at, ends_at, status, cancel_reason,
                            total_cents, currency, created_at, updated_at)
      SELECT n + 1, sp.b, sp.customer_lo + (n * 2654435761) % sp.customer_n, sp.pid, (sp.b - 1) * 3 + n % 3 + 1,
        t.starts_at, t.starts_at + (CASE WHEN n % 3 = 1 THEN 60 ELSE 30 END) * interval '1 minute',
        st.status, CASE WHEN st.status = 'cancelled' THEN 'Seeded cancellation' END,
        (ARRAY[2500, 4500, 3000])[n % 3 + 1], 'EUR', t.starts_at - (1 + n % 20) * interval '1 day', t.starts_at - (1 + n % 20) * interval '1 day'
      FROM generate_series(0, ${N - 1}::bigint) n
      JOIN seed_partner sp ON sp.pid = n % ${P} + 1
      CROSS JOIN LATERAL (SELECT CASE WHEN sp.late THEN ${cells - lateCells} + (n / ${P}) * ${lateStride} + (n % ${P}) * 7 % ${lateStride}
                                 ELSE (n / ${P}) * ${stride} + (n % ${P}) * 7 % ${stride} END AS cell) c
      CROSS JOIN LATERAL (SELECT date_trunc('week', now()) - interval '${weeksBack} weeks'
          + ((c.cell / 8) / 5 * 7 + (c.cell / 8) % 5) * interval '1 day' + (8 + c.cell % 8) * interval '1 hour' AS starts_at) t
      CROSS JOIN LATERAL (SELECT CASE WHEN t.starts_at > now()
          THEN CASE WHEN (n * 48271) % 100 < 10 THEN 'pending' WHEN (n * 48271) % 100 < 95 THEN 'confirmed' ELSE 'cancelled' END
          ELSE CASE WHEN (n * 48271) % 100 < 2 THEN 'pending' WHEN (n * 48271) % 100 < 5 THEN 'confirmed'
                    WHEN (n * 48271) % 100 < 80 THEN 'completed' WHEN (n * 48271) % 100 < 92 THEN 'cancelled' ELSE 'no_show' END
          END AS status) st`);

    // Slots: --days days around today (half before, half after), 16 of 30 minutes per working day.
    const window = `date_trunc('day', now()) - interval '${Math.floor(D / 2)} days'`;
    await step('booked slot map', `
      CREATE TEMP TABLE seed_booked AS
      SELECT bk.id, bk.partner_id, bk.starts_at + i * interval '30 minutes' AS slot_start
      FROM bookings bk, generate_series(0, 1) i
      WHERE bk.status <> 'cancelled' AND bk.starts_at + i * interval '30 minutes' < bk.ends_at
        AND bk.starts_at >= ${window} AND bk.starts_at < ${window} + interval '${D} days'`);
    await client.query(`ALTER TABLE seed_booked ADD PRIMARY KEY (partner_id, slot_start)`);
    await step('partner_slots', `
      INSERT INTO partner_slots (business_id, partner_id, slot_start, slot_end, status, booking_id, created_at)
      SELECT p.business_id, p.id, s.slot_start, s.slot_start + interval '30 minutes',
        CASE WHEN sb.id IS NOT NULL THEN 'booked' WHEN (p.id * 31 + d * 17 + k * 7) % 50 = 0 THEN 'blocked' ELSE 'available' END,
        sb.id, now() - interval '30 days'
      FROM partners p
      CROSS JOIN generate_series(0, ${D - 1}) d
      CROSS JOIN generate_series(0, 15) k
      CROSS JOIN LATERAL (SELECT ${window} + d * interval '1 day' + interval '8 hours' + k * interval '30 minutes' AS slot_start) s
      LEFT JOIN seed_booked sb ON sb.partner_id = p.id AND sb.slot_start = s.slot_start
      WHERE extract(isodow FROM ${window} + d * interval '1 day') < 6
      ORDER BY p.id, s.slot_start`);
    await step('partner active counts', `
      UPDATE partners p SET active_booking_count = c.n
      FROM (SELECT partner_id, count(*) AS n FROM bookings WHERE status IN ('pending', 'confirmed') GROUP BY partner_id) c
      WHERE c.partner_id = p.id`);
    await step('payments', `
      INSERT INTO payments (business_id, booking_id, provider, provider_txn_id, amount_cents, currency, status, created_at, updated_at,
                            refunded_at, amount_refunded_cents)
      SELECT bk.business_id, bk.id, 'test', 'seed_' || bk.id, bk.total_cents, bk.currency, ps.status, bk.created_at, bk.created_at,
        CASE WHEN ps.status = 'refunded' THEN bk.created_at END, CASE WHEN ps.status = 'refunded' THEN bk.total_cents ELSE 0 END
      FROM bookings bk
      CROSS JOIN LATERAL (SELECT CASE bk.status WHEN 'pending' THEN 'pending'
          WHEN 'cancelled' THEN CASE WHEN bk.id % 2 = 0 THEN 'refunded' ELSE 'failed' END ELSE 'succeeded' END AS status) ps`);
    await step('booking_events', `
      INSERT INTO booking_events (business_id, booking_id, partner_ids, type, occurred_at, data, position, relayed_at, published_at)
      SELECT bk.business_id, bk.id, ARRAY[bk.partner_id], 'BOOKING_CREATED', bk.created_at,
        jsonb_build_object('booking', jsonb_build_object('status', 'PENDING', 'partnerId', bk.partner_id::text,
          'startsAt', to_char(bk.starts_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'endsAt', to_char(bk.ends_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))),
        row_number() OVER (ORDER BY bk.created_at, bk.id), bk.created_at, bk.created_at
      FROM bookings bk ORDER BY bk.created_at, bk.id`);
    await step('event relay counter', `UPDATE booking_event_relay SET last_position = (SELECT coalesce(max(position), 0) FROM booking_events)`);
    await step('audit_logs', `
      INSERT INTO audit_logs (business_id, entity, entity_id, action, actor, changes, created_at)
      SELECT bk.business_id, 'booking', bk.id, 'create', 'seed', jsonb_build_object('status', bk.status), bk.created_at FROM bookings bk`);
    // Webhooks: every marketplace has a business-wide endpoint and a partner's; one small business
    // in ten has one. The first marketplace's endpoint is down: a large backlog waiting for retries.
    await step('webhook_endpoints', `
      INSERT INTO webhook_endpoints (business_id, partner_id, url, event_types, secret, created_at)
      SELECT s.b, CASE WHEN k = 1 THEN s.partner_lo END, 'https://hooks.example.com/' || s.b || '/' || k,
        ARRAY['BOOKING_CREATED', 'BOOKING_CANCELLED'], repeat('s', 40), now() - interval '400 days'
      FROM seed_biz s, generate_series(0, 1) k
      WHERE s.b <= ${marketplaces} OR (s.b % 10 = 0 AND k = 0)`);
    await step('webhook_deliveries', `
      INSERT INTO webhook_deliveries (business_id, endpoint_id, event_id, event_position, status, attempts, next_attempt_at,
                                      last_attempt_at, delivered_at, created_at)
      SELECT e.business_id, w.id, e.id, e.position, st.status, CASE WHEN st.status = 'pending' THEN 3 ELSE 1 END,
        CASE WHEN st.status <> 'pending' THEN e.occurred_at WHEN e.id % 20 = 0 THEN now() - interval '1 minute' ELSE now() + interval '1 hour' END,
        e.occurred_at, CASE WHEN st.status = 'succeeded' THEN e.occurred_at END, e.occurred_at
      FROM booking_events e
      JOIN webhook_endpoints w ON w.business_id = e.business_id AND (w.partner_id IS NULL OR w.partner_id = ANY(e.partner_ids))
      CROSS JOIN LATERAL (SELECT CASE
          WHEN w.id = 1 THEN 'pending'
          WHEN e.id % 100 = 0 THEN 'failed'
          WHEN e.id % 100 = 1 THEN 'pending' ELSE 'succeeded' END AS status) st
      WHERE e.position > (SELECT max(position) * 0.7 FROM booking_events)`);
    // A few live holds on free future slots of the marketplaces' partners.
    await step('slot_holds', `
      WITH picked AS (
        SELECT DISTINCT ON (sl.partner_id) sl.id, sl.business_id, sl.partner_id, sl.slot_start, sl.slot_end
        FROM partner_slots sl WHERE sl.business_id <= ${marketplaces} AND sl.status = 'available' AND sl.slot_start > now() + interval '1 day'
          AND sl.partner_id % 10 = 0
        ORDER BY sl.partner_id, sl.slot_start
      ), holds AS (
        INSERT INTO slot_holds (business_id, customer_id, partner_id, service_id, starts_at, ends_at, expires_at)
        SELECT p.business_id, s.customer_lo, p.partner_id, (p.business_id - 1) * 3 + 1, p.slot_start, p.slot_end, now() + interval '1 day'
        FROM picked p JOIN seed_biz s ON s.b = p.business_id
        RETURNING id, partner_id, starts_at, expires_at
      )
      UPDATE partner_slots sl SET hold_id = h.id, held_until = h.expires_at
      FROM holds h WHERE sl.partner_id = h.partner_id AND sl.slot_start = h.starts_at`);
    // What the retention job purges besides the tables above (their indexes stay: no id to reset).
    // The provider's event of every settled payment, and the idempotency keys of the last two days'
    // bookings (a key lives 24 hours: about half are expired).
    await step('processed_payment_events', `
      INSERT INTO processed_payment_events (provider, event_id, event_type, received_at)
      SELECT 'test', 'evt_seed_' || p.id, 'payment.' || p.status, p.updated_at FROM payments p WHERE p.status <> 'pending'`);
    await step('idempotency_keys', `
      INSERT INTO idempotency_keys (caller, operation, key, request_hash, outcome, created_at, expires_at)
      SELECT 'customer:' || bk.customer_id, 'bookingCreate', 'seed-' || bk.id, md5(bk.id::text), jsonb_build_object('ok', true, 'saved', bk.id::text),
        bk.created_at, bk.created_at + interval '24 hours'
      FROM bookings bk WHERE bk.created_at > now() - interval '2 days'`);
    await step('identity sequences', LOADED_TABLES.filter((t) => t !== 'booking_events').map((t) =>
      `SELECT setval(pg_get_serial_sequence('${t}', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM ${t}), false);`).join('\n'));

    for (const r of rest) await step(`${r.kind === 'i' ? 'index' : 'exclusion'} ${r.name}`, r.kind === 'i' ? r.def : `ALTER TABLE ${r.tbl} ADD CONSTRAINT ${r.name} ${r.def}`);
    for (const r of fks) await step(`fk ${r.name}`, `ALTER TABLE ${r.tbl} ADD CONSTRAINT ${r.name} ${r.def}`);
    await step('vacuum analyze', `VACUUM ANALYZE`);
    log(`[seed] done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    client?.release();
    await db.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  seedLarge(parseArgs(process.argv.slice(2))).catch((error) => {
    console.error(`[seed] failed: ${(error as Error).message}`);
    process.exit(1);
  });
}

export { parseArgs as parseSeedArgs };
