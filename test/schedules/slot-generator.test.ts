import { Temporal } from 'temporal-polyfill';
import { describe, expect, it } from 'vitest';
import { generateSlots, parseLocalTime, type WeeklyRule } from '../../src/schedules/slot-generator.js';
import { localDateOfWeek } from './week-stepping.js';

/** A rule for every day of the week, from `start` to `end` local time, valid forever. */
function everyDay(start: string, end: string): WeeklyRule[] {
  return [1, 2, 3, 4, 5, 6, 7].map((dayOfWeek) => ({
    dayOfWeek,
    startMinute: parseLocalTime(start)!,
    endMinute: parseLocalTime(end)!,
    effectiveFrom: '2000-01-01',
    effectiveTo: null,
  }));
}

function slotsOn(timeZone: string, date: string, start: string, end: string, slotMinutes = 30) {
  return generateSlots({ timeZone, slotMinutes, from: date, to: date, weekly: everyDay(start, end), overrides: [] });
}

/** A slot as UTC start, local start (with offset) and real length in minutes. */
function describeSlots(timeZone: string, slots: ReturnType<typeof generateSlots>) {
  return slots.map((s) => ({
    utc: new Date(s.start).toISOString().slice(11, 16),
    local: Temporal.Instant.fromEpochMilliseconds(s.start).toZonedDateTimeISO(timeZone).toString().slice(11, 22),
    minutes: (s.end - s.start) / 60_000,
  }));
}

const DST_DAYS = [
  { timeZone: 'America/New_York', date: '2026-03-08', change: 'spring forward' },
  { timeZone: 'America/New_York', date: '2026-11-01', change: 'fall back' },
  { timeZone: 'Europe/Berlin', date: '2026-03-29', change: 'spring forward' },
  { timeZone: 'Europe/Berlin', date: '2026-10-25', change: 'fall back' },
];

