import { Temporal } from 'temporal-polyfill';

/**
 * Slots from working hours, in pure TypeScript: no database, no clock. Hours are wall-clock times
 * in the business's IANA time zone; slots are instants. The daylight-saving policy is ours (time
 * libraries and PostgreSQL disagree on it), and it is this:
 *
 * 1. A slot starts at each local wall-clock time `start, start + slotMinutes, ...` inside the day's
 *    working windows (a window is [start, end) in local time; `24:00` ends it at midnight).
 * 2. A local start that does not exist (the hour skipped when clocks spring forward) yields no slot.
 * 3. A local start that exists twice (the hour repeated when clocks fall back) is taken once, at its
 *    earlier occurrence; the second pass through the repeated hour has no slots.
 * 4. A slot lasts `slotMinutes` of real time.
 * 5. A window ends at its end time's instant: the earlier occurrence if it is repeated, and the
 *    moment the clocks jump if it falls in the skipped hour. A slot whose real end would pass it
 *    is not created.
 * 6. A slot that would start before the previous one ends is not created. (It can only happen when
 *    the slot length is not a divisor of the jump, say 45-minute slots across a one-hour jump.)
 *
 * So a 09:00-17:00 schedule is 09:00-17:00 local on the days clocks change, with no slot in the
 * skipped hour and none doubled in the repeated one. Days are stepped as calendar days in the zone
 * (`PlainDate.add({ days: 1 })`), never as 24 or 168 hours, which drift by the jump.
 */

export const MINUTES_PER_DAY = 1440;

/** One working window of a day, in minutes after local midnight; `endMinute` may be 1440. */
export interface DayWindow {
  startMinute: number;
  endMinute: number;
}

/** A weekly rule: a window on one ISO day of the week (1 = Monday), between two dates (inclusive). */
export interface WeeklyRule extends DayWindow {
  dayOfWeek: number;
  effectiveFrom: string;
  effectiveTo: string | null;
}

/** A date whose hours replace the weekly rules: closed, or one window. */
export interface DateOverride {
  date: string;
  closed: boolean;
  startMinute: number | null;
  endMinute: number | null;
}

export interface GeneratedSlot {
  /** Epoch milliseconds. */
  start: number;
  end: number;
}

export interface GenerateArgs {
  timeZone: string;
  slotMinutes: number;
  /** The first and last local dates, `YYYY-MM-DD`, inclusive. */
  from: string;
  to: string;
  weekly: readonly WeeklyRule[];
  overrides: readonly DateOverride[];
}

const LOCAL_TIME = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;

/** Minutes after midnight of an `HH:MM` time (`24:00` is 1440); null when malformed. */
export function parseLocalTime(text: string): number | null {
  if (!LOCAL_TIME.test(text)) return null;
  return Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));
}

