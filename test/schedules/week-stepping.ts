import type { Temporal } from 'temporal-polyfill';

/**
 * The local date-time `weeks` weeks after `start`, two ways: adding calendar weeks in the zone (what
 * the generator does, day by day) or adding 168 hours per week (the classic mistake, which drifts by
 * the jump whenever a daylight-saving change lies in between).
 */
export function localDateOfWeek(start: Temporal.ZonedDateTime, weeks: number, way: 'calendar' | 'hours'): Temporal.PlainDateTime {
  const later = way === 'calendar' ? start.add({ weeks }) : start.add({ hours: 168 * weeks });
  return later.toPlainDateTime();
}
