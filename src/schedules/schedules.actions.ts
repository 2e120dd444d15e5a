import type { PartnerExceptionSetInput, PartnerScheduleSetInput, SlotsGenerateInput, UserError } from '../__generated__/resolvers-types.js';
import { managementScopeOf, type ManagementScope } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { findBusinessesByIds } from '../businesses/businesses.repository.js';
import type { BusinessModel } from '../businesses/business.model.js';
import type { PartnerModel } from '../partners/partner.model.js';
import { lockPartnerById } from '../partners/partners.repository.js';
import { rawIdOf } from '../shared/global-id.js';
import type { Step } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { abort, type ActionResult } from '../shared/user-errors.js';
import { DAYS_OF_WEEK, isoDayOf } from './schedule.model.js';
import { deleteWeeklyHoursInRange, findExceptionForUpdate, insertWeeklyHours, upsertException, type WeeklyHoursRow } from './schedules.repository.js';
import { deleteFreeSlotsExcept, insertSlotsSkippingConflicts } from './slot-materialization.repository.js';
import { planSlots } from './slot-planning.js';
import { addDays, daysBetween, formatLocalTime, generateSlots, localDateRange, MINUTES_PER_DAY, parseLocalTime } from './slot-generator.js';

/**
 * Schedule rules: weekly hours, exceptions per date, and making slots from them. Each change is a
 * step inside its mutation's transaction with the partner locked (FOR NO KEY UPDATE: schedule
 * changes of one partner queue up, bookings are not blocked); it returns its audit entry and the
 * change to announce after the commit. Inputs are checked before, outside the transaction.
 */

/** What a caller may change: a null column means any (an admin's business, staff's partner). */
export type ScheduleManager = ManagementScope;

export type ScheduleOperation = 'weeklyHours' | 'exception' | 'generate';

/**
 * Admins and staff of the business may do everything. A partner may set exceptions of their own
 * (a day off, a longer Saturday) but not their weekly hours, which the business decides, nor make
 * slots. Null: the caller may do none of it.
 */
export function scheduleManagerOf(viewer: Viewer, operation: ScheduleOperation): ScheduleManager | null {
  return managementScopeOf(viewer, { partnersMay: operation === 'exception' });
}

const PARTNER_ID_FIELD = ['input', 'partnerId'];
/** A year and a day: a leap year's dates plus one, the same bound as `Partner.exceptions`. */
export const MAX_RANGE_DAYS = 366;
const MAX_WEEKLY_ENTRIES = 100;

// Another tenant's partner must read exactly like a missing one, so both get this same answer.
function notFoundMessage(partnerGid: string): string {
  return `Expected the ID of a partner whose schedule you may manage, got "${partnerGid}".`;
}

function invalid(message: string, field: string[]): { ok: false; errors: UserError[] } {
  return { ok: false, errors: [{ code: 'INVALID_INPUT', message, field }] };
}

/** Locks the partner if the manager may change it, with its business (zone, slot length); aborts with NOT_FOUND otherwise. */
async function lockManagedPartner(trx: Trx, manager: ScheduleManager, partnerGid: string): Promise<{ partner: PartnerModel; business: BusinessModel }> {
  const id = rawIdOf(partnerGid, 'Partner');
  const partner = id ? await lockPartnerById(trx, id, manager.businessId) : undefined;
  if (!partner || (manager.partnerId !== null && manager.partnerId !== partner.id)) abort('NOT_FOUND', notFoundMessage(partnerGid), PARTNER_ID_FIELD);
  const business = (await findBusinessesByIds(trx, [partner.businessId]))[0];
  if (!business) abort('NOT_FOUND', notFoundMessage(partnerGid), PARTNER_ID_FIELD);
  return { partner, business };
}

/** Checks one window given as `HH:MM` texts (the scalar already checked their form); minutes, or the error. */
function checkWindow(startTime: string, endTime: string, path: string[]): { start: number; end: number } | UserError {
  const start = parseLocalTime(startTime)!;
  const end = parseLocalTime(endTime)!;
  if (start >= MINUTES_PER_DAY) {
    return { code: 'INVALID_INPUT', message: `Expected a start time from 00:00 to 23:59, got ${startTime}: 24:00 is only an end time.`, field: [...path, 'startTime'] };
  }
  if (end <= start) {
    return { code: 'INVALID_INPUT', message: `Expected an end time after the start time ${startTime}, got ${endTime}. Hours past midnight go on the next day's entry.`, field: [...path, 'endTime'] };
  }
  return { start, end };
}

function isError(value: object): value is UserError {
  return 'code' in value;
}

