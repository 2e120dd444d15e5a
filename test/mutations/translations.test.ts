import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/shared/global-id.js';
import { startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { auditRows, createBusiness, createCustomer, createPartner, createService, type BuiltBusiness, type BuiltService } from '../support/builders.js';

const BUSINESS_SET = `mutation($input: BusinessTranslationSetInput!) {
  businessTranslationSet(input: $input) { business { id translations { locale name description } } userErrors { field message code } }
}`;
const BUSINESS_REMOVE = `mutation($input: BusinessTranslationRemoveInput!) {
  businessTranslationRemove(input: $input) { business { id translations { locale name description } } userErrors { field message code } }
}`;
const SERVICE_SET = `mutation($input: ServiceTranslationSetInput!) {
  serviceTranslationSet(input: $input) { service { id translations { locale name description } } userErrors { field message code } }
}`;
const SERVICE_REMOVE = `mutation($input: ServiceTranslationRemoveInput!) {
  serviceTranslationRemove(input: $input) { service { id translations { locale name description } } userErrors { field message code } }
}`;

/** One description of each of the four mutations, for the checks they share. */
interface Case {
  name: 'businessTranslationSet' | 'businessTranslationRemove' | 'serviceTranslationSet' | 'serviceTranslationRemove';
  document: string;
  /** The payload's object field, and the input field naming the object. */
  object: 'business' | 'service';
  idField: 'businessId' | 'serviceId';
  sets: boolean;
}
const CASES: Case[] = [
  { name: 'businessTranslationSet', document: BUSINESS_SET, object: 'business', idField: 'businessId', sets: true },
  { name: 'businessTranslationRemove', document: BUSINESS_REMOVE, object: 'business', idField: 'businessId', sets: false },
  { name: 'serviceTranslationSet', document: SERVICE_SET, object: 'service', idField: 'serviceId', sets: true },
  { name: 'serviceTranslationRemove', document: SERVICE_REMOVE, object: 'service', idField: 'serviceId', sets: false },
];

describe('Mutations: businessTranslationSet, businessTranslationRemove, serviceTranslationSet, serviceTranslationRemove', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  /** A business (default locale `en`) with a service, a partner and a customer, and tokens for its roles. */
  async function scene() {
    const business = await createBusiness(api.db, { name: 'Harbour Salon' });
    const service = await createService(api.db, business, { name: 'Haircut' });
    const partner = await createPartner(api.db, business);
    const customer = await createCustomer(api.db, business);
    const tokens = await tokensFor(api, { businessGid: business.gid, partnerGid: partner.gid, customerGid: customer.gid });
    return { business, service, tokens };
  }

  /** The input of a case for the scene's business or service, with `overrides`. */
  function inputOf(c: Case, s: { business: BuiltBusiness; service: BuiltService }, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const target = c.object === 'business' ? s.business.gid : s.service.gid;
    return { [c.idField]: target, locale: 'ja', ...(c.sets ? { name: '港サロン', description: '駅前の美容室' } : {}), ...overrides };
  }

  /** Every translation row and audit row of the scene: a refusal must leave them all alone. */
  async function snapshot(s: { business: BuiltBusiness; service: BuiltService }) {
    const rows = await sql`
      SELECT 'business' AS kind, locale, name, description, updated_at FROM business_translations WHERE business_id = ${s.business.id}::bigint
      UNION ALL SELECT 'service', locale, name, description, updated_at FROM service_translations WHERE service_id = ${s.service.id}::bigint
      ORDER BY 1, 2`.execute(api.db);
    return { rows: rows.rows, business: await auditRows(api.db, s.business.id, 'business'), service: await auditRows(api.db, s.service.id, 'service') };
  }

  describe('setting and removing translations', () => {
    it('sets a business translation for staff of the business, canonicalizes the locale and writes one audit row', async () => {
      const s = await scene();
      const res = await api.gql(BUSINESS_SET, { input: { businessId: s.business.gid, locale: 'JA-jp', name: '  港サロン ', description: '駅前の美容室' } }, { token: s.tokens.staff });
      expect(res.errors).toBeUndefined();
      expect(res.data.businessTranslationSet).toEqual({
        business: { id: s.business.gid, translations: [{ locale: 'ja-JP', name: '港サロン', description: '駅前の美容室' }] },
        userErrors: [],
      });
      expect(await auditRows(api.db, s.business.id, 'business')).toEqual([
        {
          businessId: s.business.id,
          entity: 'business',
          action: 'business.translation_set',
          actor: 'staff:staff-1',
          changes: { locale: 'ja-JP', after: { name: '港サロン', description: '駅前の美容室' } },
        },
      ]);
    });

    it('replaces an earlier translation into the same locale, auditing before and after', async () => {
      const s = await scene();
      await api.gql(BUSINESS_SET, { input: { businessId: s.business.gid, locale: 'ja', name: '港サロン' } }, { token: s.tokens.staff });
      const res = await api.gql(BUSINESS_SET, { input: { businessId: s.business.gid, locale: 'ja', name: 'ハーバーサロン', description: '  ' } }, { token: s.tokens.admin });
      expect(res.data.businessTranslationSet.business.translations).toEqual([{ locale: 'ja', name: 'ハーバーサロン', description: null }]);
      const audit = await auditRows(api.db, s.business.id, 'business');
      expect(audit.map((a) => [a.action, a.actor])).toEqual([['business.translation_set', 'staff:staff-1'], ['business.translation_set', 'admin:admin-1']]);
      expect(audit[1].changes).toEqual({ locale: 'ja', before: { name: '港サロン', description: null }, after: { name: 'ハーバーサロン', description: null } });
    });

    it('keeps one translation per locale, sorted by locale', async () => {
      const s = await scene();
      for (const [locale, name] of [['ja', '港サロン'], ['de', 'Hafensalon'], ['fr', 'Salon du Port']]) {
        await api.gql(BUSINESS_SET, { input: { businessId: s.business.gid, locale, name } }, { token: s.tokens.staff });
      }
      const res = await api.gql(`query($slug: String!) { business(slug: $slug) { translations { locale name } } }`, { slug: s.business.slug });
      expect(res.data.business.translations).toEqual([{ locale: 'de', name: 'Hafensalon' }, { locale: 'fr', name: 'Salon du Port' }, { locale: 'ja', name: '港サロン' }]);
    });

    it('succeeds without a write or an audit row when the translation already reads so', async () => {
      const s = await scene();
      await api.gql(SERVICE_SET, { input: inputOf(CASES[2], s) }, { token: s.tokens.staff });
      const before = await snapshot(s);
      const res = await api.gql(SERVICE_SET, { input: inputOf(CASES[2], s) }, { token: s.tokens.staff });
      expect(res.data.serviceTranslationSet.userErrors).toEqual([]);
      expect(await snapshot(s)).toEqual(before);
    });

    it('sets a service translation for staff of its business and writes one audit row', async () => {
      const s = await scene();
      const res = await api.gql(SERVICE_SET, { input: { serviceId: s.service.gid, locale: 'ja', name: 'カット', description: null } }, { token: s.tokens.staff });
      expect(res.data.serviceTranslationSet).toEqual({ service: { id: s.service.gid, translations: [{ locale: 'ja', name: 'カット', description: null }] }, userErrors: [] });
      expect(await auditRows(api.db, s.service.id, 'service')).toEqual([
        { businessId: s.business.id, entity: 'service', action: 'service.translation_set', actor: 'staff:staff-1', changes: { locale: 'ja', after: { name: 'カット', description: null } } },
      ]);
    });

    it('removes a business translation and a service translation, auditing what was removed', async () => {
      const s = await scene();
      await api.gql(BUSINESS_SET, { input: inputOf(CASES[0], s) }, { token: s.tokens.staff });
      await api.gql(SERVICE_SET, { input: inputOf(CASES[2], s) }, { token: s.tokens.staff });
      const business = await api.gql(BUSINESS_REMOVE, { input: { businessId: s.business.gid, locale: 'JA' } }, { token: s.tokens.staff });
      expect(business.data.businessTranslationRemove).toEqual({ business: { id: s.business.gid, translations: [] }, userErrors: [] });
      const service = await api.gql(SERVICE_REMOVE, { input: { serviceId: s.service.gid, locale: 'ja' } }, { token: s.tokens.admin });
      expect(service.data.serviceTranslationRemove).toEqual({ service: { id: s.service.gid, translations: [] }, userErrors: [] });
      expect((await auditRows(api.db, s.business.id, 'business')).at(-1)).toMatchObject({
        action: 'business.translation_removed',
        changes: { locale: 'ja', before: { name: '港サロン', description: '駅前の美容室' } },
      });
      expect((await auditRows(api.db, s.service.id, 'service')).at(-1)).toMatchObject({ action: 'service.translation_removed', actor: 'admin:admin-1' });
    });

    it('succeeds without an audit row when removing a translation that does not exist', async () => {
      const s = await scene();
      for (const c of CASES.filter((c) => !c.sets)) {
        const res = await api.gql(c.document, { input: inputOf(c, s) }, { token: s.tokens.staff });
        expect(res.data[c.name].userErrors).toEqual([]);
      }
      expect(await snapshot(s)).toEqual({ rows: [], business: [], service: [] });
    });

    it('costs 7 statements to add a translation, 6 to replace one, 4 when nothing changes and 5 to remove one', async () => {
      const s = await scene();
      // The payloads here also read the translations back: one statement more each.
      const count = async (document: string, input: Record<string, unknown>) => {
        const { result, statements } = await api.countStatements(() => api.gql(document, { input }, { token: s.tokens.staff }));
        expect(Object.values(result.data as object)[0].userErrors).toEqual([]);
        return statements - 1;
      };
      // BEGIN, the business (or service), the translation locked, the count of locales, the upsert, the audit row, COMMIT.
      expect(await count(BUSINESS_SET, inputOf(CASES[0], s))).toBe(7);
      expect(await count(SERVICE_SET, inputOf(CASES[2], s))).toBe(7);
      expect(await count(BUSINESS_SET, inputOf(CASES[0], s, { name: 'ハーバー' }))).toBe(6);
      expect(await count(BUSINESS_SET, inputOf(CASES[0], s, { name: 'ハーバー' }))).toBe(4);
      expect(await count(BUSINESS_REMOVE, inputOf(CASES[1], s))).toBe(5);
      expect(await count(SERVICE_REMOVE, inputOf(CASES[3], s))).toBe(5);
    });

    it('replays the first result for a retry with the same idempotency key', async () => {
      const s = await scene();
      const input = { ...inputOf(CASES[0], s), idempotencyKey: `translate-${s.business.id}` };
      const first = await api.gql(BUSINESS_SET, { input }, { token: s.tokens.staff });
      const again = await api.gql(BUSINESS_SET, { input }, { token: s.tokens.staff });
      expect(again.data).toEqual(first.data);
      expect(await auditRows(api.db, s.business.id, 'business')).toHaveLength(1);
    });
  });

  describe('user errors: nothing changes', () => {
    const invalid = (field: string, message: string) => [{ field: ['input', field], code: 'INVALID_INPUT', message }];

    for (const c of CASES) {
      it(`${c.name}: refuses a malformed locale tag and an unknown language`, async () => {
        const s = await scene();
        const before = await snapshot(s);
        const cases: Array<[string, string]> = [
          ['ja_JP', 'Expected `locale` to be a BCP 47 language tag such as `ja` or `en-GB`, got "ja_JP".'],
          ['en-US-u-ca-buddhist', 'Expected `locale` to be a BCP 47 language tag such as `ja` or `en-GB`, got "en-US-u-ca-buddhist".'],
          ['', 'Expected `locale` to be a BCP 47 language tag such as `ja` or `en-GB`, got "".'],
          ['xx', 'Expected `locale` to name a known language (and region or script), got "xx".'],
          ['ja-XX', 'Expected `locale` to name a known language (and region or script), got "ja-XX".'],
        ];
        for (const [locale, message] of cases) {
          const res = await api.gql(c.document, { input: inputOf(c, s, { locale }) }, { token: s.tokens.staff });
          expect(res.data[c.name]).toEqual({ [c.object]: null, userErrors: invalid('locale', message) });
        }
        expect(await snapshot(s)).toEqual(before);
      });

      it(`${c.name}: answers NOT_FOUND for a malformed, a wrong-type and a missing ID`, async () => {
        const s = await scene();
        const before = await snapshot(s);
        const type = c.object === 'business' ? 'Business' : 'Service';
        for (const id of ['not-an-id', c.object === 'business' ? s.service.gid : s.business.gid, toGlobalId(type, '9000000000000000000')]) {
          const res = await api.gql(c.document, { input: inputOf(c, s, { [c.idField]: id }) }, { token: s.tokens.admin });
          expect(res.data[c.name]).toEqual({
            [c.object]: null,
            userErrors: [{ field: ['input', c.idField], code: 'NOT_FOUND', message: `Expected the ID of a ${c.object} you may manage, got "${id}".` }],
          });
        }
        expect(await snapshot(s)).toEqual(before);
      });

      it(`${c.name}: answers NOT_FOUND to staff of another business, exactly as for a missing one`, async () => {
        const s = await scene();
        const other = await createBusiness(api.db);
        const otherStaff = (await tokensFor(api, { businessGid: other.gid })).staff;
        const before = await snapshot(s);
        const input = inputOf(c, s);
        const res = await api.gql(c.document, { input }, { token: otherStaff });
        expect(res.data[c.name]).toEqual({
          [c.object]: null,
          userErrors: [{ field: ['input', c.idField], code: 'NOT_FOUND', message: `Expected the ID of a ${c.object} you may manage, got "${input[c.idField]}".` }],
        });
        expect(await snapshot(s)).toEqual(before);
      });

      it(`${c.name}: refuses a partner and a customer with FORBIDDEN and an anonymous caller with UNAUTHENTICATED`, async () => {
        const s = await scene();
        const before = await snapshot(s);
        for (const [token, code] of [[s.tokens.partner, 'FORBIDDEN'], [s.tokens.customer, 'FORBIDDEN'], [undefined, 'UNAUTHENTICATED']] as const) {
          const res = await api.gql(c.document, { input: inputOf(c, s) }, { token });
          expect(res.data).toBeNull();
          expect(res.errors?.map((e) => e.extensions?.code)).toEqual([code]);
        }
        const partner = await api.gql(c.document, { input: inputOf(c, s) }, { token: s.tokens.partner });
        expect(partner.errors?.[0].message).toBe(`Expected an admin or staff token to translate a ${c.object}, got a partner token.`);
        expect(await snapshot(s)).toEqual(before);
      });
    }

    it('refuses a 21st locale, and still replaces one of the 20', async () => {
      const s = await scene();
      const locales = ['ja', 'de', 'fr', 'es', 'it', 'pt', 'nl', 'sv', 'da', 'fi', 'nb', 'pl', 'cs', 'hu', 'ro', 'el', 'tr', 'ko', 'zh', 'ar'];
      await api.db.insertInto('business_translations').values(locales.map((locale) => ({ business_id: s.business.id, locale, name: `Name ${locale}` }))).execute();
      await api.db.insertInto('service_translations').values(locales.map((locale) => ({ business_id: s.business.id, service_id: s.service.id, locale, name: `Name ${locale}` }))).execute();
      const before = await snapshot(s);
      for (const c of CASES.filter((c) => c.sets)) {
        const res = await api.gql(c.document, { input: inputOf(c, s, { locale: 'he' }) }, { token: s.tokens.staff });
        expect(res.data[c.name]).toEqual({
          [c.object]: null,
          userErrors: invalid('locale', `Expected at most 20 translations of a ${c.object}, which has them all; remove one first.`),
        });
      }
      expect(await snapshot(s)).toEqual(before);
      const replaced = await api.gql(BUSINESS_SET, { input: inputOf(CASES[0], s, { locale: 'ko', name: '항구 살롱' }) }, { token: s.tokens.staff });
      expect(replaced.data.businessTranslationSet.userErrors).toEqual([]);
    });

    for (const c of CASES.filter((c) => c.sets)) {
      it(`${c.name}: refuses the business's default locale, a blank name and texts over the limits`, async () => {
        const s = await scene();
        const before = await snapshot(s);
        const cases: Array<[Record<string, unknown>, ReturnType<typeof invalid>]> = [
          [
            { locale: 'EN' },
            invalid('locale', 'Expected a locale other than the business\'s default locale "en" (its own name and description are in it; change them instead), got "en".'),
          ],
          [{ name: '   ' }, invalid('name', 'Expected `name` to be 1 to 200 characters long, got a blank one.')],
          [{ name: 'x'.repeat(201) }, invalid('name', 'Expected `name` to be at most 200 characters long, got 201.')],
          [{ description: 'x'.repeat(2001) }, invalid('description', 'Expected `description` to be at most 2000 characters long, got 2001.')],
        ];
        for (const [overrides, userErrors] of cases) {
          const res = await api.gql(c.document, { input: inputOf(c, s, overrides) }, { token: s.tokens.staff });
          expect(res.data[c.name]).toEqual({ [c.object]: null, userErrors });
        }
        expect(await snapshot(s)).toEqual(before);
      });
    }
  });
});
