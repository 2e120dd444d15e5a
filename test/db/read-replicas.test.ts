import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CACHE_CONFIG } from '../../src/cache/create-cache.js';
import { DEFAULT_REPLICA_CONFIG, loadConfig, type ReplicaConfig } from '../../src/config.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { TEST_REDIS_URL } from '../availability/availability-support.js';
import { loggedErrors, startTestApi, type TestApi } from '../support/api.js';
import { createBookableBusiness } from '../support/builders.js';
import { startPostgresCluster, startStreamingReplica, type PostgresCluster } from '../support/postgres-cluster.js';

const NAME = `query($id: ID!) { node(id: $id) { ... on Business { name } } }`;
const CREATE = `mutation($input: BookingCreateInput!) {
  bookingCreate(input: $input) { booking { partner { activeBookingCount } } userErrors { code } }
}`;

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
async function eventually(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Expected ${what} within ${timeoutMs} ms; it did not happen.`);
    await wait(20);
  }
}

/**
 * A real primary and a real hot standby streaming from it (both this file's own, on free ports, so
 * the file runs on both CI passes whatever DATABASE_URL says). Where a read was served is seen in
 * its answer: with the standby's replay paused, a business renamed on the primary keeps its old
 * name on the standby only.
 */
describe('Read replicas (a real streaming replica)', () => {
  let primary: PostgresCluster;
  let replica: PostgresCluster;
  let setup: DatabaseHandle;
  let standby: DatabaseHandle;
  let built: Awaited<ReturnType<typeof createBookableBusiness>>;
  const opened: Array<{ api: TestApi; database: DatabaseHandle }> = [];

  beforeAll(async () => {
    primary = await startPostgresCluster();
    const admin = await connectDatabase({ databaseUrl: primary.url, poolMax: 1 });
    await sql`CREATE DATABASE booking`.execute(admin.db).finally(() => admin.close());
    setup = await connectDatabase({ databaseUrl: primary.urlOf('booking'), poolMax: 4 });
    await migrateToLatest(setup.db);
    built = await createBookableBusiness(setup.db, { partners: 1, slotCount: 40 });
    replica = await startStreamingReplica(primary);
    // Stopped mid-test on purpose: its outage is no news.
    standby = await connectDatabase({ databaseUrl: replica.urlOf('booking'), poolMax: 1, availability: { down: () => {}, up: () => {} } });
  }, 120_000);

  afterAll(async () => {
    try {
      for (const { api, database } of opened) {
        await api.close();
        await database.close();
      }
      await standby?.close();
      await setup?.close();
    } finally {
      await replica?.destroy();
      await primary?.destroy();
    }
  }, 60_000);

  /** An API instance reading from the replica; instances given the same `redisPrefix` share the read-your-writes window. */
  async function openInstance(replicas: Partial<ReplicaConfig>, redisPrefix?: string): Promise<{ api: TestApi; database: DatabaseHandle }> {
    const config = { ...DEFAULT_REPLICA_CONFIG, ...replicas, readUrls: [replica.urlOf('booking')] };
    const database = await connectDatabase({ databaseUrl: primary.urlOf('booking'), readUrls: config.readUrls, replication: config, poolMax: 8 });
    const api = await startTestApi({
      database,
      // Without the catalog cache: which server answers is read off a business's name, every time.
      config: { replicas: config, cache: { ...DEFAULT_CACHE_CONFIG, catalogTtlSeconds: 0, ...(redisPrefix ? { redisUrl: TEST_REDIS_URL, keyPrefix: redisPrefix } : {}) } },
    });
    opened.push({ api, database });
    return { api, database };
  }

  async function nameSeen(api: TestApi, token?: string): Promise<string> {
    const res = await api.gql(NAME, { id: built.business.gid }, { token });
    expect(res.errors).toBeUndefined();
    return res.data.node.name;
  }

  /** Renames the business on the primary and waits until the standby has replayed it. */
  async function renameEverywhere(name: string): Promise<void> {
    await sql`UPDATE businesses SET name = ${name} WHERE id = ${built.business.id}`.execute(setup.db);
    await eventually(`the standby to replay "${name}"`, 10_000, async () => {
      const { rows } = await sql<{ name: string }>`SELECT name FROM businesses WHERE id = ${built.business.id}`.execute(standby.db);
      return rows[0].name === name;
    });
  }

  /** Pauses the standby's replay, then renames on the primary alone: the standby keeps the old name. */
  async function renameOnPrimaryOnly(name: string): Promise<void> {
    await sql`SELECT pg_wal_replay_pause()`.execute(standby.db);
    // pg_wal_replay_pause() only requests the pause: a record arriving before the standby takes it
    // is still replayed (CI once saw the rename there). Rename once the standby says it is paused.
    await eventually('the standby to pause its replay', 10_000, async () => {
      const { rows } = await sql<{ state: string }>`SELECT pg_get_wal_replay_pause_state() AS state`.execute(standby.db);
      return rows[0].state === 'paused';
    });
    await sql`UPDATE businesses SET name = ${name} WHERE id = ${built.business.id}`.execute(setup.db);
  }

  async function resumeReplay(): Promise<void> {
    await sql`SELECT pg_wal_replay_resume()`.execute(standby.db);
  }

  it('serves catalog reads from the replica, a mutation and its writer from the primary (on another instance too), until the window ends', async () => {
    const prefix = `test-replicas-${randomUUID().slice(0, 8)}:`;
    // Lag never takes the replica out here: what is tested is who reads where.
    const replication = { maxLagMs: 600_000, checkIntervalMs: 100, readYourWritesMs: 2000 };
    const a = await openInstance(replication, prefix);
    const b = await openInstance(replication, prefix);
    const customer = await a.api.token({ sub: 'replica-customer', role: 'customer', business_id: built.business.gid, customer_id: built.customer.gid });
    const other = await a.api.token({ sub: 'replica-admin', role: 'admin' });
    await renameEverywhere('Before');
    await renameOnPrimaryOnly('After');
    try {
      expect(await nameSeen(a.api)).toBe('Before');
      expect(await nameSeen(a.api, customer)).toBe('Before');
      expect(a.database.replicas!.status()).toEqual([expect.objectContaining({ up: true, serving: true })]);

      const partner = built.partners[0];
      const booked = await a.api.gql(CREATE, { input: { serviceId: built.service.gid, startsAt: partner.slots[4].startsAt, partnerId: partner.gid } }, { token: customer });
      expect(booked.data.bookingCreate.userErrors).toEqual([]);
      // The payload is read from the primary: the replica (paused) still counts no booking.
      expect(booked.data.bookingCreate.booking.partner.activeBookingCount).toBe(1);
      const wroteAt = Date.now();

      expect(await nameSeen(a.api, customer)).toBe('After');
      expect(await nameSeen(b.api, customer)).toBe('After');
      expect(await nameSeen(b.api, other)).toBe('Before');
      expect(await nameSeen(b.api)).toBe('Before');

      await wait(Math.max(0, wroteAt + replication.readYourWritesMs + 100 - Date.now()));
      expect(await nameSeen(a.api, customer)).toBe('Before');
      expect(await nameSeen(b.api, customer)).toBe('Before');
    } finally {
      await resumeReplay();
    }
  });

  it('sends reads to the primary while the replica lags more than REPLICA_MAX_LAG_MS, and back once it has caught up', async () => {
    const { api, database } = await openInstance({ maxLagMs: 300, checkIntervalMs: 100, readYourWritesMs: 1000 });
    await renameEverywhere('Caught up');
    expect(await nameSeen(api)).toBe('Caught up');
    await renameOnPrimaryOnly('Lagging');
    const pausedAt = performance.now();
    try {
      await eventually('reads served by the primary', 5000, async () => (await nameSeen(api)) === 'Lagging');
      const fallbackMs = Math.round(performance.now() - pausedAt);
      const [status] = database.replicas!.status();
      expect(status).toMatchObject({ up: true, serving: false });
      expect(status.lagMs).toBeGreaterThan(300);
      console.info(`[replicas] lag over 300 ms: reads on the primary ${fallbackMs} ms after the replica stopped replaying (lag ${status.lagMs} ms at the check)`);
    } finally {
      await resumeReplay();
    }
    const resumedAt = performance.now();
    await eventually('the replica to serve again', 5000, () => database.replicas!.serving);
    console.info(`[replicas] back on the replica ${Math.round(performance.now() - resumedAt)} ms after replay resumed`);
    expect(database.replicas!.status()).toEqual([expect.objectContaining({ up: true, serving: true, lagMs: 0 })]);
  });

  it('keeps answering without an error when the replica stops under load (reads go to the primary), and uses it again once it is back', async () => {
    const { api, database } = await openInstance({ maxLagMs: 600_000, checkIntervalMs: 100, readYourWritesMs: 1000 });
    await renameEverywhere('Replica copy');
    await renameOnPrimaryOnly('Primary copy');
    const errorsBefore = loggedErrors.length;
    const answers: Array<{ at: number; name?: string; errors?: unknown }> = [];
    let running = true;
    const worker = async () => {
      while (running) {
        const res = await api.gql(NAME, { id: built.business.gid });
        answers.push({ at: performance.now(), name: res.data?.node?.name, errors: res.errors });
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    try {
      await eventually('answers from the replica', 5000, () => answers.filter((a) => a.name === 'Replica copy').length >= 20);
      const stoppedAt = performance.now();
      await replica.stopImmediate();
      await eventually('answers from the primary', 5000, () => answers.some((a) => a.at > stoppedAt && a.name === 'Primary copy'));
      const firstFromPrimary = answers.find((a) => a.at > stoppedAt && a.name === 'Primary copy')!.at;
      await eventually('the replica to be taken out', 5000, () => !database.replicas!.serving);
      const takenOutMs = Math.round(performance.now() - stoppedAt);
      await wait(500);
      expect(database.replicas!.status()).toEqual([expect.objectContaining({ up: false, serving: false })]);
      // Degraded, not unready: every instance shares the replica, and reads fall back to the primary.
      const ready = await fetch(api.app.url.replace(/\/graphql$/, '/readyz'));
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ready: true, failing: [], degraded: ['replicas'] });
      const after = answers.filter((a) => a.at > stoppedAt).length;
      console.info(`[replicas] replica stopped under load: first answer from the primary ${Math.round(firstFromPrimary - stoppedAt)} ms later, replica out of rotation after ${takenOutMs} ms; ${after} answers since, 0 errors expected`);

      const startedAt = performance.now();
      await replica.start();
      await eventually('the replica to serve again', 15_000, () => database.replicas!.serving);
      console.info(`[replicas] replica restarted: serving again ${Math.round(performance.now() - startedAt)} ms after pg_ctl start began`);
      // Replay is not paused after a restart: it catches up, and serves the primary's name.
      await eventually('answers from the restarted replica', 10_000, async () => (await nameSeen(api)) === 'Primary copy' && database.replicas!.serving);
    } finally {
      running = false;
      await Promise.all(workers);
    }
    expect(answers.filter((a) => a.errors !== undefined || a.name === undefined)).toEqual([]);
    expect(loggedErrors.slice(errorsBefore)).toEqual([]);
  });
});

describe('Read replica settings', () => {
  const primary = 'postgres://api@db:5432/booking';

  it('reads DATABASE_READ_URL as comma-separated PostgreSQL URLs with the lag bound and the window', () => {
    const config = loadConfig({ DATABASE_URL: primary, DATABASE_READ_URL: 'postgres://api@r1:5432/booking, postgresql://api@r2/booking', REPLICA_MAX_LAG_MS: '2000', READ_YOUR_WRITES_MS: '8000' });
    expect(config.replicas).toEqual({ readUrls: ['postgres://api@r1:5432/booking', 'postgresql://api@r2/booking'], maxLagMs: 2000, checkIntervalMs: 500, readYourWritesMs: 8000 });
    expect(loadConfig({ DATABASE_URL: primary }).replicas.readUrls).toEqual([]);
  });

  it('refuses a replica URL that is not a PostgreSQL one, replicas without a primary, and a window shorter than the lag a replica may have', () => {
    expect(() => loadConfig({ DATABASE_URL: primary, DATABASE_READ_URL: 'r1:5432' })).toThrow('Expected DATABASE_READ_URL to be comma-separated postgres:// URLs, got "r1:5432".');
    expect(() => loadConfig({ DATABASE_READ_URL: 'postgres://api@r1/booking' })).toThrow('Expected DATABASE_URL (the primary) beside DATABASE_READ_URL');
    expect(() => loadConfig({ DATABASE_URL: primary, DATABASE_READ_URL: 'postgres://api@r1/booking', REPLICA_MAX_LAG_MS: '5000', READ_YOUR_WRITES_MS: '5000' })).toThrow(
      'Expected READ_YOUR_WRITES_MS to be at least REPLICA_MAX_LAG_MS + REPLICA_CHECK_INTERVAL_MS (5500), got 5000.',
    );
  });
});