export function formatLocalTime(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** The windows of one local date: the date's override if any, else the weekly rules in force. */
export function windowsOn(date: Temporal.PlainDate, weekly: readonly WeeklyRule[], overrides: ReadonlyMap<string, DateOverride>): DayWindow[] {
  const iso = date.toString();
  const override = overrides.get(iso);
  if (override) {
    return override.closed || override.startMinute === null || override.endMinute === null
      ? []
      : [{ startMinute: override.startMinute, endMinute: override.endMinute }];
  }
  const dayOfWeek = date.dayOfWeek;
  return weekly
    .filter((r) => r.dayOfWeek === dayOfWeek && r.effectiveFrom <= iso && (r.effectiveTo === null || iso <= r.effectiveTo))
    .map((r) => ({ startMinute: r.startMinute, endMinute: r.endMinute }))
    .sort((a, b) => a.startMinute - b.startMinute);
}

/** Instants of one local date's wall-clock minutes, under the policy above. */
interface DayClock {
  /** The instant a slot starting at this wall time starts, or null when the time does not exist. */
  startOf(minute: number): number | null;
  /** The instant a window ending at this wall time ends. */
  endOf(minute: number): number;
}

/**
 * Most days have one offset from midnight to midnight: their wall times are plain arithmetic, and
 * only the days with a transition pay for a time-zone conversion per minute asked for (the
 * polyfill converts about 85,000 times a second here; arithmetic is free).
 */
export function dayClock(date: Temporal.PlainDate, timeZone: string): DayClock {
  const dayStart = date.toZonedDateTime({ timeZone });
  const nextDayStart = date.add({ days: 1 }).toZonedDateTime({ timeZone });
  const transition = dayStart.getTimeZoneTransition('next');
  const steady =
    dayStart.hour === 0 && dayStart.minute === 0 && (transition === null || transition.epochMilliseconds >= nextDayStart.epochMilliseconds);
  if (steady) {
    const localMidnightAsUtc = Date.UTC(date.year, date.month - 1, date.day);
    const offsetMs = dayStart.offsetNanoseconds / 1e6;
    const at = (minute: number) => localMidnightAsUtc + minute * 60_000 - offsetMs;
    return { startOf: at, endOf: at };
  }
  const resolve = (minute: number) => {
    const local =
      minute >= MINUTES_PER_DAY
        ? date.add({ days: 1 }).toPlainDateTime()
        : date.toPlainDateTime({ hour: Math.floor(minute / 60), minute: minute % 60 });
    // 'earlier' picks the first of a repeated time; for a skipped time it gives an instant whose
    // wall time differs from the one asked for, which is how a skipped time is recognised.
    const zoned = local.toZonedDateTime(timeZone, { disambiguation: 'earlier' });
    return { zoned, exists: Temporal.PlainDateTime.compare(zoned.toPlainDateTime(), local) === 0 };
  };
  return {
    startOf(minute) {
      const { zoned, exists } = resolve(minute);
      return exists ? zoned.epochMilliseconds : null;
    },
    endOf(minute) {
      const { zoned, exists } = resolve(minute);
      return exists ? zoned.epochMilliseconds : zoned.getTimeZoneTransition('next')!.epochMilliseconds;
    },
  };
}

/** The slots of a schedule between two local dates, by start time, never overlapping. */
export function generateSlots(args: GenerateArgs): GeneratedSlot[] {
  const stepMs = args.slotMinutes * 60_000;
  const overrides = new Map(args.overrides.map((o) => [o.date, o]));
  const last = Temporal.PlainDate.from(args.to);
  const slots: GeneratedSlot[] = [];
  let previousEnd = -Infinity;
  for (let date = Temporal.PlainDate.from(args.from); Temporal.PlainDate.compare(date, last) <= 0; date = date.add({ days: 1 })) {
    const windows = windowsOn(date, args.weekly, overrides);
    if (!windows.length) continue;
    const clock = dayClock(date, args.timeZone);
    for (const window of windows) {
      const windowEnd = clock.endOf(window.endMinute);
      for (let minute = window.startMinute; minute < window.endMinute; minute += args.slotMinutes) {
        const start = clock.startOf(minute);
        if (start === null || start < previousEnd) continue;
        const end = start + stepMs;
        if (end > windowEnd) continue;
        slots.push({ start, end });
        previousEnd = end;
      }
    }
  }
  return slots;
}

/** The instants a local date spans: [its first instant, the next date's first instant). */
export function localDateRange(date: string, timeZone: string): { start: number; end: number } {
  const day = Temporal.PlainDate.from(date);
  return {
    start: day.toZonedDateTime({ timeZone }).epochMilliseconds,
    end: day.add({ days: 1 }).toZonedDateTime({ timeZone }).epochMilliseconds,
  };
}

/** Today's local date in a zone. */
export function localToday(now: Date, timeZone: string): Temporal.PlainDate {
  return Temporal.Instant.fromEpochMilliseconds(now.getTime()).toZonedDateTimeISO(timeZone).toPlainDate();
}

/** A date `days` calendar days after `date` (`YYYY-MM-DD`). */
export function addDays(date: string, days: number): string {
  return Temporal.PlainDate.from(date).add({ days }).toString();
}

/** Calendar days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Temporal.PlainDate.from(from).until(Temporal.PlainDate.from(to), { largestUnit: 'days' }).days;
}
