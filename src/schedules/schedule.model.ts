import type { DayOfWeek } from '../__generated__/resolvers-types.js';

/** A partner's weekly hours row, as the layers above the repository see it (times `HH:MM`, dates `YYYY-MM-DD`). */
export interface WeeklyHoursModel {
  partnerId: string;
  dayOfWeek: DayOfWeek;
  startTime: string;
  endTime: string;
  effectiveFrom: string;
  effectiveTo: string | null;
}

/** A partner's hours on one date, replacing the weekly hours; times are null when closed. */
export interface ScheduleExceptionModel {
  partnerId: string;
  date: string;
  closed: boolean;
  startTime: string | null;
  endTime: string | null;
}

/** ISO 8601 day numbers: Monday is 1. */
export const DAYS_OF_WEEK: readonly DayOfWeek[] = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

export function isoDayOf(day: DayOfWeek): number {
  return DAYS_OF_WEEK.indexOf(day) + 1;
}
