import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribeAvailabilityInvalidation } from '../../src/availability/availability-invalidation.js';
import { ReadThroughCache, type GenerationStore, type StoreEvent } from '../../src/cache/keyed-cache.js';
import { ChangeFeed } from '../../src/shared/change-feed.js';
import { createBookableBusiness, createSlots } from '../support/builders.js';
import {
  AVAILABLE_PARTNERS,
  AVAILABLE_SLOTS,
  startAvailabilityApi,
  startTimes,
  testCache,
  TEST_REDIS_URL,
  uniqueKeyPrefix,
  type AvailabilityApi,
} from './availability-support.js';

const SLOTS = 'available_slots';
const PARTNERS = 'available_partners';

/** A value from the /metrics text, e.g. metric(text, 'cache_hits_total', 'available_slots'). */
function metric(text: string, name: string, family?: string): number {
  const label = family ? `{family="${family}"}` : '{backend=';
  const line = text.split('\n').find((l) => l.startsWith(`${name}${label}`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Holds the next store of a computed value until released: the slow reader of the race. */
class StoreGate {
  private armed: { paused: ReturnType<typeof deferred>; release: ReturnType<typeof deferred> } | null = null;
  readonly hook = async (_event: StoreEvent) => {
    const armed = this.armed;
    if (!armed) return;
    this.armed = null;
    armed.paused.resolve();
    await armed.release.promise;
  };
  arm() {
    this.armed = { paused: deferred(), release: deferred() };
    return this.armed;
  }
}

/**
 * The seed design the issue replaced: entries under plain keys, a tracking set per scope, and
 * SMEMBERS + DEL on invalidation. It has the set-after-invalidate race.
 */
class DeleteOnWriteStore implements GenerationStore {
  readonly backend = 'redis' as const;
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}
  async read(scope: string, key: string) {
    return { generation: '0', value: await this.redis.get(`${this.prefix}${scope}:${key}`) };
  }
  async write(scope: string, key: string, _generation: string, value: string, ttlMs: number) {
    await this.redis.set(`${this.prefix}${scope}:${key}`, value, 'PX', ttlMs);
    await this.redis.sadd(`${this.prefix}${scope}:cache-keys`, `${this.prefix}${scope}:${key}`);
  }
  async bump(scopes: readonly string[]) {
    for (const scope of scopes) {
      const keys = await this.redis.smembers(`${this.prefix}${scope}:cache-keys`);
      await this.redis.del(`${this.prefix}${scope}:cache-keys`, ...keys);
    }
  }
  isUp() {
    return true;
  }
  async close() {}
}

const BLOCK = `mutation($input: SlotBlockInput!) { slotBlock(input: $input) { userErrors { code } } }`;

/** A business with two partners of four 30-minute slots from tomorrow 09:00 UTC, and a staff token. */
async function scene(api: AvailabilityApi) {
  const built = await createBookableBusiness(api.db, { partners: 2, slotCount: 4 });
  const staff = await api.token({ sub: 'staff-1', role: 'staff', business_id: built.business.gid });
  const date = built.start.toISOString().slice(0, 10);
  const slotsQuery = { businessId: built.business.gid, serviceId: built.service.gid, date };
  return { ...built, staff, date, slotsQuery, city: 'Berlin' };
}

/** The slow reader computes, the writer blocks a slot and returns, the reader stores: what does a read after all that see? */
async function raceSetAfterInvalidate(api: AvailabilityApi, gate: StoreGate) {
  const s = await scene(api);
  const contested = s.partners[0].slots[0];
  const { paused, release } = gate.arm();
  const slowReader = api.gql(AVAILABLE_SLOTS, { ...s.slotsQuery, partnerId: s.partners[0].gid });
  await paused.promise;
  const write = await api.gql(BLOCK, { input: { slotId: contested.gid } }, s.staff);
  expect(write.data.slotBlock.userErrors).toEqual([]);
  release.resolve();
  const slow = startTimes(await slowReader);
  const after = startTimes(await api.gql(AVAILABLE_SLOTS, { ...s.slotsQuery, partnerId: s.partners[0].gid }));
  return { contested: contested.startsAt, slow, after };
}

describe.each(['redis', 'memory'] as const)('Availability cache (%s)', (backend) => {
  let api: AvailabilityApi;
  const gate = new StoreGate();
  beforeAll(async () => {
    api = await startAvailabilityApi(await testCache(backend, { beforeStore: gate.hook }));
  });
  afterAll(() => api.close());

  it('answers a warm hit of either query with zero SQL statements, partners included', async () => {
    const s = await scene(api);
    const slotsQuery = `query($businessId: ID!, $serviceId: ID!, $date: Date!) {
      availableSlots(businessId: $businessId, serviceId: $serviceId, date: $date) { startsAt partners { id name } } }`;
    const partnersQuery = `query($city: String!, $date: Date!, $businessId: ID) { availablePartners(city: $city, date: $date, businessId: $businessId) { id name } }`;
    const cold = await api.countStatements(() => api.gql(slotsQuery, s.slotsQuery));
    const coldPartners = await api.countStatements(() => api.gql(partnersQuery, { city: s.city, date: s.date, businessId: s.business.gid }));
    expect(cold.statements).toBeGreaterThan(0);
    expect(coldPartners.statements).toBeGreaterThan(0);
    const before = await api.metricsText();
    const warm = await api.countStatements(() => api.gql(slotsQuery, s.slotsQuery));
    const warmPartners = await api.countStatements(() => api.gql(partnersQuery, { city: s.city, date: s.date, businessId: s.business.gid }));
    const after = await api.metricsText();
    expect(warm.statements).toBe(0);
    expect(warmPartners.statements).toBe(0);
    expect(warm.result.data).toEqual(cold.result.data);
    expect(warm.result.data.availableSlots).toHaveLength(4);
    expect(warm.result.data.availableSlots[0].partners).toHaveLength(2);
    expect(warmPartners.result.data).toEqual(coldPartners.result.data);
    expect(metric(after, 'cache_hits_total', SLOTS) - metric(before, 'cache_hits_total', SLOTS)).toBe(1);
    expect(metric(after, 'cache_hits_total', PARTNERS) - metric(before, 'cache_hits_total', PARTNERS)).toBe(1);
  });

  it('makes the next read fresh after every kind of invalidating change', async () => {
    const s = await scene(api);
    const [a, b] = s.partners;
    const feed = new ChangeFeed();
    const unsubscribe = subscribeAvailabilityInvalidation(feed, api.cache, api.db);
    const computations = () => api.cache.metrics.snapshot().families[SLOTS]?.computations ?? 0;
    const partnerComputations = () => api.cache.metrics.snapshot().families[PARTNERS]?.computations ?? 0;
    const startsOf = async (partnerId: string) => startTimes(await api.gql(AVAILABLE_SLOTS, { ...s.slotsQuery, partnerId }));
    const partnersAvailable = async () =>
      (await api.gql(AVAILABLE_PARTNERS, { city: s.city, date: s.date, businessId: s.business.gid })).data.availablePartners.map((p: { id: string }) => p.id);

    /** Warms both queries, runs the change, and checks that both are computed again, once. */
    async function expectFreshAfter(change: () => Promise<unknown>) {
      await startsOf(a.gid);
      await partnersAvailable();
      const [slotsBefore, partnersBefore] = [computations(), partnerComputations()];
      await startsOf(a.gid);
      await partnersAvailable();
      expect([computations(), partnerComputations()]).toEqual([slotsBefore, partnersBefore]);
      await change();
      const starts = await startsOf(a.gid);
      const partners = await partnersAvailable();
      expect([computations(), partnerComputations()]).toEqual([slotsBefore + 1, partnersBefore + 1]);
      return { starts, partners };
    }
    const mutate = async (query: string, input: Record<string, unknown>) => {
      const res = await api.gql(query, { input }, s.staff);
      expect(res.errors).toBeUndefined();
      const payload = Object.values(res.data as Record<string, { userErrors: unknown[] }>)[0];
      expect(payload.userErrors).toEqual([]);
      return payload as any;
    };
    const slotTimes = a.slots.map((slot) => slot.startsAt);

    // A booking created.
    let bookingId = '';
    let fresh = await expectFreshAfter(async () => {
      const created = await mutate(`mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { code } } }`, {
        serviceId: s.service.gid, startsAt: slotTimes[0], partnerId: a.gid, customerId: s.customer.gid,
      });
      bookingId = created.booking.id;
    });
    expect(fresh.starts).toEqual(slotTimes.slice(1));
    // Confirmed (availability is the same; the point is that nothing is served from before it).
    fresh = await expectFreshAfter(() => mutate(`mutation($input: BookingConfirmInput!) { bookingConfirm(input: $input) { userErrors { code } } }`, { bookingId }));
    expect(fresh.starts).toEqual(slotTimes.slice(1));
    // Rescheduled to the last slot.
    fresh = await expectFreshAfter(() =>
      mutate(`mutation($input: BookingRescheduleInput!) { bookingReschedule(input: $input) { userErrors { code } } }`, { bookingId, startsAt: slotTimes[3] }),
    );
    expect(fresh.starts).toEqual(slotTimes.slice(0, 3));
    // Cancelled.
    fresh = await expectFreshAfter(() => mutate(`mutation($input: BookingCancelInput!) { bookingCancel(input: $input) { userErrors { code } } }`, { bookingId }));
    expect(fresh.starts).toEqual(slotTimes);
    // A slot blocked, then unblocked.
    fresh = await expectFreshAfter(() => mutate(BLOCK, { slotId: a.slots[1].gid }));
    expect(fresh.starts).toEqual([slotTimes[0], slotTimes[2], slotTimes[3]]);
    fresh = await expectFreshAfter(() => mutate(`mutation($input: SlotUnblockInput!) { slotUnblock(input: $input) { userErrors { code } } }`, { slotId: a.slots[1].gid }));
    expect(fresh.starts).toEqual(slotTimes);
    // The partner deactivated, then activated.
    const setActive = `mutation($input: PartnerSetActiveInput!) { partnerSetActive(input: $input) { userErrors { code } } }`;
    fresh = await expectFreshAfter(() => mutate(setActive, { partnerId: a.gid, isActive: false }));
    expect(fresh).toEqual({ starts: [], partners: [b.gid] });
    fresh = await expectFreshAfter(() => mutate(setActive, { partnerId: a.gid, isActive: true }));
    expect(fresh.starts).toEqual(slotTimes);
    // Slots generated for the whole business (no partner named), and a schedule changed, as their
    // actions announce them: rows written, then the change published after the commit.
    fresh = await expectFreshAfter(async () => {
      await createSlots(api.db, s.business, a, new Date(Date.parse(slotTimes[3]) + 30 * 60_000), 1);
      await feed.publish({ action: 'slots.generated', businessId: s.business.id, partnerIds: [], ranges: [] });
    });
    expect(fresh.starts).toHaveLength(5);
    fresh = await expectFreshAfter(async () => {
      await api.db.deleteFrom('partner_slots').where('partner_id', '=', a.id).where('status', '=', 'available').execute();
      await feed.publish({ action: 'schedule.changed', businessId: s.business.id, partnerIds: [a.id], ranges: [] });
    });
    expect(fresh).toEqual({ starts: [], partners: [b.gid] });
    unsubscribe();
  });

  it('never serves a value computed before a write that returned, even when its slow reader stores it after the write', async () => {
    const { contested, slow, after } = await raceSetAfterInvalidate(api, gate);
    expect(slow).toContain(contested); // the slow reader began before the write: its own answer may be old
    expect(after).not.toContain(contested);
    expect(after).toHaveLength(3);
  });

  it('computes once for a burst of identical misses, the others joining the computation in flight', async () => {
    const s = await scene(api);
    const burst = 10;
    // A cold computation of the same shape (another key: one partner's starts), for its statement count.
    const single = await api.countStatements(() => api.gql(AVAILABLE_SLOTS, { ...s.slotsQuery, partnerId: s.partners[0].gid }));
    const before = api.cache.metrics.snapshot().families[SLOTS];
    // The computation is held before it stores until every request has missed and joined it.
    const { paused, release } = gate.arm();
    const { result, statements } = await api.countStatements(async () => {
      const answers = Promise.all(Array.from({ length: burst }, () => api.gql(AVAILABLE_SLOTS, s.slotsQuery)));
      await paused.promise;
      // Bounded: without single flight the joins never come, and the assertions below say so.
      for (let waited = 0; waited < 3000 && api.cache.metrics.snapshot().families[SLOTS].joins - before.joins < burst - 1; waited += 5) {
        await new Promise((r) => setTimeout(r, 5));
      }
      release.resolve();
      return answers;
    });
    const after = api.cache.metrics.snapshot().families[SLOTS];
    expect(after.computations - before.computations).toBe(1);
    expect(after.joins - before.joins).toBe(burst - 1);
    expect(after.misses - before.misses).toBe(burst);
    expect(statements).toBe(single.statements);
    expect(new Set(result.map((r) => JSON.stringify(r.data))).size).toBe(1);
    expect(startTimes(result[0])).toHaveLength(4);
  });

  it('serves its counters at GET /metrics in the Prometheus text format', async () => {
    const text = await api.metricsText();
    expect(text).toContain('# TYPE cache_hits_total counter');
    expect(text).toMatch(/^cache_misses_total\{family="available_slots"\} \d+$/m);
    expect(text).toMatch(/^cache_singleflight_joins_total\{family="available_slots"\} \d+$/m);
    expect(text).toMatch(new RegExp(`^cache_invalidations_total\\{backend="${backend}"\\} [1-9]\\d*$`, 'm'));
    expect(text).toMatch(new RegExp(`^cache_store_errors_total\\{backend="${backend}"\\} 0$`, 'm'));
    expect(text).toMatch(new RegExp(`^cache_store_up\\{backend="${backend}"\\} 1$`, 'm'));
  });
});

describe('The delete-on-write design the generations replace', () => {
  let api: AvailabilityApi;
  let redis: Redis;
  const gate = new StoreGate();
  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    const cache = new ReadThroughCache(new DeleteOnWriteStore(redis, uniqueKeyPrefix()), { ttlMs: 60_000, beforeStore: gate.hook });
    api = await startAvailabilityApi(cache);
  });
  afterAll(async () => {
    await api.close();
    await redis.quit();
  });

  it('serves the stale value after the same interleaving of a slow reader and a writer', async () => {
    const { contested, after } = await raceSetAfterInvalidate(api, gate);
    expect(after).toContain(contested);
  });
});