// ---------------------------------------------------------------------------------------------
// partnerScheduleSet

/** The weekly hours in rows for the table, or the first thing wrong with them. */
export function checkWeeklyHours(input: PartnerScheduleSetInput): ActionResult<WeeklyHoursRow[]> {
  if (input.effectiveTo && input.effectiveTo < input.effectiveFrom) {
    return invalid(`Expected effectiveTo on or after effectiveFrom ${input.effectiveFrom}, got ${input.effectiveTo}.`, ['input', 'effectiveTo']);
  }
  if (input.weeklyHours.length > MAX_WEEKLY_ENTRIES) {
    return invalid(`Expected at most ${MAX_WEEKLY_ENTRIES} weekly hours, got ${input.weeklyHours.length}.`, ['input', 'weeklyHours']);
  }
  const checked: Array<{ index: number; day: number; start: number; end: number }> = [];
  for (const [index, entry] of input.weeklyHours.entries()) {
    const window = checkWindow(entry.startTime, entry.endTime, ['input', 'weeklyHours', String(index)]);
    if (isError(window)) return { ok: false, errors: [window] };
    checked.push({ index, day: isoDayOf(entry.dayOfWeek), ...window });
  }
  const sorted = [...checked].sort((a, b) => a.day - b.day || a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    const [before, after] = [sorted[i - 1], sorted[i]];
    if (before.day === after.day && after.start < before.end) {
      const show = (w: typeof before) => `${formatLocalTime(w.start)}-${formatLocalTime(w.end)}`;
      return invalid(
        `Expected hours that do not overlap, got ${show(before)} and ${show(after)} on ${DAYS_OF_WEEK[before.day - 1]}.`,
        ['input', 'weeklyHours', String(Math.max(before.index, after.index))],
      );
    }
  }
  return {
    ok: true,
    value: sorted.map((w) => ({
      dayOfWeek: w.day,
      startTime: formatLocalTime(w.start),
      endTime: formatLocalTime(w.end),
      effectiveFrom: input.effectiveFrom,
      effectiveTo: input.effectiveTo ?? null,
    })),
  };
}

/**
 * Replaces the weekly hours over [effectiveFrom, effectiveTo]. A row that overlaps the range is
 * split: its part before effectiveFrom stays, and (when effectiveTo is given) its part after
 * effectiveTo comes back, so temporary hours (a summer schedule) end by themselves. Slots are
 * neither made nor removed: `slotsGenerate` and the periodic job do that.
 */
export async function setWeeklyHours(trx: Trx, manager: ScheduleManager, input: PartnerScheduleSetInput, rows: WeeklyHoursRow[]): Promise<Step<PartnerModel>> {
  const from = input.effectiveFrom;
  const to = input.effectiveTo ?? null;
  const { partner, business } = await lockManagedPartner(trx, manager, input.partnerId);
  const removed = await deleteWeeklyHoursInRange(trx, partner.id, from, to);
  const kept: WeeklyHoursRow[] = [];
  for (const row of removed) {
    if (row.effectiveFrom < from) kept.push({ ...row, effectiveTo: addDays(from, -1) });
    if (to !== null && (row.effectiveTo === null || row.effectiveTo > to)) kept.push({ ...row, effectiveFrom: addDays(to, 1) });
  }
  await insertWeeklyHours(trx, partner.businessId, partner.id, [...kept, ...rows]);
  return {
    value: partner,
    changes: [{
      action: 'partner.schedule_changed',
      businessId: partner.businessId,
      partnerIds: [partner.id],
      // Open-ended hours may change any time from `from` on: an empty list says "all of them".
      ranges: to === null ? [] : [{ startsAt: isoOf(localDateRange(from, business.timeZone).start), endsAt: isoOf(localDateRange(to, business.timeZone).end) }],
    }],
    audit: [{
      businessId: partner.businessId,
      entity: 'partner',
      entityId: partner.id,
      action: 'partner.schedule_changed',
      changes: { before: { weeklyHours: removed }, after: { weeklyHours: [...kept, ...rows] } },
    }],
  };
}

