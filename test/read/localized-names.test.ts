import { sql } from 'kysely';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutateOk, startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { createBookableBusiness, createBusiness, createService, uniqueSuffix, type BuiltBusiness, type BuiltService } from '../support/builders.js';
import { record, untilSubscribed, wsClient } from '../support/subscriptions.js';

const BUSINESS_SET = `mutation($input: BusinessTranslationSetInput!) { businessTranslationSet(input: $input) { userErrors { code } } }`;
const SERVICE_SET = `mutation($input: ServiceTranslationSetInput!) { serviceTranslationSet(input: $input) { userErrors { code } } }`;

const BUSINESS = `query($slug: String!) {
  business(slug: $slug) { defaultLocale name nameLocale description descriptionLocale }
}`;

/**
 * Names and descriptions in the language asked for. The business here is English by default and
 * has a Japanese translation without a description and a German one with one, so that the
 * fallback can be seen field by field.
 */
describe('Localized names: the locale argument, Accept-Language and the fallback to the default', () => {
  let api: TestApi;
  let business: BuiltBusiness;
  let service: BuiltService;
  let staff: string;
  const city = `Port ${uniqueSuffix()}`;

  beforeAll(async () => {
    api = await startTestApi();
    business = await createBusiness(api.db, { name: 'Harbour Salon', city });
    service = await createService(api.db, business, { name: 'Haircut' });
    await sql`UPDATE businesses SET description = 'By the station' WHERE id = ${business.id}::bigint`.execute(api.db);
    await sql`UPDATE services SET description = 'Wash, cut and dry' WHERE id = ${service.id}::bigint`.execute(api.db);
    staff = (await tokensFor(api, { businessGid: business.gid })).staff;
    await mutateOk(api, BUSINESS_SET, { businessId: business.gid, locale: 'ja', name: '港サロン' }, staff);
    await mutateOk(api, BUSINESS_SET, { businessId: business.gid, locale: 'de', name: 'Hafensalon', description: 'Am Bahnhof' }, staff);
    await mutateOk(api, SERVICE_SET, { serviceId: service.gid, locale: 'ja', name: 'カット', description: 'シャンプー・カット・ブロー' }, staff);
  });
  afterAll(() => api.close());

  const read = async (acceptLanguage?: string, query = BUSINESS, variables: Record<string, unknown> = { slug: business.slug }) => {
    const res = await api.gql(query, variables, acceptLanguage === undefined ? {} : { headers: { 'accept-language': acceptLanguage } });
    expect(res.errors).toBeUndefined();
    return res.data;
  };

  it('serves the default locale without Accept-Language, from the row alone (one statement)', async () => {
    const { result, statements } = await api.countStatements(() => read());
    expect(result.business).toEqual({ defaultLocale: 'en', name: 'Harbour Salon', nameLocale: 'en', description: 'By the station', descriptionLocale: 'en' });
    expect(statements).toBe(1);
  });

  it('serves the default locale from the row alone when the first locale asked for is the default', async () => {
    const { result, statements } = await api.countStatements(() => read('en, ja;q=0.5'));
    expect(result.business).toMatchObject({ name: 'Harbour Salon', nameLocale: 'en' });
    expect(statements).toBe(1);
  });

  it('serves the first locale asked for that has a translation, falling back field by field', async () => {
    // Japanese has a name but no description: the description comes from the next locale asked for.
    expect((await read('ja, de;q=0.8')).business).toEqual({
      defaultLocale: 'en',
      name: '港サロン',
      nameLocale: 'ja',
      description: 'Am Bahnhof',
      descriptionLocale: 'de',
    });
    // Or from the default locale when no other locale asked for has one.
    expect((await read('ja')).business).toMatchObject({ name: '港サロン', description: 'By the station', descriptionLocale: 'en' });
  });

  it('orders Accept-Language by q-value, then by position, and drops q=0', async () => {
    expect((await read('en;q=0.2, de;q=0.5, ja;q=0.9')).business.nameLocale).toBe('ja');
    expect((await read('de;q=0.5, ja;q=0.5')).business.nameLocale).toBe('de');
    expect((await read('ja;q=0, de;q=0.1')).business.nameLocale).toBe('de');
  });

  it('finds a translation by a shorter prefix of the tag asked for, in any case', async () => {
    expect((await read('JA-jp')).business).toMatchObject({ name: '港サロン', nameLocale: 'ja' });
    expect((await read('de-CH-1901')).business.nameLocale).toBe('de');
  });

  it('serves the default locale for a locale it has no translation in, a wildcard, or a header it cannot read', async () => {
    for (const header of ['fr-FR, fr;q=0.9', '*', 'ja;q=zero, ;;;, @@@', '']) {
      expect((await read(header)).business, header).toMatchObject({ name: 'Harbour Salon', nameLocale: 'en' });
    }
  });

  it('lets a field’s locale argument win over Accept-Language, and refuses a malformed one with BAD_USER_INPUT', async () => {
    const query = `query($slug: String!, $locale: String) { business(slug: $slug) { name(locale: $locale) nameLocale(locale: $locale) ja: name(locale: "ja") } }`;
    expect((await read('ja', query, { slug: business.slug, locale: 'DE' })).business).toEqual({ name: 'Hafensalon', nameLocale: 'de', ja: '港サロン' });
    expect((await read('ja', query, { slug: business.slug, locale: 'en' })).business.name).toBe('Harbour Salon');
    const res = await api.gql(query, { slug: business.slug, locale: 'not a locale' });
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toBe('Expected `locale` to be a BCP 47 language tag such as `ja` or `en-GB`, got "not a locale".');
  });

  it('localizes services in a business’s page of services, with the business’s default locale as their fallback', async () => {
    const query = `query($slug: String!) { business(slug: $slug) { services { nodes { name nameLocale description descriptionLocale translations { locale } } } } }`;
    expect((await read('ja-JP', query)).business.services.nodes).toEqual([
      { name: 'カット', nameLocale: 'ja', description: 'シャンプー・カット・ブロー', descriptionLocale: 'ja', translations: [{ locale: 'ja' }] },
    ]);
    expect((await read('de', query)).business.services.nodes[0]).toMatchObject({ name: 'Haircut', nameLocale: 'en', description: 'Wash, cut and dry' });
  });

  it('finds businesses by their translated names and by their services’ translated names', async () => {
    // In the business's city alone: other test files translate their businesses too.
    const search = `query($city: String, $query: String, $serviceQuery: String) { businesses(city: $city, query: $query, serviceQuery: $serviceQuery) { nodes { slug name } } }`;
    expect((await read('ja', search, { city, query: '港サロ' })).businesses.nodes).toEqual([{ slug: business.slug, name: '港サロン' }]);
    expect((await read('ja', search, { city, query: 'hafensalon' })).businesses.nodes).toEqual([{ slug: business.slug, name: '港サロン' }]);
    expect((await read(undefined, search, { city, serviceQuery: 'カット' })).businesses.nodes).toEqual([{ slug: business.slug, name: 'Harbour Salon' }]);
    expect((await read(undefined, search, { city, query: 'ハーバー' })).businesses.nodes).toEqual([]);
  });

  it('tells shared caches that a GET answer varies with Accept-Language', async () => {
    const url = new URL(api.app.url);
    url.searchParams.set('query', '{ viewer { role } }');
    const res = await fetch(url, { headers: { 'apollo-require-preflight': 'true', 'accept-language': 'ja' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('vary')).toContain('Accept-Language');
  });
});

describe('Localized names: caches never mix locales', () => {
  let api: TestApi;
  const clients: Client[] = [];
  beforeAll(async () => {
    api = await startTestApi({ isolated: true, config: { events: { relayIntervalMs: 60_000, republishAfterMs: 60_000, checkIntervalMs: 60_000, maxQueuedPerSubscriber: 1000 } } });
  });
  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await api.close();
  });

  async function translatedScene() {
    const s = await createBookableBusiness(api.db, { partners: 1 });
    const tokens = await tokensFor(api, { businessGid: s.business.gid });
    await mutateOk(api, BUSINESS_SET, { businessId: s.business.gid, locale: 'ja', name: `日本語の店 ${s.business.id}` }, tokens.staff);
    await mutateOk(api, SERVICE_SET, { serviceId: s.service.gid, locale: 'ja', name: `日本語のサービス ${s.service.id}` }, tokens.staff);
    const english = (await api.gql(`query($slug: String!) { business(slug: $slug) { name } }`, { slug: s.business.slug })).data.business.name as string;
    return { ...s, tokens, english };
  }

  it('serves availablePartners from its cache with the business name in each request’s own locale', async () => {
    const s = await translatedScene();
    const date = s.start.toISOString().slice(0, 10);
    const city = (await sql<{ city: string }>`SELECT city FROM partners WHERE id = ${s.partners[0].id}::bigint`.execute(api.db)).rows[0].city;
    const query = `query($city: String!, $date: Date!, $businessId: ID) { availablePartners(city: $city, date: $date, businessId: $businessId) { id business { name } } }`;
    const variables = { city, date, businessId: s.business.gid };
    const ja = await api.gql(query, variables, { headers: { 'accept-language': 'ja' } });
    // A cache hit now: the entry was computed for the Japanese request.
    const en = await api.gql(query, variables);
    expect(ja.data.availablePartners).toEqual([{ id: s.partners[0].gid, business: { name: `日本語の店 ${s.business.id}` } }]);
    expect(en.data.availablePartners).toEqual([{ id: s.partners[0].gid, business: { name: s.english } }]);
    const jaAgain = await api.gql(query, variables, { headers: { 'accept-language': 'ja' } });
    expect(jaAgain.data).toEqual(ja.data);
  });

  it('runs a subscription event once per locale: subscribers asking for other languages get their own names', async () => {
    const s = await translatedScene();
    const query = `subscription($businessId: ID!) { bookingEvents(businessId: $businessId) { type booking { service { name } } } }`;
    const client = (acceptLanguage: string | null) => {
      const c = wsClient(api.app.wsUrl, s.tokens.staff, acceptLanguage ? { headers: { 'accept-language': acceptLanguage } } : {});
      clients.push(c);
      return c;
    };
    const japanese = record(client('ja-JP,ja;q=0.9'), query, { businessId: s.business.gid });
    const english = record(client(null), query, { businessId: s.business.gid });
    const japaneseToo = record(client('ja-JP,ja;q=0.9'), query, { businessId: s.business.gid });
    await untilSubscribed(api.app, 3);
    await mutateOk(
      api,
      `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { code } } }`,
      { customerId: s.customer.gid, slotIds: [s.partners[0].slots[0].gid] },
      s.tokens.staff,
    );
    const [ja] = await japanese.waitFor(1);
    const [en] = await english.waitFor(1);
    const [jaToo] = await japaneseToo.waitFor(1);
    expect(ja.bookingEvents.booking.service.name).toBe(`日本語のサービス ${s.service.id}`);
    expect(jaToo).toEqual(ja);
    expect(en.bookingEvents.booking.service.name).toMatch(/^Service /);
  });
});
