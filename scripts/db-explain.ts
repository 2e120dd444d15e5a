/**
 * npm run db:explain -- [--database-url URL] [--migrate] [--seed BOOKINGS [--days N]] [--max-discarded-per-row N] [--verbose]
 *
 * Runs EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of every statement in scripts/explain-registry.ts
 * (each captured by calling its repository function, in a transaction rolled back after) and
 * prints each plan's main index, rows returned, rows read, rows discarded and time. Exits 1 when a
 * plan
 *   - scans a table of more than SEQ_SCAN_LIMIT rows sequentially,
 *   - discards more than --max-discarded-per-row rows (filters, rechecks, join filters) per row
 *     it returns (beyond a floor of DISCARD_FLOOR rows, which no page notices), or
 *   - does not use the index its entry names.
 *
 * With --seed, it creates a database of its own on the server of the URL, loads it with
 * `seed:large` (BOOKINGS bookings, --days days of slots), checks it and drops it: that is CI's run.
 * Without, it checks the database at the URL as it is (the million of seed:large, by hand);
 * --migrate applies pending migrations to it first.
 */
import pg from 'pg';
import type { LogEvent } from 'kysely';
import { connectDatabase } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { EXPLAIN_REGISTRY, loadExplainParams, type ExplainEntry } from './explain-registry.js';
import { seedLarge } from './seed-large.js';

const SEQ_SCAN_LIMIT = 10_000;
const DISCARD_FLOOR = 1_000;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  'Rows Removed by Join Filter'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

interface Measured {
  entry: ExplainEntry;
  tag: string;
  mainIndex: string;
  returned: number;
  read: number;
  discarded: number;
  buffers: number;
  ms: number;
  problems: string[];
  plan?: PlanNode;
}

function walk(node: PlanNode, visit: (n: PlanNode) => void): void {
  visit(node);
  for (const child of node.Plans ?? []) walk(child, visit);
}

const SCANS = new Set(['Seq Scan', 'Index Scan', 'Index Only Scan', 'Bitmap Heap Scan', 'Tid Scan']);

export function measurePlan(plan: PlanNode, tableRows: Map<string, number>, entry: ExplainEntry, bound: number) {
  let read = 0;
  let discarded = 0;
  let mainIndex = '';
  let mainRead = -1;
  const indexes = new Set<string>();
  const problems: string[] = [];
  walk(plan, (n) => {
    const loops = n['Actual Loops'] || 1;
    const removed = ((n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0) + (n['Rows Removed by Join Filter'] ?? 0)) * loops;
    discarded += removed;
    if (n['Index Name']) indexes.add(n['Index Name']);
    if (SCANS.has(n['Node Type'])) {
      const rows = n['Actual Rows'] * loops + (n['Rows Removed by Filter'] ?? 0) * loops + (n['Rows Removed by Index Recheck'] ?? 0) * loops;
      read += rows;
      if (rows > mainRead) {
        mainRead = rows;
        mainIndex = n['Index Name'] ?? (n['Node Type'] === 'Bitmap Heap Scan' ? `bitmap ${n['Relation Name']}` : `${n['Node Type']} ${n['Relation Name'] ?? ''}`.trim());
      }
      if (n['Node Type'] === 'Seq Scan' && (tableRows.get(n['Relation Name'] ?? '') ?? 0) > SEQ_SCAN_LIMIT) {
        problems.push(`Seq Scan of ${n['Relation Name']} (${tableRows.get(n['Relation Name'] ?? '')} rows)`);
      }
    }
    if (n['Node Type'] === 'Bitmap Heap Scan') {
      // Its Bitmap Index Scan child names the index; count the heap scan under that name.
      const child = n.Plans?.find((c) => c['Index Name']);
      if (child && mainIndex === `bitmap ${n['Relation Name']}`) mainIndex = `${child['Index Name']} (bitmap)`;
    }
  });
  const returned = plan['Actual Rows'];
  if (discarded > DISCARD_FLOOR && discarded > bound * Math.max(1, returned)) {
    problems.push(`discards ${discarded} rows for ${returned} returned (bound ${bound} a row)`);
  }
  if (entry.indexes && !entry.indexes.some((i) => indexes.has(i))) {
    problems.push(`uses none of ${entry.indexes.join(', ')} (uses ${[...indexes].join(', ') || 'no index'})`);
  }
  return { read, discarded, returned, mainIndex: mainIndex || '-', problems, buffers: (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0) };
}

