/**
 * The baseline: the benchmark's page answered by one hand-written SQL query that builds the JSON
 * in PostgreSQL, behind plain node:http and pg. No GraphQL, no loaders: the ceiling to compare with.
 */
import { createServer } from 'node:http';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.PG_POOL_MAX ?? 20) });
const PAGE = `
  SELECT json_build_object('data', json_build_object('businesses', json_build_object('nodes', coalesce(json_agg(
    json_build_object('name', b.name, 'bookings', json_build_object('nodes', (
      SELECT coalesce(json_agg(json_build_object(
        'id', bk.id, 'startsAt', bk.starts_at, 'status', upper(bk.status),
        'service', json_build_object('name', s.name), 'partner', json_build_object('name', pa.name),
        'customer', json_build_object('name', c.name)) ORDER BY bk.starts_at, bk.id), '[]'::json)
      FROM (SELECT * FROM bookings WHERE business_id = b.id AND deleted_at IS NULL ORDER BY starts_at, id LIMIT 10) bk
      JOIN services s ON s.id = bk.service_id JOIN partners pa ON pa.id = bk.partner_id JOIN customers c ON c.id = bk.customer_id
    ))) ORDER BY b.slug), '[]'::json)))) AS body
  FROM (SELECT * FROM businesses WHERE deleted_at IS NULL ORDER BY slug LIMIT 20) b`;

createServer(async (req, res) => {
  req.resume();
  const { rows } = await pool.query(PAGE);
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(rows[0].body));
}).listen(Number(process.env.PORT ?? 4102), '127.0.0.1');
