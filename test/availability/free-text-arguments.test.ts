import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_KEY_PART_LENGTH } from '../../src/cache/bounded-key.js';
import { createBookableBusiness, createPartner, createSlots } from '../support/builders.js';
import { AVAILABLE_PARTNERS, startAvailabilityApi, testCache, TEST_REDIS_URL, uniqueKeyPrefix, type AvailabilityApi } from './availability-support.js';

/** A value from the /metrics text, e.g. metric(text, 'cache_hits_total', 'available_partners'). */
function metric(text: string, name: string, family: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{family="${family}"}`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** Every key under the prefix with its length in bytes. */
async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

describe('Free-text arguments: normalized, bounded, and never a large cache key', () => {
  let api: AvailabilityApi;
  let redis: Redis;
  const keyPrefix = uniqueKeyPrefix();
  beforeAll(async () => {
    api = await startAvailabilityApi(await testCache('redis', { keyPrefix }));
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    redis.disconnect();
    await api.close();
  });

  it('refuses a 1 MB city with BAD_USER_INPUT naming the argument, sends no SQL and writes no key', async () => {
    const city = 'x'.repeat(1_000_000);
    const { result, statements } = await api.countStatements(() => api.gql(AVAILABLE_PARTNERS, { city, date: '2030-01-01' }));
    expect(statements).toBe(0);
    expect(result.data).toBeNull();
    expect(result.errors).toEqual([
      { message: 'Expected `city` to be at most 200 characters long, got 1000000.', path: ['availablePartners'], extensions: { code: 'BAD_USER_INPUT', argument: 'city', requestId: expect.any(String) } },
    ]);
    expect(await keysUnder(redis, keyPrefix)).toEqual([]);
  });

  it('answers two spellings of one city (composed or decomposed, padded) from one cache entry', async () => {
    const { business, start } = await createBookableBusiness(api.db);
    const partner = await createPartner(api.db, business, { city: 'Zürich' });
    await createSlots(api.db, business, partner, start, 2);
    const date = start.toISOString().slice(0, 10);
    const before = await api.metricsText();
    const composed = await api.countStatements(() => api.gql(AVAILABLE_PARTNERS, { city: 'Z\u00fcrich', date }));
    const decomposed = await api.countStatements(() => api.gql(AVAILABLE_PARTNERS, { city: '  Zu\u0308rich ', date }));
    const after = await api.metricsText();
    expect(composed.result.data.availablePartners).toEqual([{ id: partner.gid, name: partner.name }]);
    expect(decomposed.result.data).toEqual(composed.result.data);
    expect(decomposed.statements).toBe(0);
    expect(metric(after, 'cache_computations_total', 'available_partners') - metric(before, 'cache_computations_total', 'available_partners')).toBe(1);
    expect(metric(after, 'cache_hits_total', 'available_partners') - metric(before, 'cache_hits_total', 'available_partners')).toBe(1);
  });

  it('keeps the key of the longest allowed city short: the city is hashed into it', async () => {
    const city = 'Ł'.repeat(200);
    const res = await api.gql(AVAILABLE_PARTNERS, { city, date: '2030-01-02' });
    expect(res.data.availablePartners).toEqual([]);
    const keys = await keysUnder(redis, keyPrefix);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(Buffer.byteLength(key)).toBeLessThanOrEqual(keyPrefix.length + 2 * MAX_KEY_PART_LENGTH + 40);
  });

  it('bounds slug and city everywhere they are query arguments', async () => {
    const long = 'a'.repeat(201);
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['query($v: String!) { business(slug: $v) { id } }', { v: long }, 'slug'],
      ['query($v: String) { businesses(city: $v) { nodes { id } } }', { v: long }, 'city'],
    ];
    for (const [query, variables, argument] of cases) {
      const { result, statements } = await api.countStatements(() => api.gql(query, variables));
      expect(statements).toBe(0);
      expect(result.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', argument, requestId: expect.any(String) });
    }
    // Exactly at the bound is fine, and a padded slug still finds its business.
    const { business } = await createBookableBusiness(api.db);
    const padded = await api.gql('query($v: String!) { business(slug: $v) { id } }', { v: ` ${business.slug} ` });
    expect(padded.data.business).toEqual({ id: business.gid });
    expect((await api.gql('query($v: String) { businesses(city: $v) { nodes { id } } }', { v: 'a'.repeat(200) })).data.businesses.nodes).toEqual([]);
  });

  it('refuses a mutation input city over the bound as a user error on the field, booking nothing', async () => {
    const { business, service, customer, partners } = await createBookableBusiness(api.db);
    const token = await api.token({ sub: 'customer-1', role: 'customer', business_id: business.gid, customer_id: customer.gid });
    const create = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { field message code } } }`;
    const res = await api.gql(create, { input: { serviceId: service.gid, startsAt: partners[0].slots[0].startsAt, city: 'b'.repeat(201) } }, token);
    expect(res.data.bookingCreate).toEqual({
      booking: null,
      userErrors: [{ field: ['input', 'city'], message: 'Expected `city` to be at most 200 characters long, got 201.', code: 'INVALID_INPUT' }],
    });
    expect(await api.db.selectFrom('bookings').select('id').where('customer_id', '=', customer.id).execute()).toEqual([]);
    // A padded city names the partners' city.
    const padded = await api.gql(create, { input: { serviceId: service.gid, startsAt: partners[0].slots[0].startsAt, city: ' Berlin ' } }, token);
    expect(padded.data.bookingCreate.userErrors).toEqual([]);
  });
});
