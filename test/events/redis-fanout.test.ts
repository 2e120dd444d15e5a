import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import type { AppConfig } from '../../src/app.js';
import type { EventBus } from '../../src/events/event-bus.js';
import { OutboxRelay } from '../../src/events/outbox-relay.js';
import { mutateOk, startTestApi, type TestApi } from '../support/api.js';
import { openIsolatedTestDatabase } from '../support/database.js';
import { uniqueSuffix } from '../support/builders.js';
import { freePort, startRedis, stopRedis } from '../support/redis.js';
import { bookedScene } from '../support/scenes.js';
import { BOOKING_EVENTS, record, untilSubscribed, wsClient } from '../support/subscriptions.js';
import type { DatabaseHandle } from '../../src/db/connect.js';

const CREATE = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { code } } }`;
const CONFIRM = `mutation($input: BookingConfirmInput!) { bookingConfirm(input: $input) { booking { id } userErrors { code } } }`;

/**
 * Two API instances over one database and one Redis of this test's own (it is stopped and started
 * again). The instances run in this process: each has its own Redis connections, relay and hub, as
 * separate processes would (test/events/two-processes.test.ts runs real processes). Their periodic
 * check of the relay's counter is off (1 minute), so what arrives came through Redis or through the
 * resynchronisation after a reconnect.
 */
describe('Booking events across instances, through Redis', () => {
  const prefix = `events-${uniqueSuffix()}:`;
  let redis: ChildProcess;
  let redisPort: number;
  let database: DatabaseHandle;
  let a: TestApi;
  let b: TestApi;
  const clients: Client[] = [];

  beforeAll(async () => {
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    database = await openIsolatedTestDatabase();
    const config: Partial<AppConfig> = {
      cache: { redisUrl: `redis://127.0.0.1:${redisPort}`, keyPrefix: prefix, ttlSeconds: 60, catalogTtlSeconds: 300, commandTimeoutMs: 200 },
      events: { relayIntervalMs: 100, republishAfterMs: 300, checkIntervalMs: 60_000, maxQueuedPerSubscriber: 1000 },
    };
    a = await startTestApi({ database, config });
    b = await startTestApi({ database, config });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await untilSubscribed(a.app, 0);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.close();
    if (redis) await stopRedis(redis);
  });

  function subscribeOnA(token: string, businessId: string) {
    const client = wsClient(a.app.wsUrl, token);
    clients.push(client);
    return record(client, BOOKING_EVENTS, { businessId });
  }

  /**
   * Confirms a booking through a third instance that "dies" right after its commit (its relay never
   * runs). The other instances' relays are paused meanwhile, so the event is seen unrelayed; the
   * test starts them again.
   */
  async function confirmOnDyingInstance(bookingGid: string, token: string) {
    await a.app.relay.stop();
    await b.app.relay.stop();
    const dying = await startTestApi({ database, config: { events: { relayIntervalMs: 60_000, republishAfterMs: 60_000, checkIntervalMs: 60_000, maxQueuedPerSubscriber: 10 } } });
    await dying.app.relay.stop();
    await mutateOk(dying, CONFIRM, { bookingId: bookingGid }, token);
    await dying.close();
  }

  const eventRows = (bookingGid: string) =>
    database.db.selectFrom('booking_events').select(['position', 'published_at', 'type']).where('booking_id', '=', Buffer.from(bookingGid, 'base64url').toString().split(':')[1]).orderBy('id').execute();

  it('delivers to a subscriber on one instance the events of mutations handled by the other', async () => {
    const s = await bookedScene(a);
    const events = subscribeOnA(s.tokens.staff, s.business.gid);
    await untilSubscribed(a.app, 1);
    await mutateOk(b, CONFIRM, { bookingId: s.booking.gid }, s.tokens.staff);
    const [first] = await events.waitFor(1);
    expect(first.bookingEvents).toMatchObject({ type: 'BOOKING_CONFIRMED', booking: { id: s.booking.gid, status: 'CONFIRMED' } });
  });

  it('delivers an event committed while Redis is stopped once Redis is back, exactly once', async () => {
    const s = await bookedScene(a);
    const events = subscribeOnA(s.tokens.staff, s.business.gid);
    await untilSubscribed(a.app, 1);

    await stopRedis(redis);
    await mutateOk(b, CONFIRM, { bookingId: s.booking.gid }, s.tokens.staff);
    // Committed and positioned, but not published: Redis is down.
    await b.app.relay.kick();
    expect(await eventRows(s.booking.gid)).toEqual([{ position: expect.any(String), published_at: null, type: 'BOOKING_CONFIRMED' }]);
    await new Promise((r) => setTimeout(r, 500));
    expect(events.results).toEqual([]);

    redis = await startRedis(redisPort);
    const [delivered] = await events.waitFor(1, 15_000);
    expect(delivered.bookingEvents).toMatchObject({ type: 'BOOKING_CONFIRMED', booking: { id: s.booking.gid } });
    // The relay publishes it again once Redis is back and marks it published; the subscriber's
    // instance drops the duplicate (same position).
    const deadline = Date.now() + 10_000;
    while ((await eventRows(s.booking.gid))[0].published_at === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await eventRows(s.booking.gid))[0].published_at).not.toBeNull();
    await new Promise((r) => setTimeout(r, 300));
    expect(events.results).toHaveLength(1);
  });

  it('publishes an event whose instance died before relaying it: another instance\'s relay does', async () => {
    const s = await bookedScene(a);
    const events = subscribeOnA(s.tokens.staff, s.business.gid);
    await untilSubscribed(a.app, 1);
    await confirmOnDyingInstance(s.booking.gid, s.tokens.staff);
    expect(await eventRows(s.booking.gid)).toEqual([{ position: null, published_at: null, type: 'BOOKING_CONFIRMED' }]);

    // The other instances' relays find it on their timer.
    a.app.relay.start();
    b.app.relay.start();

    const [delivered] = await events.waitFor(1);
    expect(delivered.bookingEvents).toMatchObject({ type: 'BOOKING_CONFIRMED', booking: { id: s.booking.gid } });
    expect((await eventRows(s.booking.gid))[0].position).not.toBeNull();
  });

  it('publishes an event positioned by an instance that died before publishing it', async () => {
    const s = await bookedScene(a);
    const events = subscribeOnA(s.tokens.staff, s.business.gid);
    await untilSubscribed(a.app, 1);
    await confirmOnDyingInstance(s.booking.gid, s.tokens.staff);
    // A relay that commits positions and then fails to publish, as a process killed between the two.
    const deadBus: EventBus = { backend: 'memory', publish: async () => { throw new Error('killed'); }, subscribe: async () => {}, close: async () => {} };
    const doomed = new OutboxRelay({ db: database.background, bus: deadBus, log: { info() {}, error() {} }, intervalMs: 60_000, republishAfterMs: 60_000 });
    await doomed.kick();
    expect(await eventRows(s.booking.gid)).toEqual([{ position: expect.any(String), published_at: null, type: 'BOOKING_CONFIRMED' }]);
    expect(events.results).toEqual([]);

    a.app.relay.start();
    b.app.relay.start();
    const [delivered] = await events.waitFor(1);
    expect(delivered.bookingEvents).toMatchObject({ type: 'BOOKING_CONFIRMED', booking: { id: s.booking.gid } });
    const deadline = Date.now() + 5000;
    while ((await eventRows(s.booking.gid))[0].published_at === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await eventRows(s.booking.gid))[0].published_at).not.toBeNull();
  });

  it('trusts nothing read from Redis: garbage and forged positions on the channel change nothing', async () => {
    const s = await bookedScene(a);
    const events = subscribeOnA(s.tokens.staff, s.business.gid);
    await untilSubscribed(a.app, 1);
    const publisher = new Redis(`redis://127.0.0.1:${redisPort}`);
    try {
      const before = a.app.events.position;
      // Not a position; a position far ahead; a fake event as the old message format would carry it.
      for (const message of ['{"not":"json"', '999999999', JSON.stringify([{ position: String(before + 1), businessId: s.business.id, type: 'BOOKING_CANCELLED' }])]) {
        await publisher.publish(`${prefix}booking-events`, message);
      }
      await a.app.events.catchUp();
      expect(a.app.events.position).toBe(before);
      expect(events.results).toEqual([]);
    } finally {
      publisher.disconnect();
    }
    // The instance is alive and the next real event is delivered.
    await mutateOk(b, CONFIRM, { bookingId: s.booking.gid }, s.tokens.staff);
    const [delivered] = await events.waitFor(1);
    expect(delivered.bookingEvents).toMatchObject({ type: 'BOOKING_CONFIRMED', booking: { id: s.booking.gid } });
  });

  it('gives dense, unique positions when both instances relay concurrent mutations, and the subscriber gets each event once, in order', async () => {
    const s = await bookedScene(a);
    const events = subscribeOnA(s.tokens.staff, s.business.gid);
    await untilSubscribed(a.app, 1);
    const slots = [...s.partners[0].slots.slice(4, 8), ...s.partners[1].slots];
    // 6 bookings of 60 minutes (2 slots each), half through each instance, all at once.
    const pairs = Array.from({ length: slots.length / 2 }, (_, i) => slots.slice(2 * i, 2 * i + 2));
    await Promise.all(pairs.map((pair, i) => mutateOk(i % 2 ? a : b, CREATE, { customerId: s.customer.gid, slotIds: pair.map((x) => x.gid) }, s.tokens.staff)));
    const received = (await events.waitFor(pairs.length)).map((r) => Number(r.bookingEvents.cursor));
    expect(received).toHaveLength(pairs.length);
    expect([...received].sort((x, y) => x - y)).toEqual(received);
    expect(new Set(received).size).toBe(received.length);
    const positions = await database.db.selectFrom('booking_events').select('position').where('position', 'is not', null).orderBy('position').execute();
    const numbers = positions.map((p) => Number(p.position));
    expect(numbers).toEqual(numbers.map((_, i) => numbers[0] + i));
  });
});