describe('Slot generator: daylight-saving policy', () => {
  for (const { timeZone, date, change } of DST_DAYS) {
    it(`makes exactly 16 half-hour slots from 09:00 to 17:00 local in ${timeZone} on ${date} (${change})`, () => {
      const slots = slotsOn(timeZone, date, '09:00', '17:00');
      const local = describeSlots(timeZone, slots);
      expect(local).toHaveLength(16);
      expect(local[0].local.slice(0, 5)).toBe('09:00');
      expect(local[15].local.slice(0, 5)).toBe('16:30');
      expect(local.every((s) => s.minutes === 30)).toBe(true);
      // Consecutive: the day's hours are untouched by the change in the night.
      expect(slots.every((s, i) => i === 0 || s.start === slots[i - 1].end)).toBe(true);
    });
  }

  it('skips the non-existent hour in a 00:00-04:00 window when New York springs forward', () => {
    expect(describeSlots('America/New_York', slotsOn('America/New_York', '2026-03-08', '00:00', '04:00'))).toEqual([
      { utc: '05:00', local: '00:00:00-05', minutes: 30 },
      { utc: '05:30', local: '00:30:00-05', minutes: 30 },
      { utc: '06:00', local: '01:00:00-05', minutes: 30 },
      { utc: '06:30', local: '01:30:00-05', minutes: 30 },
      { utc: '07:00', local: '03:00:00-04', minutes: 30 },
      { utc: '07:30', local: '03:30:00-04', minutes: 30 },
    ]);
  });

  it('takes the repeated hour once, at its earlier occurrence, when New York falls back', () => {
    expect(describeSlots('America/New_York', slotsOn('America/New_York', '2026-11-01', '00:00', '04:00'))).toEqual([
      { utc: '04:00', local: '00:00:00-04', minutes: 30 },
      { utc: '04:30', local: '00:30:00-04', minutes: 30 },
      { utc: '05:00', local: '01:00:00-04', minutes: 30 },
      { utc: '05:30', local: '01:30:00-04', minutes: 30 },
      // 06:00-07:00 UTC is 01:00-02:00 again, on standard time: no slot.
      { utc: '07:00', local: '02:00:00-05', minutes: 30 },
      { utc: '07:30', local: '02:30:00-05', minutes: 30 },
      { utc: '08:00', local: '03:00:00-05', minutes: 30 },
      { utc: '08:30', local: '03:30:00-05', minutes: 30 },
    ]);
  });

  it('skips 02:00-03:00 when Berlin springs forward', () => {
    expect(describeSlots('Europe/Berlin', slotsOn('Europe/Berlin', '2026-03-29', '00:00', '04:00')).map((s) => s.local)).toEqual([
      '00:00:00+01',
      '00:30:00+01',
      '01:00:00+01',
      '01:30:00+01',
      '03:00:00+02',
      '03:30:00+02',
    ]);
  });

  it('takes 02:00-03:00 once, on summer time, when Berlin falls back', () => {
    expect(describeSlots('Europe/Berlin', slotsOn('Europe/Berlin', '2026-10-25', '00:00', '04:00'))).toEqual([
      { utc: '22:00', local: '00:00:00+02', minutes: 30 },
      { utc: '22:30', local: '00:30:00+02', minutes: 30 },
      { utc: '23:00', local: '01:00:00+02', minutes: 30 },
      { utc: '23:30', local: '01:30:00+02', minutes: 30 },
      { utc: '00:00', local: '02:00:00+02', minutes: 30 },
      { utc: '00:30', local: '02:30:00+02', minutes: 30 },
      { utc: '02:00', local: '03:00:00+01', minutes: 30 },
      { utc: '02:30', local: '03:30:00+01', minutes: 30 },
    ]);
  });

  it('ends a window whose end time is skipped at the moment the clocks jump', () => {
    // 00:00-02:30 on the New York spring day: 02:30 does not exist, the window ends at 03:00 EDT (07:00Z).
    expect(describeSlots('America/New_York', slotsOn('America/New_York', '2026-03-08', '00:00', '02:30', 60))).toEqual([
      { utc: '05:00', local: '00:00:00-05', minutes: 60 },
      { utc: '06:00', local: '01:00:00-05', minutes: 60 },
    ]);
    // With 45-minute slots, 01:30 EST would end at 07:15Z, past the jump: not created.
    expect(describeSlots('America/New_York', slotsOn('America/New_York', '2026-03-08', '00:00', '02:15', 45)).map((s) => s.local)).toEqual([
      '00:00:00-05',
      '00:45:00-05',
    ]);
  });

  it('never makes overlapping slots when the slot length does not divide the jump', () => {
    // 45-minute steps: 00:45, 01:30 (EST, until 07:15Z), 02:15 (skipped), 03:00 EDT = 07:00Z would overlap.
    const slots = slotsOn('America/New_York', '2026-03-08', '00:00', '06:00', 45);
    expect(slots.every((s, i) => i === 0 || s.start >= slots[i - 1].end)).toBe(true);
    expect(describeSlots('America/New_York', slots).map((s) => s.local)).toEqual([
      '00:00:00-05',
      '00:45:00-05',
      '01:30:00-05',
      '03:45:00-04',
      '04:30:00-04',
      '05:15:00-04',
    ]);
  });

  it('ends a window at 24:00 at the next local midnight', () => {
    const slots = slotsOn('Europe/Berlin', '2026-10-25', '22:00', '24:00', 60);
    expect(describeSlots('Europe/Berlin', slots).map((s) => s.local)).toEqual(['22:00:00+01', '23:00:00+01']);
    expect(new Date(slots[1].end).toISOString()).toBe('2026-10-25T23:00:00.000Z');
  });

  it('handles a midnight that does not exist (Santiago springs forward at 00:00)', () => {
    const slots = slotsOn('America/Santiago', '2026-09-06', '00:00', '02:00', 30);
    expect(describeSlots('America/Santiago', slots).map((s) => s.local)).toEqual(['01:00:00-03', '01:30:00-03']);
  });

  it('works in zones far from the server zone (UTC): Asia/Kolkata and Pacific/Auckland', () => {
    expect(Intl.DateTimeFormat().resolvedOptions().timeZone).toBe('UTC');
    const kolkata = slotsOn('Asia/Kolkata', '2026-11-23', '09:00', '10:00');
    expect(kolkata.map((s) => new Date(s.start).toISOString())).toEqual(['2026-11-23T03:30:00.000Z', '2026-11-23T04:00:00.000Z']);
    // Auckland is on daylight time (UTC+13) in November: 09:00 local is 20:00 UTC the day before.
    const auckland = slotsOn('Pacific/Auckland', '2026-11-23', '09:00', '10:00');
    expect(auckland.map((s) => new Date(s.start).toISOString())).toEqual(['2026-11-22T20:00:00.000Z', '2026-11-22T20:30:00.000Z']);
    // Auckland springs forward on 2026-09-27 at 02:00: the 09:00-17:00 day keeps its 16 slots.
    expect(describeSlots('Pacific/Auckland', slotsOn('Pacific/Auckland', '2026-09-27', '09:00', '17:00')).map((s) => s.local.slice(0, 5))).toEqual(
      Array.from({ length: 16 }, (_, i) => `${String(9 + Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}`),
    );
  });

  it('applies an exception instead of the weekly hours, and closed dates get nothing', () => {
    const weekly = everyDay('09:00', '17:00');
    const slots = generateSlots({
      timeZone: 'Europe/Berlin',
      slotMinutes: 60,
      from: '2026-11-23',
      to: '2026-11-25',
      weekly,
      overrides: [
        { date: '2026-11-23', closed: true, startMinute: null, endMinute: null },
        { date: '2026-11-24', closed: false, startMinute: 12 * 60, endMinute: 14 * 60 },
      ],
    });
    expect(describeSlots('Europe/Berlin', slots).map((s) => s.local.slice(0, 5))).toEqual(['12:00', '13:00', ...['09', '10', '11', '12', '13', '14', '15', '16'].map((h) => `${h}:00`)]);
  });

  it('only uses weekly hours on the dates they are in force', () => {
    const rule = { dayOfWeek: 1, startMinute: 9 * 60, endMinute: 10 * 60, effectiveFrom: '2026-11-30', effectiveTo: '2026-12-07' };
    const slots = generateSlots({ timeZone: 'UTC', slotMinutes: 60, from: '2026-11-23', to: '2026-12-14', weekly: [rule], overrides: [] });
    expect(slots.map((s) => new Date(s.start).toISOString().slice(0, 13))).toEqual(['2026-11-30T09', '2026-12-07T09']);
  });
});

describe('Week stepping: calendar weeks, not 168 hours', () => {
  it('keeps the local time and date of week N when stepping calendar weeks, and drifts when adding 168 hours', () => {
    // Monday 2026-10-19 00:30 in Berlin; the clocks fall back on Sunday 2026-10-25.
    const start = Temporal.ZonedDateTime.from('2026-10-19T00:30[Europe/Berlin]');
    expect(localDateOfWeek(start, 1, 'calendar').toString().slice(0, 16)).toBe('2026-10-26T00:30');
    // 168 hours later it is 23:30 on Sunday: the wrong day, so Monday's hours would not apply.
    expect(localDateOfWeek(start, 1, 'hours').toString().slice(0, 16)).toBe('2026-10-25T23:30');
    // Across the spring change the hour drifts the other way (09:00 becomes 10:00).
    const spring = Temporal.ZonedDateTime.from('2026-03-02T09:00[America/New_York]');
    expect(localDateOfWeek(spring, 1, 'calendar').toString().slice(0, 16)).toBe('2026-03-09T09:00');
    expect(localDateOfWeek(spring, 1, 'hours').toString().slice(0, 16)).toBe('2026-03-09T10:00');
  });
});
