import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { signDevelopmentToken } from '../../src/auth/tokens.js';
import { TEST_JWT_SECRET } from '../support/api.js';
import { startApiProcess, type ApiProcess } from '../support/api-process.js';
import { createBookableBusiness, uniqueSuffix } from '../support/builders.js';
import { onRealPostgres, openIsolatedTestDatabase } from '../support/database.js';
import { freePort, startRedis, stopRedis } from '../support/redis.js';
import { BOOKING_EVENTS, record, wsClient } from '../support/subscriptions.js';

const CREATE = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { code } } }`;

/**
 * Two real API processes (`src/index.ts`, as `npm start` runs it) over one PostgreSQL and one Redis:
 * a subscriber connected to the first gets the events of mutations sent to the second. Needs a
 * PostgreSQL both processes can reach (DATABASE_URL): the embedded database belongs to one process.
 */
describe.skipIf(!onRealPostgres)('Booking events across two API processes', () => {
  let redis: ChildProcess;
  let database: Awaited<ReturnType<typeof openIsolatedTestDatabase>>;
  let first: ApiProcess;
  let second: ApiProcess;
  const clients: Client[] = [];

  beforeAll(async () => {
    const port = await freePort();
    redis = await startRedis(port);
    database = await openIsolatedTestDatabase();
    const env = { DATABASE_URL: database.url!, REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_KEY_PREFIX: `two-${uniqueSuffix()}:`, EVENT_CHECK_INTERVAL_MS: '600000' };
    [first, second] = await Promise.all([startApiProcess(env), startApiProcess(env)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    const codes = await Promise.all([first?.stop(), second?.stop()]);
    await database?.close();
    if (redis) await stopRedis(redis);
    // Both shut down gracefully on SIGTERM.
    expect(codes).toEqual([0, 0]);
  });

  it('delivers to a subscriber on one process the events of mutations handled by the other, each once and in order', async () => {
    const built = await createBookableBusiness(database.db, { partners: 2, slotCount: 8, durationMinutes: 60 });
    const staff = await signDevelopmentToken(TEST_JWT_SECRET, { sub: 'staff', role: 'staff', business_id: built.business.gid });
    const client = wsClient(first.wsUrl, staff);
    clients.push(client);
    const events = record(client, BOOKING_EVENTS, { businessId: built.business.gid });
    const deadline = Date.now() + 10_000;
    while ((await first.metric('booking_event_subscribers')) !== 1) {
      if (Date.now() > deadline) throw new Error('The subscription did not go live on the first process.');
      await new Promise((r) => setTimeout(r, 20));
    }
    const pairs = built.partners.flatMap((p) => [p.slots.slice(0, 2), p.slots.slice(2, 4), p.slots.slice(4, 6), p.slots.slice(6, 8)]);
    const latencies: number[] = [];
    for (const pair of pairs) {
      const sent = performance.now();
      const res = await fetch(second.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${staff}` },
        body: JSON.stringify({ query: CREATE, variables: { input: { customerId: built.customer.gid, slotIds: pair.map((s) => s.gid) } } }),
      });
      const body = (await res.json()) as any;
      expect(body.data.bookingCreate.userErrors).toEqual([]);
      const before = events.results.length;
      await events.waitFor(before + 1);
      latencies.push(performance.now() - sent);
    }
    const cursors = events.results.map((r) => Number(r.bookingEvents.cursor));
    expect(events.results.map((r) => r.bookingEvents.type)).toEqual(pairs.map(() => 'BOOKING_CREATED'));
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
    expect(new Set(cursors).size).toBe(pairs.length);
    latencies.sort((a, b) => a - b);
    console.info(`[two processes] mutation sent on B -> event received on A: median ${latencies[latencies.length >> 1].toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms over ${latencies.length}`);
  });
});
