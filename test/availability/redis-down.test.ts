import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBookableBusiness } from '../support/builders.js';
import { freePort, startRedis, stopRedis } from '../support/redis.js';
import { AVAILABLE_SLOTS, startAvailabilityApi, startTimes, testCache, type AvailabilityApi } from './availability-support.js';


async function until(condition: () => boolean | Promise<boolean>, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Expected ${what} within ${limitMs} ms.`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const BLOCK = `mutation($input: SlotBlockInput!) { slotBlock(input: $input) { userErrors { code } } }`;

describe('Availability cache when Redis is down or slow', () => {
  let port: number;
  let redis: ChildProcess;
  let api: AvailabilityApi;
  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    api = await startAvailabilityApi(await testCache('redis', { redisUrl: `redis://127.0.0.1:${port}`, commandTimeoutMs: 200 }));
  });
  afterAll(async () => {
    await api?.close();
    if (redis) await stopRedis(redis);
  });

  const counters = () => {
    const snapshot = api.cache.metrics.snapshot();
    return { ...snapshot.families.available_slots, storeErrors: snapshot.storeErrors };
  };

  async function scene() {
    const built = await createBookableBusiness(api.db, { partners: 1, slotCount: 3 });
    const staff = await api.token({ sub: 'staff-1', role: 'staff', business_id: built.business.gid });
    const query = { businessId: built.business.gid, serviceId: built.service.gid, date: built.start.toISOString().slice(0, 10) };
    return { ...built, staff, query, times: built.partners[0].slots.map((s) => s.startsAt) };
  }

  it('answers from PostgreSQL with no error while Redis is stopped, and uses the cache again once it is back', async () => {
    const s = await scene();
    expect(startTimes(await api.gql(AVAILABLE_SLOTS, s.query))).toEqual(s.times);
    const warm = counters();
    expect(startTimes(await api.gql(AVAILABLE_SLOTS, s.query))).toEqual(s.times);
    expect(counters().hits).toBe(warm.hits + 1);

    await stopRedis(redis);
    await until(async () => /^cache_store_up\{backend="redis"\} 0$/m.test(await api.metricsText()), 'the client to notice Redis is gone');
    const down = counters();
    const whileDown = await api.gql(AVAILABLE_SLOTS, s.query);
    expect(whileDown.errors).toBeUndefined();
    expect(startTimes(whileDown)).toEqual(s.times);
    const blocked = await api.gql(BLOCK, { input: { slotId: s.partners[0].slots[0].gid } }, s.staff);
    expect(blocked.data.slotBlock.userErrors).toEqual([]);
    expect(startTimes(await api.gql(AVAILABLE_SLOTS, s.query))).toEqual(s.times.slice(1));
    expect(counters()).toMatchObject({ hits: down.hits, computations: down.computations + 2 });
    expect(counters().storeErrors).toBeGreaterThan(down.storeErrors);
    expect(await api.metricsText()).toMatch(/^cache_store_up\{backend="redis"\} 0$/m);

    redis = await startRedis(port);
    await until(async () => /^cache_store_up\{backend="redis"\} 1$/m.test(await api.metricsText()), 'the cache to reconnect');
    const back = counters();
    expect(startTimes(await api.gql(AVAILABLE_SLOTS, s.query))).toEqual(s.times.slice(1));
    expect(startTimes(await api.gql(AVAILABLE_SLOTS, s.query))).toEqual(s.times.slice(1));
    expect(counters()).toMatchObject({ computations: back.computations + 1, hits: back.hits + 1 });
  });

  it('answers from PostgreSQL within the command timeout while Redis hangs', async () => {
    const s = await scene();
    await api.gql(AVAILABLE_SLOTS, s.query);
    const before = counters();
    redis.kill('SIGSTOP');
    try {
      const whileHung = await api.gql(AVAILABLE_SLOTS, s.query);
      expect(whileHung.errors).toBeUndefined();
      expect(startTimes(whileHung)).toEqual(s.times);
    } finally {
      redis.kill('SIGCONT');
    }
    expect(counters()).toMatchObject({ hits: before.hits, computations: before.computations + 1 });
    expect(counters().storeErrors).toBeGreaterThan(before.storeErrors);
  });

  it('makes up for an invalidation Redis refused before it serves from Redis again', async () => {
    const s = await scene();
    await api.gql(AVAILABLE_SLOTS, s.query);
    expect(startTimes(await api.gql(AVAILABLE_SLOTS, s.query))).toEqual(s.times);

    // Redis refuses the cache's scripts but keeps its data: the entry computed before the write
    // below survives it, and the write's generation bump is refused.
    const admin = new Redis(`redis://127.0.0.1:${port}`);
    try {
      await admin.call('ACL', 'SETUSER', 'default', '-eval', '-evalsha');
      const blocked = await api.gql(BLOCK, { input: { slotId: s.partners[0].slots[1].gid } }, s.staff);
      expect(blocked.data.slotBlock.userErrors).toEqual([]);
      const whileRefused = await api.gql(AVAILABLE_SLOTS, s.query);
      expect(whileRefused.errors).toBeUndefined();
      expect(startTimes(whileRefused)).toEqual([s.times[0], s.times[2]]);
    } finally {
      await admin.call('ACL', 'SETUSER', 'default', '+@all');
      await admin.quit();
    }
    const resumed = counters();
    expect(startTimes(await api.gql(AVAILABLE_SLOTS, s.query))).toEqual([s.times[0], s.times[2]]);
    expect(startTimes(await api.gql(AVAILABLE_SLOTS, s.query))).toEqual([s.times[0], s.times[2]]);
    expect(counters()).toMatchObject({ computations: resumed.computations + 1, hits: resumed.hits + 1 });
  });
});
