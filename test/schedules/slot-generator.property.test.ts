import fc from 'fast-check';
import { Temporal } from 'temporal-polyfill';
import { describe, expect, it } from 'vitest';
import { generateSlots, type GeneratedSlot, type WeeklyRule } from '../../src/schedules/slot-generator.js';

/**
 * Property: a weekly schedule always yields its local hours, in any zone and any week. The oracle
 * does not use Temporal: it reads wall-clock times from Intl (the platform's ICU), and counts the
 * local slot starts that exist.
 *
 * Zones with daylight saving in both hemispheres, at midnight (Santiago, Havana, Cairo, Beirut),
 * with half-hour offsets or a half-hour jump (St John's, Adelaide, Lord Howe), negative DST
 * (Dublin), Ramadan changes (Casablanca), and none (Kolkata, Tokyo, Phoenix). Windows start and end
 * on the hour and slots are 15, 30 or 60 minutes, so that every jump lands between two slots and
 * "count the existing starts" is exact. (Pacific/Chatham jumps at 02:45 and is left out for that
 * reason: its policy is the same, but this simple oracle is not.)
 */
const ZONES = [
  'America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles', 'America/Phoenix', 'America/Halifax',
  'America/St_Johns', 'America/Santiago', 'America/Sao_Paulo', 'America/Havana', 'Europe/London', 'Europe/Berlin',
  'Europe/Dublin', 'Europe/Moscow', 'Africa/Cairo', 'Africa/Casablanca', 'Asia/Beirut', 'Asia/Kolkata', 'Asia/Kathmandu',
  'Asia/Tokyo', 'Australia/Sydney', 'Australia/Adelaide', 'Australia/Lord_Howe', 'Pacific/Auckland',
];