function describe(node: PlanNode, depth = 0): string {
  const removed = node['Rows Removed by Filter'] ? ` removed ${node['Rows Removed by Filter']}` : '';
  const line = `${'  '.repeat(depth)}${node['Node Type']}${node['Relation Name'] ? ` on ${node['Relation Name']}` : ''}${node['Index Name'] ? ` using ${node['Index Name']}` : ''} rows=${node['Actual Rows']} loops=${node['Actual Loops']}${removed}`;
  return [line, ...(node.Plans ?? []).map((c) => describe(c, depth + 1))].join('\n');
}

const EXPLAINABLE = /^\s*(\/\*.*?\*\/\s*)?(select|insert|update|delete|with|values)\b/is;
/** A parameter as an SQL literal, for EXECUTE: the prepared statement gives it its type. */
function literal(client: pg.Client, value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  const text = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));
  if (Array.isArray(value)) return client.escapeLiteral(`{${value.map((v) => (v === null ? 'NULL' : `"${text(v).replace(/(["\\])/g, '\\$1')}"`)).join(',')}}`);
  return client.escapeLiteral(text(value));
}

const SKIPPED = /^\s*(begin|commit|rollback|savepoint|release)\b/i;

export async function explainAll(databaseUrl: string, options: { bound: number; verbose: boolean; log?: (line: string) => void }): Promise<Measured[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  let captured: LogEvent[] = [];
  const handle = await connectDatabase({ databaseUrl, poolMax: 1, onStatement: (event) => captured.push(event) });
  const client = new pg.Client({ connectionString: databaseUrl, options: '-c TimeZone=UTC' });
  await client.connect();
  const results: Measured[] = [];
  try {
    const sizes = await client.query<{ relname: string; n: string }>(`SELECT relname, greatest(reltuples, 0)::bigint AS n FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace`);
    const tableRows = new Map(sizes.rows.map((r) => [r.relname, Number(r.n)]));
    const params = await loadExplainParams(handle.db);
    const rollback = new Error('rollback');
    for (const entry of EXPLAIN_REGISTRY) {
      captured = [];
      try {
        await handle.db.transaction().execute(async (trx) => {
          await entry.run(trx, params);
          throw rollback;
        });
      } catch (error) {
        if (error !== rollback) {
          results.push({ entry, tag: entry.fn, mainIndex: '-', returned: 0, read: 0, discarded: 0, buffers: 0, ms: 0, problems: [`the call failed: ${(error as Error).message}`] });
          continue;
        }
      }
      const statements = captured.filter((e) => !SKIPPED.test(e.query.sql));
      if (!statements.length) results.push({ entry, tag: entry.fn, mainIndex: '-', returned: 0, read: 0, discarded: 0, buffers: 0, ms: 0, problems: ['the call sent no statement'] });
      for (const statement of statements) {
        const tag = /^\s*\/\*\s*(\w+)/.exec(statement.query.sql)?.[1] ?? entry.fn;
        if (!EXPLAINABLE.test(statement.query.sql)) {
          // SET and the like have no plan: timed as they run.
          await client.query('BEGIN');
          const t = performance.now();
          await client.query(statement.query.sql, statement.query.parameters as unknown[]);
          const ms = performance.now() - t;
          await client.query('ROLLBACK');
          results.push({ entry, tag, mainIndex: 'utility statement', returned: 0, read: 0, discarded: 0, buffers: 0, ms, problems: [] });
          continue;
        }
        const bound = entry.maxDiscardedPerRow ?? options.bound;
        await client.query('BEGIN');
        try {
          const explained = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${statement.query.sql}`, statement.query.parameters as unknown[]);
          const top = (explained.rows[0]['QUERY PLAN'] as Array<{ Plan: PlanNode; 'Execution Time': number }>)[0];
          results.push({ entry, tag, ms: top['Execution Time'], plan: top.Plan, ...measurePlan(top.Plan, tableRows, entry, bound) });
        } finally {
          await client.query('ROLLBACK');
        }
        // The API prepares its statements (src/db/connect.ts), so after five runs PostgreSQL may
        // switch to the generic plan, made without the parameters' values: check that one too.
        if (statement.query.parameters.length) {
          await client.query('BEGIN');
          try {
            await client.query(`PREPARE explain_generic AS ${statement.query.sql}`);
            await client.query(`SET LOCAL plan_cache_mode = force_generic_plan`);
            const values = statement.query.parameters.map((v) => literal(client, v));
            const explained = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE explain_generic(${values.join(', ')})`);
            const top = (explained.rows[0]['QUERY PLAN'] as Array<{ Plan: PlanNode; 'Execution Time': number }>)[0];
            results.push({ entry, tag: `${tag} (generic)`, ms: top['Execution Time'], plan: top.Plan, ...measurePlan(top.Plan, tableRows, entry, bound) });
          } finally {
            await client.query('ROLLBACK');
            await client.query('DEALLOCATE ALL');
          }
        }
      }
    }
  } finally {
    await client.end();
    await handle.close();
  }
  const pad = (s: string | number, n: number) => String(s).padEnd(n).slice(0, n);
  const lpad = (s: string | number, n: number) => String(s).padStart(n);
  log(`${pad('statement', 58)} ${pad('function', 30)} ${pad('main index', 40)} ${lpad('returned', 8)} ${lpad('read', 9)} ${lpad('discarded', 9)} ${lpad('buffers', 8)} ${lpad('ms', 8)}`);
  for (const r of results) {
    log(`${pad(r.entry.name, 58)} ${pad(r.tag, 30)} ${pad(r.mainIndex, 40)} ${lpad(r.returned, 8)} ${lpad(r.read, 9)} ${lpad(r.discarded, 9)} ${lpad(r.buffers, 8)} ${lpad(r.ms.toFixed(2), 8)}${r.problems.length ? '  FAIL' : ''}`);
    for (const p of r.problems) log(`    ! ${p}`);
    if ((options.verbose || r.problems.length) && r.plan) log(describe(r.plan, 3));
  }
  return results;
}

