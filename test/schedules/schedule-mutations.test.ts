import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Change } from '../../src/shared/change-feed.js';
import { toGlobalId } from '../../src/shared/global-id.js';
import { startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { auditRows, createBusiness, createCustomer, createPartner } from '../support/builders.js';

const USER_ERRORS = 'userErrors { field message code }';
const HOURS = 'weeklyHours { dayOfWeek startTime endTime effectiveFrom effectiveTo }';
const SCHEDULE_SET = `mutation($input: PartnerScheduleSetInput!) { partnerScheduleSet(input: $input) { partner { id ${HOURS} } ${USER_ERRORS} } }`;
const EXCEPTION_SET = `mutation($input: PartnerExceptionSetInput!) {
  partnerExceptionSet(input: $input) { partner { id exceptions(from: "2031-01-01", to: "2031-12-31") { date closed startTime endTime } } ${USER_ERRORS} }
}`;
const PARTNER_SCHEDULE = `query($id: ID!) { node(id: $id) { ... on Partner { ${HOURS} exceptions(from: "2031-01-01", to: "2031-12-31") { date closed startTime endTime } } } }`;

// Dates in 2031 and hours that end by 2031-12-31: the periodic job's test runs in 2033 on the same database.
const MONDAY_9_TO_5 = { dayOfWeek: 'MONDAY', startTime: '09:00', endTime: '17:00' };

describe('Mutations: partnerScheduleSet and partnerExceptionSet', () => {
  let api: TestApi;
  const announced: Change[] = [];
  beforeAll(async () => {
    api = await startTestApi();
    api.app.changes.subscribe((change) => void announced.push(change));
  });
  afterAll(() => api.close());

  async function scene() {
    const business = await createBusiness(api.db, { timeZone: 'Europe/Berlin' });
    const partner = await createPartner(api.db, business);
    const colleague = await createPartner(api.db, business);
    const customer = await createCustomer(api.db, business);
    const tokens = await tokensFor(api, { businessGid: business.gid, partnerGid: partner.gid, customerGid: customer.gid });
    return { business, partner, colleague, tokens };
  }

  async function otherStaffToken() {
    const other = await createBusiness(api.db);
    return (await tokensFor(api, { businessGid: other.gid })).staff;
  }

  /** Everything a refused schedule change must leave alone. */
  async function scheduleState(partnerId: string) {
    const hours = await sql`SELECT * FROM partner_weekly_hours WHERE partner_id = ${partnerId}::bigint ORDER BY id`.execute(api.db);
    const exceptions = await sql`SELECT * FROM partner_schedule_exceptions WHERE partner_id = ${partnerId}::bigint ORDER BY id`.execute(api.db);
    const slots = await sql`SELECT id, status FROM partner_slots WHERE partner_id = ${partnerId}::bigint ORDER BY id`.execute(api.db);
    return { hours: hours.rows, exceptions: exceptions.rows, slots: slots.rows, audit: await auditRows(api.db, partnerId, 'partner') };
  }

  function setHours(token: string | undefined, input: Record<string, unknown>) {
    return api.gql(SCHEDULE_SET, { input }, { token });
  }

  describe('partnerScheduleSet', () => {
    it('sets weekly hours for staff, returns them by day and start time, audits and announces the change', async () => {
      const s = await scene();
      const res = await setHours(s.tokens.staff, {
        partnerId: s.partner.gid,
        effectiveFrom: '2031-01-06',
        effectiveTo: '2031-06-30',
        weeklyHours: [
          { dayOfWeek: 'TUESDAY', startTime: '14:00', endTime: '24:00' },
          MONDAY_9_TO_5,
          { dayOfWeek: 'TUESDAY', startTime: '08:00', endTime: '12:00' },
        ],
      });
      expect(res.errors).toBeUndefined();
      const range = { effectiveFrom: '2031-01-06', effectiveTo: '2031-06-30' };
      expect(res.data.partnerScheduleSet).toEqual({
        partner: {
          id: s.partner.gid,
          weeklyHours: [
            { dayOfWeek: 'MONDAY', startTime: '09:00', endTime: '17:00', ...range },
            { dayOfWeek: 'TUESDAY', startTime: '08:00', endTime: '12:00', ...range },
            { dayOfWeek: 'TUESDAY', startTime: '14:00', endTime: '24:00', ...range },
          ],
        },
        userErrors: [],
      });
      expect(await auditRows(api.db, s.partner.id, 'partner')).toMatchObject([{ action: 'partner.schedule_changed', actor: 'staff:staff-1', businessId: s.business.id }]);
      expect(announced.filter((c) => c.partnerIds.includes(s.partner.id))).toEqual([
        {
          action: 'partner.schedule_changed',
          businessId: s.business.id,
          partnerIds: [s.partner.id],
          // Local midnights in Berlin: winter time on Jan 6, summer time on Jul 1.
          ranges: [{ startsAt: '2031-01-05T23:00:00.000Z', endsAt: '2031-06-30T22:00:00.000Z' }],
        },
      ]);
    });

    it('replaces the hours from a date on, keeping the earlier part and resuming the old hours after a bounded change', async () => {
      const s = await scene();
      await setHours(s.tokens.staff, { partnerId: s.partner.gid, effectiveFrom: '2031-01-01', effectiveTo: '2031-12-31', weeklyHours: [MONDAY_9_TO_5] });
      const res = await setHours(s.tokens.admin, {
        partnerId: s.partner.gid,
        effectiveFrom: '2031-07-01',
        effectiveTo: '2031-08-31',
        weeklyHours: [{ dayOfWeek: 'MONDAY', startTime: '07:00', endTime: '13:00' }],
      });
      expect(res.data.partnerScheduleSet.userErrors).toEqual([]);
      expect(res.data.partnerScheduleSet.partner.weeklyHours).toEqual([
        { dayOfWeek: 'MONDAY', startTime: '07:00', endTime: '13:00', effectiveFrom: '2031-07-01', effectiveTo: '2031-08-31' },
        { dayOfWeek: 'MONDAY', startTime: '09:00', endTime: '17:00', effectiveFrom: '2031-01-01', effectiveTo: '2031-06-30' },
        { dayOfWeek: 'MONDAY', startTime: '09:00', endTime: '17:00', effectiveFrom: '2031-09-01', effectiveTo: '2031-12-31' },
      ]);
      // An empty list from a date on: no regular hours from then.
      const cleared = await setHours(s.tokens.staff, { partnerId: s.partner.gid, effectiveFrom: '2031-08-01', weeklyHours: [] });
      expect(cleared.data.partnerScheduleSet.partner.weeklyHours).toEqual([
        { dayOfWeek: 'MONDAY', startTime: '07:00', endTime: '13:00', effectiveFrom: '2031-07-01', effectiveTo: '2031-07-31' },
        { dayOfWeek: 'MONDAY', startTime: '09:00', endTime: '17:00', effectiveFrom: '2031-01-01', effectiveTo: '2031-06-30' },
      ]);
    });

    it('does not create or remove slots', async () => {
      const s = await scene();
      await setHours(s.tokens.staff, { partnerId: s.partner.gid, effectiveFrom: '2031-01-01', effectiveTo: '2031-12-31', weeklyHours: [MONDAY_9_TO_5] });
      expect((await scheduleState(s.partner.id)).slots).toEqual([]);
    });

    const invalid: Array<[string, Record<string, unknown>, { field: string[]; message: string }]> = [
      [
        'overlapping windows on one day',
        { weeklyHours: [MONDAY_9_TO_5, { dayOfWeek: 'MONDAY', startTime: '16:00', endTime: '18:00' }] },
        { field: ['input', 'weeklyHours', '1'], message: 'Expected hours that do not overlap, got 09:00-17:00 and 16:00-18:00 on MONDAY.' },
      ],
      [
        'an end time not after the start time',
        { weeklyHours: [{ dayOfWeek: 'FRIDAY', startTime: '17:00', endTime: '09:00' }] },
        { field: ['input', 'weeklyHours', '0', 'endTime'], message: "Expected an end time after the start time 17:00, got 09:00. Hours past midnight go on the next day's entry." },
      ],
      [
        'a start at 24:00',
        { weeklyHours: [{ dayOfWeek: 'FRIDAY', startTime: '24:00', endTime: '24:00' }] },
        { field: ['input', 'weeklyHours', '0', 'startTime'], message: 'Expected a start time from 00:00 to 23:59, got 24:00: 24:00 is only an end time.' },
      ],
      [
        'an effectiveTo before effectiveFrom',
        { weeklyHours: [MONDAY_9_TO_5], effectiveTo: '2031-01-31' },
        { field: ['input', 'effectiveTo'], message: 'Expected effectiveTo on or after effectiveFrom 2031-02-01, got 2031-01-31.' },
      ],
    ];
    for (const [what, input, error] of invalid) {
      it(`refuses ${what} with INVALID_INPUT and changes nothing`, async () => {
        const s = await scene();
        const before = await scheduleState(s.partner.id);
        const res = await setHours(s.tokens.staff, { partnerId: s.partner.gid, effectiveFrom: '2031-02-01', ...input });
        expect(res.data.partnerScheduleSet).toEqual({ partner: null, userErrors: [{ code: 'INVALID_INPUT', ...error }] });
        expect(await scheduleState(s.partner.id)).toEqual(before);
      });
    }

    it('refuses a malformed LocalTime at the top level with BAD_USER_INPUT', async () => {
      const s = await scene();
      for (const startTime of ['9:00', '25:00', '09:60', '09:00:00', 900]) {
        const res = await setHours(s.tokens.staff, { partnerId: s.partner.gid, effectiveFrom: '2031-02-01', weeklyHours: [{ dayOfWeek: 'MONDAY', startTime, endTime: '17:00' }] });
        expect(res.data).toBeUndefined();
        expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
        expect(res.errors?.[0].message).toContain('Expected a LocalTime "HH:MM" from 00:00 to 23:59 (or 24:00 as an end time)');
      }
    });

    it('answers NOT_FOUND for a missing partner, and the same to staff of another business, changing nothing', async () => {
      const s = await scene();
      const before = await scheduleState(s.partner.id);
      const missing = toGlobalId('Partner', '9000000000000000000');
      for (const [partnerId, token] of [[missing, s.tokens.staff], ['not-an-id', s.tokens.staff], [s.partner.gid, await otherStaffToken()]] as const) {
        const res = await setHours(token, { partnerId, effectiveFrom: '2031-02-01', weeklyHours: [MONDAY_9_TO_5] });
        expect(res.data.partnerScheduleSet).toEqual({
          partner: null,
          userErrors: [{ code: 'NOT_FOUND', field: ['input', 'partnerId'], message: `Expected the ID of a partner whose schedule you may manage, got "${partnerId}".` }],
        });
      }
      expect(await scheduleState(s.partner.id)).toEqual(before);
    });

    it('refuses partners and customers with FORBIDDEN and anonymous callers with UNAUTHENTICATED', async () => {
      const s = await scene();
      const input = { partnerId: s.partner.gid, effectiveFrom: '2031-02-01', weeklyHours: [MONDAY_9_TO_5] };
      for (const [token, code] of [[s.tokens.partner, 'FORBIDDEN'], [s.tokens.customer, 'FORBIDDEN'], [undefined, 'UNAUTHENTICATED']] as const) {
        const res = await setHours(token, input);
        expect(res.errors?.[0].extensions?.code).toBe(code);
      }
      expect((await scheduleState(s.partner.id)).hours).toEqual([]);
    });
  });

  describe('partnerExceptionSet', () => {
    function setException(token: string | undefined, input: Record<string, unknown>) {
      return api.gql(EXCEPTION_SET, { input }, { token });
    }

    it('lets staff close a date and other hours on another, listed by Partner.exceptions', async () => {
      const s = await scene();
      await setException(s.tokens.staff, { partnerId: s.partner.gid, date: '2031-03-03', closed: true });
      const res = await setException(s.tokens.staff, { partnerId: s.partner.gid, date: '2031-03-04', closed: false, startTime: '12:00', endTime: '24:00' });
      expect(res.data.partnerExceptionSet).toEqual({
        partner: {
          id: s.partner.gid,
          exceptions: [
            { date: '2031-03-03', closed: true, startTime: null, endTime: null },
            { date: '2031-03-04', closed: false, startTime: '12:00', endTime: '24:00' },
          ],
        },
        userErrors: [],
      });
      expect((await auditRows(api.db, s.partner.id, 'partner')).map((r) => r.action)).toEqual(['partner.exception_set', 'partner.exception_set']);
    });

    it('replaces the exception of a date that has one', async () => {
      const s = await scene();
      await setException(s.tokens.staff, { partnerId: s.partner.gid, date: '2031-03-03', closed: true });
      const res = await setException(s.tokens.staff, { partnerId: s.partner.gid, date: '2031-03-03', closed: false, startTime: '10:00', endTime: '11:00' });
      expect(res.data.partnerExceptionSet.partner.exceptions).toEqual([{ date: '2031-03-03', closed: false, startTime: '10:00', endTime: '11:00' }]);
      const audit = await auditRows(api.db, s.partner.id, 'partner');
      expect(audit[1].changes).toMatchObject({
        before: { exception: { date: '2031-03-03', closed: true } },
        after: { exception: { date: '2031-03-03', closed: false, startTime: '10:00', endTime: '11:00' } },
      });
    });

    it('lets a partner set their own exception (a day off), but answers NOT_FOUND for a colleague', async () => {
      const s = await scene();
      const own = await setException(s.tokens.partner, { partnerId: s.partner.gid, date: '2031-05-05', closed: true });
      expect(own.data.partnerExceptionSet.userErrors).toEqual([]);
      expect(await auditRows(api.db, s.partner.id, 'partner')).toMatchObject([{ action: 'partner.exception_set', actor: 'partner:partner-1' }]);
      const before = await scheduleState(s.colleague.id);
      const colleague = await setException(s.tokens.partner, { partnerId: s.colleague.gid, date: '2031-05-05', closed: true });
      expect(colleague.data.partnerExceptionSet).toEqual({
        partner: null,
        userErrors: [{ code: 'NOT_FOUND', field: ['input', 'partnerId'], message: `Expected the ID of a partner whose schedule you may manage, got "${s.colleague.gid}".` }],
      });
      expect(await scheduleState(s.colleague.id)).toEqual(before);
    });

    it('answers NOT_FOUND to staff of another business and FORBIDDEN to a customer', async () => {
      const s = await scene();
      const before = await scheduleState(s.partner.id);
      const res = await setException(await otherStaffToken(), { partnerId: s.partner.gid, date: '2031-05-05', closed: true });
      expect(res.data.partnerExceptionSet.userErrors).toMatchObject([{ code: 'NOT_FOUND' }]);
      const customer = await setException(s.tokens.customer, { partnerId: s.partner.gid, date: '2031-05-05', closed: true });
      expect(customer.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(await scheduleState(s.partner.id)).toEqual(before);
    });

    const invalid: Array<[string, Record<string, unknown>, { field: string[]; message: string }]> = [
      ['times on a closed date', { closed: true, startTime: '09:00' }, { field: ['input', 'startTime'], message: 'Expected no startTime or endTime when closed is true.' }],
      ['an open date without a start', { closed: false, endTime: '12:00' }, { field: ['input', 'startTime'], message: 'Expected startTime when closed is false.' }],
      ['an open date without an end', { closed: false, startTime: '12:00' }, { field: ['input', 'endTime'], message: 'Expected endTime when closed is false.' }],
      [
        'an end not after the start',
        { closed: false, startTime: '12:00', endTime: '12:00' },
        { field: ['input', 'endTime'], message: "Expected an end time after the start time 12:00, got 12:00. Hours past midnight go on the next day's entry." },
      ],
    ];
    for (const [what, input, error] of invalid) {
      it(`refuses ${what} with INVALID_INPUT and changes nothing`, async () => {
        const s = await scene();
        const before = await scheduleState(s.partner.id);
        const res = await setException(s.tokens.staff, { partnerId: s.partner.gid, date: '2031-05-05', ...input });
        expect(res.data.partnerExceptionSet).toEqual({ partner: null, userErrors: [{ code: 'INVALID_INPUT', ...error }] });
        expect(await scheduleState(s.partner.id)).toEqual(before);
      });
    }
  });

  describe('reading schedules', () => {
    it('shows weekly hours and exceptions to anyone who can see the partner, without a token', async () => {
      const s = await scene();
      await setHours(s.tokens.staff, { partnerId: s.partner.gid, effectiveFrom: '2031-01-01', effectiveTo: '2031-12-31', weeklyHours: [MONDAY_9_TO_5] });
      await api.gql(EXCEPTION_SET, { input: { partnerId: s.partner.gid, date: '2031-03-03', closed: true } }, { token: s.tokens.staff });
      const res = await api.gql(PARTNER_SCHEDULE, { id: s.partner.gid });
      expect(res.data.node).toEqual({
        weeklyHours: [{ dayOfWeek: 'MONDAY', startTime: '09:00', endTime: '17:00', effectiveFrom: '2031-01-01', effectiveTo: '2031-12-31' }],
        exceptions: [{ date: '2031-03-03', closed: true, startTime: null, endTime: null }],
      });
    });

    it('refuses an exceptions range that is reversed or longer than 366 days with BAD_USER_INPUT', async () => {
      const s = await scene();
      for (const [from, to] of [['2031-02-01', '2031-01-31'], ['2031-01-01', '2032-01-03']]) {
        const res = await api.gql(`query($id: ID!) { node(id: $id) { ... on Partner { exceptions(from: "${from}", to: "${to}") { date } } } }`, { id: s.partner.gid });
        expect(res.errors?.[0]).toMatchObject({
          message: `Expected \`from\` on or before \`to\` and at most 366 days apart, got ${from} to ${to}.`,
          extensions: { code: 'BAD_USER_INPUT' },
        });
      }
    });

    it("reads every partner's schedule in a constant number of statements, whatever the number of partners", async () => {
      const business = await createBusiness(api.db);
      const staff = (await tokensFor(api, { businessGid: business.gid })).staff;
      const query = `query($slug: String!) { business(slug: $slug) { partners(first: 50) { nodes { ${HOURS} exceptions(from: "2031-01-01", to: "2031-12-31") { date } } } } }`;
      const statementsWith = async () => (await api.countStatements(() => api.gql(query, { slug: business.slug }))).statements;
      const addPartner = async () => {
        const partner = await createPartner(api.db, business);
        await setHours(staff, { partnerId: partner.gid, effectiveFrom: '2031-01-01', effectiveTo: '2031-12-31', weeklyHours: [MONDAY_9_TO_5] });
        await api.gql(EXCEPTION_SET, { input: { partnerId: partner.gid, date: '2031-03-03', closed: true } }, { token: staff });
      };
      await addPartner();
      const withOne = await statementsWith();
      for (let i = 0; i < 4; i++) await addPartner();
      const withFive = await statementsWith();
      // business, partners page, weekly hours, exceptions: one statement each.
      expect(withOne).toBe(4);
      expect(withFive).toBe(withOne);
    });
  });
});