function isoOf(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

// ---------------------------------------------------------------------------------------------
// partnerExceptionSet

export function checkException(input: PartnerExceptionSetInput): ActionResult<{ startTime: string | null; endTime: string | null }> {
  if (input.closed) {
    if (input.startTime != null || input.endTime != null) {
      return invalid('Expected no startTime or endTime when closed is true.', ['input', input.startTime != null ? 'startTime' : 'endTime']);
    }
    return { ok: true, value: { startTime: null, endTime: null } };
  }
  if (input.startTime == null) return invalid('Expected startTime when closed is false.', ['input', 'startTime']);
  if (input.endTime == null) return invalid('Expected endTime when closed is false.', ['input', 'endTime']);
  const window = checkWindow(input.startTime, input.endTime, ['input']);
  if (isError(window)) return { ok: false, errors: [window] };
  return { ok: true, value: { startTime: formatLocalTime(window.start), endTime: formatLocalTime(window.end) } };
}

/**
 * Sets a date's hours, then makes the date's free slots match them: free slots that the new hours
 * do not generate exactly are removed (all of them when closed), the missing ones are created.
 * Booked, blocked and held slots stay, and new slots that would overlap them are skipped.
 */
export async function setException(
  trx: Trx,
  manager: ScheduleManager,
  input: PartnerExceptionSetInput,
  hours: { startTime: string | null; endTime: string | null },
): Promise<Step<PartnerModel>> {
  const { partner, business } = await lockManagedPartner(trx, manager, input.partnerId);
  const before = await findExceptionForUpdate(trx, partner.id, input.date);
  const after = await upsertException(trx, partner.businessId, { partnerId: partner.id, date: input.date, closed: input.closed, ...hours });

  const wanted = generateSlots({
    timeZone: business.timeZone,
    slotMinutes: business.slotMinutes,
    from: input.date,
    to: input.date,
    weekly: [],
    overrides: [{ date: input.date, closed: after.closed, startMinute: parseLocalTime(after.startTime ?? ''), endMinute: parseLocalTime(after.endTime ?? '') }],
  }).map((s) => ({ businessId: partner.businessId, partnerId: partner.id, startsAt: isoOf(s.start), endsAt: isoOf(s.end) }));
  const day = localDateRange(input.date, business.timeZone);
  const slotsRemoved = await deleteFreeSlotsExcept(trx, { partnerId: partner.id, from: isoOf(day.start), to: isoOf(day.end), keep: wanted });
  const inserted = await insertSlotsSkippingConflicts(trx, wanted);
  const slotsCreated = inserted.reduce((sum, i) => sum + i.count, 0);
  return {
    value: partner,
    changes: [{ action: 'partner.exception_set', businessId: partner.businessId, partnerIds: [partner.id], ranges: [{ startsAt: isoOf(day.start), endsAt: isoOf(day.end) }] }],
    audit: [{
      businessId: partner.businessId,
      entity: 'partner',
      entityId: partner.id,
      action: 'partner.exception_set',
      changes: { before: { exception: before ?? null }, after: { exception: after }, slotsRemoved, slotsCreated },
    }],
  };
}

// ---------------------------------------------------------------------------------------------
// slotsGenerate

export interface SlotsGenerated {
  partner: PartnerModel;
  slotsCreated: number;
}

/** Checks the range of dates to make slots for. */
export function checkGenerateRange(input: SlotsGenerateInput): ActionResult<null> {
  const days = daysBetween(input.from, input.to);
  if (days < 0) return invalid(`Expected \`to\` on or after \`from\` ${input.from}, got ${input.to}.`, ['input', 'to']);
  if (days > MAX_RANGE_DAYS) return invalid(`Expected \`to\` at most ${MAX_RANGE_DAYS} days after \`from\`, got ${days} days.`, ['input', 'to']);
  return { ok: true, value: null };
}

/**
 * Creates the slots the schedule calls for between two local dates that do not exist yet. Dates in
 * the past are allowed (staff may fill in a past week), an inactive partner too (slots ready for
 * their return); neither can be booked.
 */
export async function generatePartnerSlots(trx: Trx, manager: ScheduleManager, input: SlotsGenerateInput): Promise<Step<SlotsGenerated>> {
  const { partner, business } = await lockManagedPartner(trx, manager, input.partnerId);
  const slots = await planSlots(trx, [
    { partnerId: partner.id, businessId: partner.businessId, timeZone: business.timeZone, slotMinutes: business.slotMinutes, from: input.from, to: input.to },
  ]);
  const inserted = (await insertSlotsSkippingConflicts(trx, slots))[0];
  const slotsCreated = inserted?.count ?? 0;
  if (!inserted) return { value: { partner, slotsCreated } };
  return {
    value: { partner, slotsCreated },
    changes: [{ action: 'slots.generated', businessId: partner.businessId, partnerIds: [partner.id], ranges: [{ startsAt: inserted.firstStart, endsAt: inserted.lastEnd }] }],
    audit: [{ businessId: partner.businessId, entity: 'partner', entityId: partner.id, action: 'slots.generated', changes: { from: input.from, to: input.to, slotsCreated } }],
  };
}
