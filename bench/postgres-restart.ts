/**
 * What a PostgreSQL crash-restart does to the API under load, measured from outside.
 *
 * Makes a PostgreSQL 15 server of its own (test/support/postgres-cluster.ts), starts two API
 * processes on it (as `npm start` runs them), runs the mixed load of the fault test
 * (test/faults/restart-load.ts) for DURATION_S seconds and restarts the server with
 * `pg_ctl restart -m immediate` at RESTART_AT_S. Prints the requests by outcome, whether the
 * processes are still alive, and how long after the restart each one served a read again.
 *   npx tsx bench/postgres-restart.ts          # DURATION_S=20 RESTART_AT_S=10 WORKERS=16
 */
import { sql } from 'kysely';
import { signDevelopmentToken } from '../src/auth/tokens.js';
import { connectDatabase } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { startApiProcess, type ApiProcess } from '../test/support/api-process.js';
import { TEST_JWT_SECRET } from '../test/support/api.js';
import { createBookableBusiness } from '../test/support/builders.js';
import { startPostgresCluster } from '../test/support/postgres-cluster.js';
import { startLoad, tally, timeToServe } from '../test/faults/restart-load.js';

const durationMs = Number(process.env.DURATION_S ?? 20) * 1000;
const restartAtMs = Number(process.env.RESTART_AT_S ?? 10) * 1000;
const workers = Number(process.env.WORKERS ?? 16);

async function main() {
  const cluster = await startPostgresCluster();
  const processes: ApiProcess[] = [];
  try {
    const admin = await connectDatabase({ databaseUrl: cluster.url, poolMax: 1 });
    await sql`CREATE DATABASE booking`.execute(admin.db);
    await admin.close();
    const url = cluster.urlOf('booking');
    const database = await connectDatabase({ databaseUrl: url, poolMax: 4 });
    await migrateToLatest(database.db);
    const built = await createBookableBusiness(database.db, { partners: 20, slotCount: 2000, durationMinutes: 30 });
    await database.close();
    const token = await signDevelopmentToken(TEST_JWT_SECRET, { sub: 'bench', role: 'staff', business_id: built.business.gid });
    const env = { DATABASE_URL: url, NODE_ENV: 'production', AUTH_ACCEPT_CLAIM_TOKENS: 'true', AUTH_JWT_SECRET: TEST_JWT_SECRET, SLOW_QUERY_MS: '600000' };
    processes.push(...(await Promise.all([startApiProcess(env), startApiProcess(env)])));
    const urls = processes.map((p) => p.url);

    const load = startLoad({ urls, token, slug: built.business.slug, customerGid: built.customer.gid, slots: built.partners.flatMap((p) => p.slots), workers });
    await new Promise((r) => setTimeout(r, restartAtMs));
    const restartStarted = performance.now();
    await cluster.restartImmediate();
    const restartMs = Math.round(performance.now() - restartStarted);
    const serveAgain = await Promise.all(urls.map((u) => timeToServe(u, token, built.business.slug, 15_000)));
    await new Promise((r) => setTimeout(r, Math.max(0, durationMs - restartAtMs - (performance.now() - restartStarted))));
    const outcomes = await load.stop();

    const failed = outcomes.filter((o) => o.result !== 'ok');
    console.log(`requests: ${outcomes.length}, failed: ${failed.length}`);
    console.log('by outcome:', tally(outcomes));
    console.log(`pg_ctl restart took ${restartMs} ms; serving again after the restart returned: ${serveAgain.map((ms) => (ms === null ? 'never (15 s)' : `${ms} ms`)).join(', ')}`);
    console.log(`processes alive at the end: ${processes.map((p) => p.child.exitCode === null && p.child.signalCode === null).join(', ')}`);
    if (failed.length) console.log(`failures from ${Math.round(failed[0].at)} ms to ${Math.round(failed[failed.length - 1].at)} ms after the load started`);
    for (const [i, p] of processes.entries()) {
      const lines = p.output().split('\n').filter((l) => /error|warn|Unhandled/i.test(l));
      console.log(`process ${i}: ${lines.length} log lines with error/warn; first: ${lines.slice(0, 3).join(' | ').slice(0, 600)}`);
    }
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
    await cluster.destroy();
  }
}

await main();