const formatters = new Map<string, Intl.DateTimeFormat>();
/** The local date and minute of the day of an instant, from Intl. */
function wallOf(epochMs: number, timeZone: string): { date: string; minute: number } {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(epochMs)).map((p) => [p.type, p.value]));
  return { date: `${parts.year}-${parts.month}-${parts.day}`, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

function wallAsUtc(date: string, minute: number): number {
  return Date.parse(`${date}T00:00:00Z`) + minute * 60_000;
}

/** Whether a local wall-clock time happens at all: some instant near it shows it. */
function wallTimeExists(date: string, minute: number, timeZone: string): boolean {
  const guess = wallAsUtc(date, minute);
  const offsets = [-26, 0, 26].map((h) => {
    const at = guess + h * 3600_000;
    const wall = wallOf(at, timeZone);
    return wallAsUtc(wall.date, wall.minute) - at;
  });
  return offsets.some((offset) => {
    const wall = wallOf(guess - offset, timeZone);
    return wall.date === date && wall.minute === minute;
  });
}

function isoDayOfWeek(date: string): number {
  return ((new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;
}

const hourWindows = fc
  .uniqueArray(fc.integer({ min: 0, max: 24 }), { minLength: 0, maxLength: 4 })
  .map((hours) => hours.sort((a, b) => a - b))
  .map((hours) => {
    const windows: Array<{ start: number; end: number }> = [];
    for (let i = 0; i + 1 < hours.length; i += 2) windows.push({ start: hours[i] * 60, end: hours[i + 1] * 60 });
    return windows;
  });

/** The Monday on or before a date. */
function mondayOf(date: Temporal.PlainDate): string {
  return date.subtract({ days: date.dayOfWeek - 1 }).toString();
}

const scheduleArbitrary = fc
  .record({
    timeZone: fc.constantFrom(...ZONES),
    slotMinutes: fc.constantFrom(15, 30, 60),
    days: fc.array(hourWindows, { minLength: 7, maxLength: 7 }),
    // A week between 2020 and 2035...
    week: fc.integer({ min: 0, max: 15 * 52 }),
    // ...or, most of the time, the week of the zone's next clock change after it: a random week
    // rarely has one, and those are the weeks that matter.
    onAChange: fc.boolean(),
    weeks: fc.integer({ min: 1, max: 2 }),
  })
  .map(({ week, onAChange, ...rest }) => {
    const date = Temporal.PlainDate.from('2020-01-06').add({ weeks: week });
    const change = onAChange ? date.toZonedDateTime({ timeZone: rest.timeZone }).getTimeZoneTransition('next') : null;
    return { ...rest, startWeek: mondayOf(change ? change.toPlainDate() : date) };
  });

type Schedule = typeof scheduleArbitrary extends fc.Arbitrary<infer T> ? T : never;

function rulesOf(schedule: Schedule): WeeklyRule[] {
  return schedule.days.flatMap((windows, i) =>
    windows.map((w) => ({ dayOfWeek: i + 1, startMinute: w.start, endMinute: w.end, effectiveFrom: '2000-01-01', effectiveTo: null })),
  );
}

function lastDateOf(schedule: Schedule): string {
  return Temporal.PlainDate.from(schedule.startWeek).add({ days: 7 * schedule.weeks - 1 }).toString();
}

/** Checks the property for the slots some generator made; returns nothing, throws on a breach. */
function checkYieldsLocalHours(schedule: Schedule, slots: readonly GeneratedSlot[]): void {
  const { timeZone, slotMinutes } = schedule;
  const perDate = new Map<string, number>();
  slots.forEach((slot, i) => {
    expect(slot.end - slot.start).toBe(slotMinutes * 60_000);
    if (i > 0) expect(slot.start).toBeGreaterThanOrEqual(slots[i - 1].end);
    const wall = wallOf(slot.start, timeZone);
    const windows = schedule.days[isoDayOfWeek(wall.date) - 1];
    const inside = windows.some((w) => w.start <= wall.minute && wall.minute + slotMinutes <= w.end && (wall.minute - w.start) % slotMinutes === 0);
    if (!inside) throw new Error(`A slot at ${wall.date} ${wall.minute / 60}h local (${new Date(slot.start).toISOString()}) is outside that day's hours in ${timeZone}.`);
    perDate.set(wall.date, (perDate.get(wall.date) ?? 0) + 1);
  });
  for (let date = Temporal.PlainDate.from(schedule.startWeek); Temporal.PlainDate.compare(date, Temporal.PlainDate.from(lastDateOf(schedule))) <= 0; date = date.add({ days: 1 })) {
    const iso = date.toString();
    let existing = 0;
    for (const w of schedule.days[date.dayOfWeek - 1]) {
      for (let m = w.start; m + slotMinutes <= w.end; m += slotMinutes) if (wallTimeExists(iso, m, timeZone)) existing++;
    }
    if ((perDate.get(iso) ?? 0) !== existing) {
      throw new Error(`Expected ${existing} slots on ${iso} in ${timeZone}, got ${perDate.get(iso) ?? 0}.`);
    }
  }
}

function generate(schedule: Schedule): GeneratedSlot[] {
  return generateSlots({ timeZone: schedule.timeZone, slotMinutes: schedule.slotMinutes, from: schedule.startWeek, to: lastDateOf(schedule), weekly: rulesOf(schedule), overrides: [] });
}

/** The classic mistake: make the first week, then copy it 168 hours later for every further week. */
function generateBy168Hours(schedule: Schedule): GeneratedSlot[] {
  const firstWeek = generateSlots({
    timeZone: schedule.timeZone,
    slotMinutes: schedule.slotMinutes,
    from: schedule.startWeek,
    to: Temporal.PlainDate.from(schedule.startWeek).add({ days: 6 }).toString(),
    weekly: rulesOf(schedule),
    overrides: [],
  });
  const week = 168 * 3600_000;
  return Array.from({ length: schedule.weeks }, (_, n) => firstWeek.map((s) => ({ start: s.start + n * week, end: s.end + n * week }))).flat();
}

describe('Slot generator: property over zones and weeks', () => {
  it('yields exactly the existing local slot starts of each weekday, in every zone and week', () => {
    fc.assert(
      fc.property(scheduleArbitrary, (schedule) => checkYieldsLocalHours(schedule, generate(schedule))),
      { numRuns: 300, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) },
    );
  });

  it('finds the weeks where stepping by 168 hours breaks the same property', () => {
    // A schedule across the Berlin autumn change, so the counterexample exists and fast-check finds it.
    const acrossTheChange = scheduleArbitrary.map((s) => ({ ...s, timeZone: 'Europe/Berlin', startWeek: '2026-10-19', weeks: 2 }));
    const result = fc.check(
      fc.property(acrossTheChange, (schedule) => checkYieldsLocalHours(schedule, generateBy168Hours(schedule))),
      { numRuns: 200, seed: 42 },
    );
    expect(result.failed).toBe(true);
    // And the production way passes on the very same schedules.
    fc.assert(fc.property(acrossTheChange, (schedule) => checkYieldsLocalHours(schedule, generate(schedule))), { numRuns: 200, seed: 42 });
  });
});
