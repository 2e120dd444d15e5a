import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readiness } from '../../src/server/readiness.js';
import { DEFAULT_CACHE_CONFIG } from '../../src/cache/create-cache.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { freePort } from '../support/redis.js';

const quiet = { info() {}, warn() {}, error() {} };
const probe = (api: TestApi, path: string, init?: RequestInit) => fetch(api.app.url.replace(/\/graphql$/, path), init);

describe('GET /healthz and /readyz', () => {
  let api: TestApi;
  beforeAll(async () => {
    // Its own database: a test below takes a migration back.
    api = await startTestApi({ isolated: true });
  });
  afterAll(() => api.close());

  it('answers /healthz with 200 "ok" without checking anything', async () => {
    const res = await probe(api, '/healthz');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
  });

  it('answers /readyz with 200 and every check passed when the database is reachable and migrated', async () => {
    const res = await probe(api, '/readyz');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.json();
    expect(body).toMatchObject({ ready: true, status: 'ready', failing: [] });
    expect(body.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok])).toEqual([
      ['database', true],
      ['migrations', true],
    ]);
  });

  it('turns 503 naming "migrations" when the database lacks a migration of this build', async () => {
    const latest = await sql<{ name: string; timestamp: string }>`SELECT name, timestamp FROM kysely_migration ORDER BY name DESC LIMIT 1`.execute(api.db);
    const { name, timestamp } = latest.rows[0];
    await sql`DELETE FROM kysely_migration WHERE name = ${name}`.execute(api.db);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1100)); // past the reused verdict
      const res = await probe(api, '/readyz');
      expect(res.status).toBe(503);
      const body = await res.json();
      expect(body).toMatchObject({ ready: false, status: 'unready', failing: ['migrations'] });
      expect(body.checks.find((c: { name: string }) => c.name === 'migrations').error).toContain(name);
    } finally {
      await sql`INSERT INTO kysely_migration (name, timestamp) VALUES (${name}, ${timestamp})`.execute(api.db);
    }
  });

  it('turns 503 naming "shutdown" once draining begins, and closes each answered connection', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    api.app.readiness.startDraining();
    const res = await probe(api, '/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ready: false, status: 'draining', failing: ['shutdown'] });
    // Requests are still served while the load balancer drains the instance.
    const answer = await api.gql('{ __typename }');
    expect(answer).toMatchObject({ status: 200, data: { __typename: 'Query' } });
    expect(res.headers.get('connection')).toBe('close');
  });
});

describe('GET /readyz with Redis configured', () => {
  it('names "redis" when the configured Redis does not answer', async () => {
    const port = await freePort();
    const api = await startTestApi({ config: { cache: { ...DEFAULT_CACHE_CONFIG, redisUrl: `redis://127.0.0.1:${port}`, keyPrefix: 'readiness-test:' } } });
    try {
      const res = await probe(api, '/readyz');
      expect(res.status).toBe(503);
      const body = await res.json();
      expect(body.failing).toEqual(['redis']);
      expect(body.checks.map((c: { name: string }) => c.name)).toEqual(['database', 'migrations', 'redis']);
    } finally {
      await api.close();
    }
  });

  it('passes "redis" when Redis answers', async () => {
    const api = await startTestApi({ config: { cache: { ...DEFAULT_CACHE_CONFIG, redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', keyPrefix: 'readiness-test:' } } });
    try {
      const res = await probe(api, '/readyz');
      expect(await res.json()).toMatchObject({ ready: true, failing: [] });
      expect(res.status).toBe(200);
    } finally {
      await api.close();
    }
  });
});

describe('Readiness: bounded and cheap under load', () => {
  it('fails a check that does not answer within its timeout, naming it, without waiting for it', async () => {
    const readiness = new Readiness(
      [
        { name: 'database', check: async () => {} },
        { name: 'replica-lag', check: () => new Promise(() => {}) },
      ],
      { log: quiet, timeoutMs: 50 },
    );
    const started = performance.now();
    const verdict = await readiness.verdictNow();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(verdict).toMatchObject({ ready: false, failing: ['replica-lag'] });
    expect(verdict.checks[1]).toMatchObject({ name: 'replica-lag', ok: false, error: 'timed out after 50 ms' });
  });

  it('stays ready with a failing advisory check (read replicas: reads fall back to the primary), listing it as degraded', async () => {
    const readiness = new Readiness(
      [
        { name: 'database', check: async () => {} },
        { name: 'replicas', advisory: true, check: async () => { throw new Error('Expected every read replica to serve reads, 1 of 1 do not: r1 (down).'); } },
      ],
      { log: quiet },
    );
    const verdict = await readiness.verdictNow();
    expect(verdict).toMatchObject({ ready: true, status: 'ready', failing: [], degraded: ['replicas'] });
    expect(verdict.checks[1]).toMatchObject({ name: 'replicas', ok: false, error: expect.stringContaining('r1 (down)') });
  });

  it('runs one round of checks for concurrent probes and reuses the verdict until it is older than its lifetime', async () => {
    let rounds = 0;
    const readiness = new Readiness([{ name: 'database', check: async () => void rounds++ }], { log: quiet, verdictTtlMs: 200 });
    await Promise.all(Array.from({ length: 50 }, () => readiness.verdictNow()));
    await readiness.verdictNow();
    expect(rounds).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 250));
    await readiness.verdictNow();
    expect(rounds).toBe(2);
  });

  it('logs a change of verdict once, not at every probe', async () => {
    const warnings: unknown[] = [];
    let up = false;
    const readiness = new Readiness([{ name: 'database', check: async () => { if (!up) throw new Error('connect ECONNREFUSED'); } }], {
      log: { ...quiet, warn: (message, context) => void warnings.push({ message, context }) },
      verdictTtlMs: 0,
    });
    for (let i = 0; i < 3; i++) await readiness.verdictNow();
    up = true;
    expect((await readiness.verdictNow()).ready).toBe(true);
    expect(warnings).toEqual([{ message: 'Not ready', context: { failing: ['database'], degraded: [], checks: [expect.objectContaining({ name: 'database', error: 'connect ECONNREFUSED' })] } }]);
  });
});