function parseArgs(argv: string[]) {
  const flags = new Map<string, string>();
  let verbose = false;
  let migrate = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--verbose') verbose = true;
    else if (argv[i] === '--migrate') migrate = true;
    else if (argv[i].startsWith('--')) {
      const value = argv[i + 1];
      if (value === undefined) throw new Error(`Expected a value after ${argv[i]}, got the end of the arguments.`);
      flags.set(argv[i].slice(2), value);
      i++;
    } else throw new Error(`Expected a --flag, got "${argv[i]}".`);
  }
  const int = (name: string, fallback: number) => {
    const raw = flags.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`Expected --${name} to be a positive integer, got "${raw}".`);
    return n;
  };
  const databaseUrl = flags.get('database-url') ?? process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('Expected --database-url or DATABASE_URL, got neither.');
  return { databaseUrl, seed: flags.has('seed') ? int('seed', 0) : null, days: int('days', 14), bound: int('max-discarded-per-row', 50), verbose, migrate };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let url = args.databaseUrl;
  let dropAfter: (() => Promise<void>) | null = null;
  if (args.seed !== null) {
    const name = `booking_api_explain_${process.pid}`;
    const admin = new URL(args.databaseUrl);
    admin.pathname = '/postgres';
    const adminClient = new pg.Client({ connectionString: admin.toString() });
    await adminClient.connect();
    await adminClient.query(`CREATE DATABASE ${name}`);
    const own = new URL(args.databaseUrl);
    own.pathname = `/${name}`;
    url = own.toString();
    dropAfter = async () => {
      await adminClient.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await adminClient.end();
    };
  }
  try {
    if (args.seed !== null) await seedLarge({ databaseUrl: url, bookings: args.seed, businesses: Math.max(5, Math.round(args.seed / 2000)), partners: Math.max(5, Math.round(args.seed / 200)), customers: Math.max(5, Math.round(args.seed / 5)), days: args.days, reset: false });
    if (args.migrate) {
      const handle = await connectDatabase({ databaseUrl: url, poolMax: 1 });
      const applied = await migrateToLatest(handle.db).finally(() => handle.close());
      console.log(`[explain] migrated: ${applied.join(', ') || 'nothing to apply'}`);
    }
    const t = performance.now();
    const results = await explainAll(url, { bound: args.bound, verbose: args.verbose });
    const failed = results.filter((r) => r.problems.length);
    console.log(`[explain] ${results.length} plans, ${failed.length} failed, in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    if (failed.length) process.exitCode = 1;
  } finally {
    await dropAfter?.();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(`[explain] failed: ${(error as Error).message}`);
    process.exit(1);
  });
}
