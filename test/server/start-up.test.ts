import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiProcess, type ApiProcess } from '../support/api-process.js';
import { openIsolatedTestDatabase } from '../support/database.js';

/**
 * `npm start` with every statement "slow" (SLOW_QUERY_MS=0) and the slot generation job on: the
 * migrator's statements are not reported, the banner is printed in one piece, and the first
 * request is answered before the job's first pass.
 */
describe('Start-up', () => {
  let database: Awaited<ReturnType<typeof openIsolatedTestDatabase>>;
  let api: ApiProcess;
  beforeAll(async () => {
    database = await openIsolatedTestDatabase();
    api = await startApiProcess({
      SLOW_QUERY_MS: '0',
      LOG_FORMAT: 'json',
      SLOT_GENERATION_INTERVAL_MINUTES: '60',
      ...(database.url ? { DATABASE_URL: database.url } : { DATA_DIR: 'memory://' }),
    });
  }, 120_000);
  afterAll(async () => {
    await api?.stop();
    await database?.close();
  });

  it('prints the banner in one piece, with no slow statement of the migrator before it', async () => {
    const res = await fetch(api.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect(res.status).toBe(200);
    const lines = api.output().split('\n');
    const first = lines.findIndex((l) => l.startsWith('Booking API ready'));
    expect(lines.slice(first, first + 4).map((l) => l.trim().split(/[: ]/)[0])).toEqual(['Booking', 'GraphQL', 'Sandbox', 'Subscriptions']);
    const slowBefore = lines.slice(0, first).filter((l) => l.includes('"Slow statement"'));
    expect(slowBefore.filter((l) => /kysely_migration|information_schema|pg_catalog/.test(l))).toEqual([]);
    // The job's first pass waits: the first answer's line comes before anything of the job.
    for (let waited = 0; !api.output().includes('"GraphQL operation"') && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    const answered = api.output().indexOf('"GraphQL operation"');
    const pass = api.output().indexOf('Slot generation pass');
    expect(answered).toBeGreaterThan(0);
    expect(pass === -1 || pass > answered).toBe(true);
  });
});
