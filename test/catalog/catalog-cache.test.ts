import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CACHE_CONFIG } from '../../src/cache/create-cache.js';
import { mutateOk, startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { createBookableBusiness, createBooking } from '../support/builders.js';
import { TEST_REDIS_URL, uniqueKeyPrefix } from '../availability/availability-support.js';
import { sampleValue } from '../server/metrics-text.js';

/** A booking with its service, partner and business: the three catalog rows by id. */
const BOOKING = `query($id: ID!) { node(id: $id) { ... on Booking { id service { name isActive } partner { name isActive } business { name } } } }`;
const PARTNER_COUNT = `query($id: ID!) { node(id: $id) { ... on Partner { activeBookingCount } } }`;

const SERVICE_UPDATE = `mutation($input: ServiceUpdateInput!) { serviceUpdate(input: $input) { service { id } userErrors { code } } }`;
const PARTNER_UPDATE = `mutation($input: PartnerUpdateInput!) { partnerUpdate(input: $input) { partner { id } userErrors { code } } }`;
const PARTNER_SET_ACTIVE = `mutation($input: PartnerSetActiveInput!) { partnerSetActive(input: $input) { partner { id } userErrors { code } } }`;
const BUSINESS_UPDATE = `mutation($input: BusinessUpdateInput!) { businessUpdate(input: $input) { business { id } userErrors { code } } }`;
const SERVICE_ARCHIVE = `mutation($input: ServiceArchiveInput!) { serviceArchive(input: $input) { service { id } userErrors { code } } }`;
const BOOKING_CREATE = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { code message } } }`;

async function scene(api: TestApi) {
  const built = await createBookableBusiness(api.db, { partners: 1, slotCount: 4 });
  const partner = built.partners[0];
  const booking = await createBooking(api.db, { business: built.business, service: built.service, partner, customer: built.customer, slots: [partner.slots[0]] });
  const tokens = await tokensFor(api, { businessGid: built.business.gid, partnerGid: partner.gid, customerGid: built.customer.gid });
  return { ...built, partner, booking, tokens };
}

type Scene = Awaited<ReturnType<typeof scene>>;

async function read(api: TestApi, s: Scene) {
  const res = await api.gql(BOOKING, { id: s.booking.gid }, { token: s.tokens.staff });
  expect(res.errors).toBeUndefined();
  return res.data.node;
}

/** The catalog families' counters at GET /metrics. */
async function catalogCounters(api: TestApi) {
  const text = await api.metricsText();
  const value = (name: string, family: string) => sampleValue(text, name, { family }) ?? 0;
  return Object.fromEntries(['business', 'service', 'partner'].map((f) => [f, { hits: value('cache_hits_total', `catalog_${f}`), misses: value('cache_misses_total', `catalog_${f}`) }]));
}

describe.each(['redis', 'memory'] as const)('Catalog cache (%s)', (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ config: { cache: { ...DEFAULT_CACHE_CONFIG, redisUrl: backend === 'redis' ? TEST_REDIS_URL : undefined, keyPrefix: uniqueKeyPrefix() } } });
  });
  afterAll(() => api.close());

  it('answers a booking\'s service, partner and business from the cache on the next request: three statements fewer', async () => {
    const s = await scene(api);
    const before = await catalogCounters(api);
    const cold = await api.countStatements(() => read(api, s));
    const warm = await api.countStatements(() => read(api, s));
    expect(warm.result).toEqual(cold.result);
    // Cold: the booking, then its service, partner and business; warm: the booking alone.
    expect(cold.statements).toBe(4);
    expect(warm.statements).toBe(1);
    const after = await catalogCounters(api);
    for (const family of ['business', 'service', 'partner']) {
      expect(after[family].misses - before[family].misses).toBe(1);
      expect(after[family].hits - before[family].hits).toBe(1);
    }
  });

  it.each([
    ['serviceUpdate', (s: Scene) => [SERVICE_UPDATE, { serviceId: s.service.gid, name: 'Renamed service' }], (node: any) => node.service.name, 'Renamed service'],
    ['partnerUpdate', (s: Scene) => [PARTNER_UPDATE, { partnerId: s.partner.gid, name: 'Renamed partner' }], (node: any) => node.partner.name, 'Renamed partner'],
    ['partnerSetActive', (s: Scene) => [PARTNER_SET_ACTIVE, { partnerId: s.partner.gid, isActive: false }], (node: any) => node.partner.isActive, false],
    ['businessUpdate', (s: Scene) => [BUSINESS_UPDATE, { businessId: s.business.gid, name: 'Renamed business' }], (node: any) => node.business.name, 'Renamed business'],
    ['serviceArchive', (s: Scene) => [SERVICE_ARCHIVE, { serviceId: s.service.gid }], (node: any) => node.service.isActive, false],
  ] as const)('serves the change of a %s on the very next read', async (_name, mutation, field, expected) => {
    const s = await scene(api);
    await read(api, s);
    const warm = await read(api, s);
    expect(field(warm)).not.toBe(expected);
    const [text, input] = mutation(s);
    await mutateOk(api, text as string, input as Record<string, unknown>, s.tokens.admin);
    expect(field(await read(api, s))).toBe(expected);
  });

  it('reads a partner\'s booking count fresh after a booking, though the partner row is cached', async () => {
    const s = await scene(api);
    const count = async () => (await api.gql(PARTNER_COUNT, { id: s.partner.gid }, { token: s.tokens.staff })).data.node.activeBookingCount;
    expect(await count()).toBe(1);
    expect(await count()).toBe(1);
    const created = await mutateOk(api, BOOKING_CREATE, { partnerId: s.partner.gid, serviceId: s.service.gid, customerId: s.customer.gid, startsAt: s.partner.slots[2].startsAt }, s.tokens.staff);
    expect(created.booking.id).toEqual(expect.any(String));
    expect(await count()).toBe(2);
  });
});

describe('Catalog cache across two API processes over one Redis', () => {
  let first: TestApi;
  let second: TestApi;
  beforeAll(async () => {
    const cache = { ...DEFAULT_CACHE_CONFIG, redisUrl: TEST_REDIS_URL, keyPrefix: uniqueKeyPrefix() };
    first = await startTestApi({ config: { cache } });
    second = await startTestApi({ config: { cache }, database: first.database });
  });
  afterAll(async () => {
    await second.close();
    await first.close();
  });

  it('serves on one process what a mutation on the other changed, from the very next request', async () => {
    const s = await scene(first);
    await read(second, s);
    expect((await read(second, s)).service.name).not.toBe('Renamed elsewhere');
    await mutateOk(first, SERVICE_UPDATE, { serviceId: s.service.gid, name: 'Renamed elsewhere' }, s.tokens.staff);
    expect((await read(second, s)).service.name).toBe('Renamed elsewhere');
  });
});

describe('Catalog cache while its store is down', () => {
  let api: TestApi;
  beforeAll(async () => {
    // A Redis nobody listens on: every generation read fails at once.
    api = await startTestApi({ config: { cache: { ...DEFAULT_CACHE_CONFIG, redisUrl: 'redis://127.0.0.1:1', keyPrefix: uniqueKeyPrefix(), commandTimeoutMs: 100 } } });
  });
  afterAll(() => api.close());

  it('reads every catalog row from the database, and still serves a change at once', async () => {
    const s = await scene(api);
    const first = await api.countStatements(() => read(api, s));
    const second = await api.countStatements(() => read(api, s));
    expect(first.statements).toBe(4);
    expect(second.statements).toBe(4);
    await mutateOk(api, SERVICE_UPDATE, { serviceId: s.service.gid, name: 'Renamed while down' }, s.tokens.staff);
    expect((await read(api, s)).service.name).toBe('Renamed while down');
  });
});
