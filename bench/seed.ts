/**
 * Fills the benchmark database (DATABASE_URL, its public schema dropped and recreated): 20
 * businesses, each with 5 partners, 4 services, 30 customers and 60 bookings, so a page of 10
 * bookings per business reads a slice of each list, as a dashboard does.
 */
import { sql } from 'kysely';
import { connectDatabase } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';

const BUSINESSES = 20;

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error('Expected DATABASE_URL: the benchmark runs on PostgreSQL.');
const handle = await connectDatabase({ databaseUrl, poolMax: 2 });
const { db } = handle;
await sql`DROP SCHEMA IF EXISTS public CASCADE`.execute(db);
await sql`CREATE SCHEMA public`.execute(db);
await migrateToLatest(db);

await sql`
  INSERT INTO businesses (slug, name, kind, city, time_zone, currency)
  SELECT 'bench-' || lpad(i::text, 2, '0'), 'Bench business ' || i, 'salon', 'Berlin', 'Europe/Berlin', 'EUR'
  FROM generate_series(1, ${BUSINESSES}) i`.execute(db);
await sql`INSERT INTO services (business_id, name, duration_minutes, price_cents)
  SELECT b.id, 'Service ' || i, 30, 1000 * i FROM businesses b, generate_series(1, 4) i`.execute(db);
await sql`INSERT INTO partners (business_id, name, city)
  SELECT b.id, 'Partner ' || i, 'Berlin' FROM businesses b, generate_series(1, 5) i`.execute(db);
await sql`INSERT INTO customers (business_id, email, name)
  SELECT b.id, 'c' || i || '@' || b.slug || '.example', 'Customer ' || i FROM businesses b, generate_series(1, 30) i`.execute(db);
// 60 bookings per business: 12 per partner, one per day at 10:00 UTC, pending.
await sql`
  INSERT INTO bookings (business_id, customer_id, partner_id, service_id, starts_at, ends_at, total_cents, currency)
  SELECT pa.business_id,
         (SELECT c.id FROM customers c WHERE c.business_id = pa.business_id ORDER BY c.id OFFSET (d + pa.id) % 30 LIMIT 1),
         pa.id,
         (SELECT s.id FROM services s WHERE s.business_id = pa.business_id ORDER BY s.id OFFSET d % 4 LIMIT 1),
         date_trunc('day', now()) + make_interval(days => d, hours => 10 + (pa.id % 5)::int),
         date_trunc('day', now()) + make_interval(days => d, hours => 10 + (pa.id % 5)::int, mins => 30),
         1000, 'EUR'
  FROM partners pa, generate_series(1, 12) d`.execute(db);
await sql`UPDATE partners pa SET active_booking_count = (SELECT count(*) FROM bookings bk WHERE bk.partner_id = pa.id)`.execute(db);
await sql`ANALYZE`.execute(db);
const counts = await sql<{ n: number }>`SELECT count(*)::int AS n FROM bookings`.execute(db);
console.log(`Seeded ${BUSINESSES} businesses and ${counts.rows[0].n} bookings.`);
await handle.close();
