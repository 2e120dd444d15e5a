import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/connect.js';
import { generateRollingHorizon, runExclusiveGenerationPass, startSlotGenerationJob } from '../../src/schedules/slot-generation.job.js';
import type { Change } from '../../src/shared/change-feed.js';
import { startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { auditRows, createBooking, createBusiness, createCustomer, createPartner, createService, createSlots, type BuiltPartner } from '../support/builders.js';
import { onRealPostgres } from '../support/database.js';

const USER_ERRORS = 'userErrors { field message code }';
const GENERATE = `mutation($input: SlotsGenerateInput!) { slotsGenerate(input: $input) { partner { id } slotsCreated ${USER_ERRORS} } }`;
const SCHEDULE_SET = `mutation($input: PartnerScheduleSetInput!) { partnerScheduleSet(input: $input) { ${USER_ERRORS} } }`;
const EXCEPTION_SET = `mutation($input: PartnerExceptionSetInput!) { partnerExceptionSet(input: $input) { ${USER_ERRORS} } }`;
const ALL_DAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

describe('Slot generation: slotsGenerate, exceptions and the periodic job', () => {
  let api: TestApi;
  const announced: Change[] = [];
  beforeAll(async () => {
    api = await startTestApi();
    api.app.changes.subscribe((change) => void announced.push(change));
  });
  afterAll(() => api.close());

  /** A partner of a business in `timeZone` with weekly hours on every day over [from, to], and staff's token. */
  async function scheduled(timeZone: string, hours: Array<[string, string]>, range: { from: string; to: string }, options: { isActive?: boolean } = {}) {
    const business = await createBusiness(api.db, { timeZone });
    const partner = await createPartner(api.db, business, { isActive: options.isActive ?? true });
    const customer = await createCustomer(api.db, business);
    const tokens = await tokensFor(api, { businessGid: business.gid, partnerGid: partner.gid, customerGid: customer.gid });
    const weeklyHours = ALL_DAYS.flatMap((dayOfWeek) => hours.map(([startTime, endTime]) => ({ dayOfWeek, startTime, endTime })));
    const res = await api.gql(SCHEDULE_SET, { input: { partnerId: partner.gid, effectiveFrom: range.from, effectiveTo: range.to, weeklyHours } }, { token: tokens.staff });
    expect(res.data.partnerScheduleSet.userErrors).toEqual([]);
    return { business, partner, customer, tokens };
  }

  function generate(token: string | undefined, input: Record<string, unknown>) {
    return api.gql(GENERATE, { input }, { token });
  }

  /** The partner's slots starting in [from, to), by start time, as stored. */
  async function slotsOf(partner: BuiltPartner, from = '2000-01-01T00:00:00Z', to = '2100-01-01T00:00:00Z') {
    const rows = await sql<{ id: string; startsAt: string; endsAt: string; status: string; xmin: string }>`
      SELECT id, slot_start AS "startsAt", slot_end AS "endsAt", status, xmin::text AS xmin FROM partner_slots
      WHERE partner_id = ${partner.id}::bigint AND slot_start >= ${from}::timestamptz AND slot_start < ${to}::timestamptz ORDER BY slot_start`.execute(api.db);
    return rows.rows;
  }

  /** Local wall-clock starts (HH:MM and offset) of stored slots. */
  function localStarts(slots: Array<{ startsAt: string }>, timeZone: string) {
    const format = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'shortOffset' });
    return slots.map((s) => format.format(new Date(s.startsAt)));
  }

  describe('slotsGenerate', () => {
    it('creates the missing slots, audits and announces them, and creates nothing when run again', async () => {
      const s = await scheduled('Europe/Berlin', [['09:00', '12:00']], { from: '2031-01-01', to: '2031-12-31' });
      const input = { partnerId: s.partner.gid, from: '2031-03-03', to: '2031-03-04' };
      const first = await generate(s.tokens.staff, input);
      expect(first.data.slotsGenerate).toEqual({ partner: { id: s.partner.gid }, slotsCreated: 12, userErrors: [] });
      const slots = await slotsOf(s.partner);
      expect(slots).toHaveLength(12);
      expect(slots[0]).toMatchObject({ startsAt: '2031-03-03T08:00:00Z', endsAt: '2031-03-03T08:30:00Z', status: 'available' });
      expect(await auditRows(api.db, s.partner.id, 'partner')).toMatchObject([
        { action: 'partner.schedule_changed' },
        { action: 'slots.generated', actor: 'staff:staff-1', changes: { from: '2031-03-03', to: '2031-03-04', slotsCreated: 12 } },
      ]);
      expect(announced.filter((c) => c.action === 'slots.generated' && c.partnerIds.includes(s.partner.id))).toEqual([
        { action: 'slots.generated', businessId: s.business.id, partnerIds: [s.partner.id], ranges: [{ startsAt: '2031-03-03T08:00:00Z', endsAt: '2031-03-04T11:00:00Z' }] },
      ]);

      const again = await generate(s.tokens.admin, input);
      expect(again.data.slotsGenerate).toEqual({ partner: { id: s.partner.gid }, slotsCreated: 0, userErrors: [] });
      expect(await slotsOf(s.partner)).toEqual(slots);
      expect(await auditRows(api.db, s.partner.id, 'partner')).toHaveLength(2);
      expect(announced.filter((c) => c.action === 'slots.generated' && c.partnerIds.includes(s.partner.id))).toHaveLength(1);
    });

    it('never touches booked or blocked slots and never creates a slot overlapping them', async () => {
      const s = await scheduled('Europe/Berlin', [['09:00', '12:00']], { from: '2031-01-01', to: '2031-12-31' });
      const service = await createService(api.db, s.business, { durationMinutes: 30 });
      // Off the half-hour grid: 09:15-09:45 (booked) and 10:45-11:15 (blocked) in Berlin (UTC+1 in March).
      const [booked] = await createSlots(api.db, s.business, s.partner, new Date('2031-03-03T08:15:00Z'), 1);
      await createBooking(api.db, { business: s.business, service, partner: s.partner, customer: s.customer, slots: [booked] });
      const [blocked] = await createSlots(api.db, s.business, s.partner, new Date('2031-03-03T09:45:00Z'), 1, { status: 'blocked' });
      const before = await slotsOf(s.partner);

      const res = await generate(s.tokens.staff, { partnerId: s.partner.gid, from: '2031-03-03', to: '2031-03-03' });
      // 09:00, 09:30 overlap the booked slot; 10:30, 11:00 the blocked one: 6 - 4 = 2.
      expect(res.data.slotsGenerate.slotsCreated).toBe(2);
      const after = await slotsOf(s.partner);
      expect(after.find((x) => x.id === booked.id)).toEqual(before.find((x) => x.id === booked.id));
      expect(after.find((x) => x.id === blocked.id)).toEqual(before.find((x) => x.id === blocked.id));
      expect(localStarts(after, 'Europe/Berlin')).toEqual(['09:15 GMT+1', '10:00 GMT+1', '10:45 GMT+1', '11:30 GMT+1']);
    });

    const dstDays = [
      { timeZone: 'America/New_York', date: '2026-03-08', night: ['00:00 GMT-5', '00:30 GMT-5', '01:00 GMT-5', '01:30 GMT-5', '03:00 GMT-4', '03:30 GMT-4'] },
      { timeZone: 'America/New_York', date: '2026-11-01', night: ['00:00 GMT-4', '00:30 GMT-4', '01:00 GMT-4', '01:30 GMT-4', '02:00 GMT-5', '02:30 GMT-5', '03:00 GMT-5', '03:30 GMT-5'] },
      { timeZone: 'Europe/Berlin', date: '2026-03-29', night: ['00:00 GMT+1', '00:30 GMT+1', '01:00 GMT+1', '01:30 GMT+1', '03:00 GMT+2', '03:30 GMT+2'] },
      { timeZone: 'Europe/Berlin', date: '2026-10-25', night: ['00:00 GMT+2', '00:30 GMT+2', '01:00 GMT+2', '01:30 GMT+2', '02:00 GMT+2', '02:30 GMT+2', '03:00 GMT+1', '03:30 GMT+1'] },
    ];
    for (const { timeZone, date, night } of dstDays) {
      it(`makes 16 slots from 09:00 to 17:00 local and the night per the policy in ${timeZone} on ${date}`, async () => {
        const s = await scheduled(timeZone, [['00:00', '04:00'], ['09:00', '17:00']], { from: date, to: date });
        const res = await generate(s.tokens.staff, { partnerId: s.partner.gid, from: date, to: date });
        expect(res.data.slotsGenerate.userErrors).toEqual([]);
        const local = localStarts(await slotsOf(s.partner), timeZone);
        const day = Array.from({ length: 16 }, (_, i) => `${String(9 + Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}`);
        expect(local.slice(night.length).map((t) => t.slice(0, 5))).toEqual(day);
        expect(local.slice(0, night.length)).toEqual(night);
        expect(res.data.slotsGenerate.slotsCreated).toBe(night.length + 16);
      });
    }

    it('uses the business time zone, not the server one (UTC): Asia/Kolkata and Pacific/Auckland', async () => {
      expect(Intl.DateTimeFormat().resolvedOptions().timeZone).toBe('UTC');
      const kolkata = await scheduled('Asia/Kolkata', [['09:00', '10:00']], { from: '2031-01-01', to: '2031-12-31' });
      await generate(kolkata.tokens.staff, { partnerId: kolkata.partner.gid, from: '2031-03-03', to: '2031-03-03' });
      expect((await slotsOf(kolkata.partner)).map((x) => x.startsAt)).toEqual(['2031-03-03T03:30:00Z', '2031-03-03T04:00:00Z']);
      // Auckland is on daylight time (UTC+13) on 2031-03-03: 09:00 local is 20:00 UTC the day before.
      const auckland = await scheduled('Pacific/Auckland', [['09:00', '10:00']], { from: '2031-01-01', to: '2031-12-31' });
      await generate(auckland.tokens.staff, { partnerId: auckland.partner.gid, from: '2031-03-03', to: '2031-03-03' });
      expect((await slotsOf(auckland.partner)).map((x) => x.startsAt)).toEqual(['2031-03-02T20:00:00Z', '2031-03-02T20:30:00Z']);
    });

    it('follows the business slot length', async () => {
      const s = await scheduled('Europe/Berlin', [['09:00', '10:00']], { from: '2031-01-01', to: '2031-12-31' });
      await sql`UPDATE businesses SET slot_minutes = 20 WHERE id = ${s.business.id}::bigint`.execute(api.db);
      await generate(s.tokens.staff, { partnerId: s.partner.gid, from: '2031-03-03', to: '2031-03-03' });
      expect(localStarts(await slotsOf(s.partner), 'Europe/Berlin')).toEqual(['09:00 GMT+1', '09:20 GMT+1', '09:40 GMT+1']);
    });

    it('refuses a reversed range and one longer than 366 days with INVALID_INPUT', async () => {
      const s = await scheduled('Europe/Berlin', [['09:00', '10:00']], { from: '2031-01-01', to: '2031-12-31' });
      const reversed = await generate(s.tokens.staff, { partnerId: s.partner.gid, from: '2031-03-03', to: '2031-03-02' });
      expect(reversed.data.slotsGenerate).toEqual({
        partner: null,
        slotsCreated: null,
        userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'to'], message: 'Expected `to` on or after `from` 2031-03-03, got 2031-03-02.' }],
      });
      const tooLong = await generate(s.tokens.staff, { partnerId: s.partner.gid, from: '2031-01-01', to: '2032-01-03' });
      expect(tooLong.data.slotsGenerate.userErrors).toEqual([{ code: 'INVALID_INPUT', field: ['input', 'to'], message: 'Expected `to` at most 366 days after `from`, got 367 days.' }]);
      expect(await slotsOf(s.partner)).toEqual([]);
    });

    it('answers NOT_FOUND to staff of another business, FORBIDDEN to the partner, UNAUTHENTICATED without a token', async () => {
      const s = await scheduled('Europe/Berlin', [['09:00', '10:00']], { from: '2031-01-01', to: '2031-12-31' });
      const other = await createBusiness(api.db);
      const input = { partnerId: s.partner.gid, from: '2031-03-03', to: '2031-03-03' };
      const foreign = await generate((await tokensFor(api, { businessGid: other.gid })).staff, input);
      expect(foreign.data.slotsGenerate.userErrors).toEqual([
        { code: 'NOT_FOUND', field: ['input', 'partnerId'], message: `Expected the ID of a partner whose schedule you may manage, got "${s.partner.gid}".` },
      ]);
      expect((await generate(s.tokens.partner, input)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect((await generate(undefined, input)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      expect(await slotsOf(s.partner)).toEqual([]);
    });

    it('costs the same number of statements for a day as for a year', async () => {
      const s = await scheduled('Europe/Berlin', [['09:00', '17:00']], { from: '2031-01-01', to: '2031-12-31' });
      const day = await api.countStatements(() => generate(s.tokens.staff, { partnerId: s.partner.gid, from: '2031-01-01', to: '2031-01-01' }));
      const year = await api.countStatements(() => generate(s.tokens.staff, { partnerId: s.partner.gid, from: '2031-01-02', to: '2031-12-31' }));
      expect(year.result.data.slotsGenerate.slotsCreated).toBe(364 * 16);
      // Ours: BEGIN, lock partner, business, weekly rules, exceptions, insert, audit, COMMIT; then the
      // change's listeners (the availability cache looks up the partner's city): a small constant.
      expect(day.statements).toBeGreaterThanOrEqual(8);
      expect(day.statements).toBeLessThanOrEqual(10);
      expect(year.statements).toBe(day.statements);
    });
  });

  describe('partnerExceptionSet and slots', () => {
    async function withDay() {
      const s = await scheduled('Europe/Berlin', [['09:00', '17:00']], { from: '2031-01-01', to: '2031-12-31' });
      await generate(s.tokens.staff, { partnerId: s.partner.gid, from: '2031-03-03', to: '2031-03-04' });
      const service = await createService(api.db, s.business, { durationMinutes: 30 });
      const day = await slotsOf(s.partner, '2031-03-02T23:00:00Z', '2031-03-03T23:00:00Z');
      // 15:00 local booked, 16:00 local blocked.
      const booked = day.find((x) => x.startsAt === '2031-03-03T14:00:00Z')!;
      await createBooking(api.db, { business: s.business, service, partner: s.partner, customer: s.customer, slots: [{ ...booked, gid: '' }] });
      const blocked = day.find((x) => x.startsAt === '2031-03-03T15:00:00Z')!;
      await sql`UPDATE partner_slots SET status = 'blocked' WHERE id = ${blocked.id}::bigint`.execute(api.db);
      // 10:00 local held by a live hold, 11:00 by one that lapsed (free again).
      for (const [start, expires] of [['2031-03-03T09:00:00Z', 'now() + interval \'1 hour\''], ['2031-03-03T10:00:00Z', 'now() - interval \'1 minute\'']]) {
        await sql`WITH hold AS (
            INSERT INTO slot_holds (business_id, customer_id, partner_id, service_id, starts_at, ends_at, expires_at)
            VALUES (${s.business.id}::bigint, ${s.customer.id}::bigint, ${s.partner.id}::bigint, ${service.id}::bigint,
                    ${start}::timestamptz, ${start}::timestamptz + interval '30 minutes', ${sql.raw(expires)}) RETURNING id, expires_at)
          UPDATE partner_slots SET hold_id = hold.id, held_until = hold.expires_at FROM hold
          WHERE partner_id = ${s.partner.id}::bigint AND slot_start = ${start}::timestamptz`.execute(api.db);
      }
      const find = async (id: string) => (await slotsOf(s.partner)).find((x) => x.id === id)!;
      return { ...s, booked: await find(booked.id), blocked: await find(blocked.id), held: await find(day.find((x) => x.startsAt === '2031-03-03T09:00:00Z')!.id) };
    }

    it('closing a date removes its free slots, keeps booked, blocked and held ones, and leaves other dates alone', async () => {
      const s = await withDay();
      const nextDay = await slotsOf(s.partner, '2031-03-03T23:00:00Z', '2031-03-04T23:00:00Z');
      const res = await api.gql(EXCEPTION_SET, { input: { partnerId: s.partner.gid, date: '2031-03-03', closed: true } }, { token: s.tokens.staff });
      expect(res.data.partnerExceptionSet.userErrors).toEqual([]);
      expect(await slotsOf(s.partner, '2031-03-02T23:00:00Z', '2031-03-03T23:00:00Z')).toEqual([s.held, s.booked, s.blocked]);
      expect(await slotsOf(s.partner, '2031-03-03T23:00:00Z', '2031-03-04T23:00:00Z')).toEqual(nextDay);
      expect((await auditRows(api.db, s.partner.id, 'partner')).at(-1)).toMatchObject({ action: 'partner.exception_set', changes: { slotsRemoved: 13, slotsCreated: 0 } });
      expect(announced.filter((c) => c.action === 'partner.exception_set' && c.partnerIds.includes(s.partner.id))).toEqual([
        { action: 'partner.exception_set', businessId: s.business.id, partnerIds: [s.partner.id], ranges: [{ startsAt: '2031-03-02T23:00:00.000Z', endsAt: '2031-03-03T23:00:00.000Z' }] },
      ]);
    });

    it('other hours remove the free slots outside them and create the missing ones inside them', async () => {
      const s = await withDay();
      const res = await api.gql(EXCEPTION_SET, { input: { partnerId: s.partner.gid, date: '2031-03-03', closed: false, startTime: '07:00', endTime: '10:00' } }, { token: s.tokens.partner });
      expect(res.data.partnerExceptionSet.userErrors).toEqual([]);
      const day = await slotsOf(s.partner, '2031-03-02T23:00:00Z', '2031-03-03T23:00:00Z');
      expect(localStarts(day, 'Europe/Berlin')).toEqual(['07:00 GMT+1', '07:30 GMT+1', '08:00 GMT+1', '08:30 GMT+1', '09:00 GMT+1', '09:30 GMT+1', '10:00 GMT+1', '15:00 GMT+1', '16:00 GMT+1']);
      expect(day.filter((x) => x.status !== 'available')).toEqual([s.booked, s.blocked]);
      expect(day.find((x) => x.id === s.held.id)).toEqual(s.held);
    });

    it('realigns free slots to hours that start off the grid, skipping what would overlap a kept slot', async () => {
      const s = await withDay();
      await api.gql(EXCEPTION_SET, { input: { partnerId: s.partner.gid, date: '2031-03-03', closed: false, startTime: '14:15', endTime: '16:15' } }, { token: s.tokens.staff });
      const day = await slotsOf(s.partner, '2031-03-02T23:00:00Z', '2031-03-03T23:00:00Z');
      // All free slots of the day go; of 14:15, 14:45, 15:15 and 15:45 only the first fits: the next two
      // would overlap the booked 15:00-15:30, the last the blocked 16:00-16:30.
      expect(localStarts(day, 'Europe/Berlin')).toEqual(['10:00 GMT+1', '14:15 GMT+1', '15:00 GMT+1', '16:00 GMT+1']);
    });
  });

  describe('the periodic job (generateRollingHorizon)', () => {
    // 2033: no other test of this suite has hours then, so the pass only makes slots for these partners.
    const NOW = new Date('2033-01-03T12:00:00Z');

    it('makes the rolling horizon for active partners, from now on, and nothing more when run again', async () => {
      const tokyo = await scheduled('Asia/Tokyo', [['09:00', '10:00']], { from: '2033-01-01', to: '2033-12-31' });
      const berlin = await scheduled('Europe/Berlin', [['09:00', '10:00'], ['18:00', '24:00']], { from: '2033-01-01', to: '2033-12-31' });
      const inactive = await scheduled('Europe/Berlin', [['09:00', '10:00']], { from: '2033-01-01', to: '2033-12-31' }, { isActive: false });

      await generateRollingHorizon(api.db, NOW, { horizonDays: 10, changes: api.app.changes });
      // Tokyo: 12:00Z is 21:00 local, today's hours are over: the next 9 days' 2 slots each.
      const tokyoSlots = await slotsOf(tokyo.partner);
      expect(tokyoSlots).toHaveLength(18);
      expect(tokyoSlots[0].startsAt).toBe('2033-01-04T00:00:00Z');
      expect(tokyoSlots.at(-1)!.startsAt).toBe('2033-01-12T00:30:00Z');
      // Berlin: 13:00 local; today's evening slots and 9 more days of 2 + 12.
      const berlinSlots = await slotsOf(berlin.partner);
      expect(berlinSlots).toHaveLength(12 + 9 * 14);
      expect(berlinSlots[0].startsAt).toBe('2033-01-03T17:00:00Z');
      expect(await slotsOf(inactive.partner)).toEqual([]);
      expect(await auditRows(api.db, berlin.partner.id, 'partner')).toMatchObject([
        { action: 'partner.schedule_changed' },
        { action: 'slots.generated', actor: 'system:slot-generation', changes: { slotsCreated: 138 } },
      ]);
      expect(announced.filter((c) => c.action === 'slots.generated' && c.businessId === berlin.business.id)).toEqual([
        { action: 'slots.generated', businessId: berlin.business.id, partnerIds: [berlin.partner.id], ranges: [{ startsAt: '2033-01-03T17:00:00Z', endsAt: '2033-01-12T23:00:00Z' }] },
      ]);

      await generateRollingHorizon(api.db, NOW, { horizonDays: 10, changes: api.app.changes });
      expect(await slotsOf(tokyo.partner)).toEqual(tokyoSlots);
      expect(await slotsOf(berlin.partner)).toEqual(berlinSlots);
      expect(await auditRows(api.db, berlin.partner.id, 'partner')).toHaveLength(2);
      expect(announced.filter((c) => c.action === 'slots.generated' && c.businessId === berlin.business.id)).toHaveLength(1);

      // A day later, the horizon moves on by one day.
      await generateRollingHorizon(api.db, new Date(NOW.getTime() + 24 * 3600_000), { horizonDays: 10 });
      expect(await slotsOf(tokyo.partner)).toHaveLength(20);
    });

    it('runs a pass as soon as the job starts, logs it, and waits for it on stop', async () => {
      const s = await scheduled('Europe/Berlin', [['09:00', '10:00']], { from: '2035-01-01', to: '2035-12-31' });
      const logged: Array<{ message: string; context?: Record<string, unknown> }> = [];
      const log = { info: (message: string, context?: Record<string, unknown>) => void logged.push({ message, context }), error: (message: string) => void logged.push({ message }) };
      const job = startSlotGenerationJob({ database: api.database, changes: api.app.changes, log, intervalMinutes: 60, horizonDays: 2, clock: () => new Date('2035-01-01T00:00:00Z') });
      await job.stop();
      expect(await slotsOf(s.partner)).toHaveLength(4);
      expect(logged).toEqual([{ message: 'Slot generation pass done', context: expect.objectContaining({ horizonDays: 2 }) }]);
    });

    it('defers its first pass by firstPassAfterMs (the API answers first), and a stop before it runs none', async () => {
      const s = await scheduled('Europe/Berlin', [['09:00', '10:00']], { from: '2035-01-01', to: '2035-12-31' });
      const logged: string[] = [];
      const log = { info: (message: string) => void logged.push(message), error: (message: string) => void logged.push(message) };
      const clock = () => new Date('2035-01-01T00:00:00Z');
      const early = startSlotGenerationJob({ database: api.database, changes: api.app.changes, log, intervalMinutes: 60, horizonDays: 2, clock, firstPassAfterMs: 60_000 });
      await early.stop();
      expect(await slotsOf(s.partner)).toHaveLength(0);
      expect(logged).toEqual([]);

      const deferred = startSlotGenerationJob({ database: api.database, changes: api.app.changes, log, intervalMinutes: 60, horizonDays: 2, clock, firstPassAfterMs: 200 });
      expect(await slotsOf(s.partner)).toHaveLength(0);
      for (let waited = 0; !logged.length && waited < 30_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      await deferred.stop();
      expect(await slotsOf(s.partner)).toHaveLength(4);
      expect(logged).toEqual(['Slot generation pass done']);
    });

    it('skips a pass while another instance holds the generation lock (PostgreSQL)', async ({ skip }) => {
      if (!onRealPostgres) skip();
      const other = await connectDatabase({ databaseUrl: process.env.DATABASE_URL, poolMax: 1 });
      try {
        await other.db.connection().execute(async (connection) => {
          await sql`SELECT pg_advisory_lock(${0x736c6f7467656e}::bigint)`.execute(connection);
          try {
            expect(await runExclusiveGenerationPass(api.database, NOW, { horizonDays: 1 })).toBeNull();
          } finally {
            await sql`SELECT pg_advisory_unlock(${0x736c6f7467656e}::bigint)`.execute(connection);
          }
        });
        expect(await runExclusiveGenerationPass(api.database, NOW, { horizonDays: 1 })).not.toBeNull();
      } finally {
        await other.close();
      }
    });
  });
});

