import { GraphQLScalarType, Kind } from 'graphql';
import { badUserInput } from '../shared/errors.js';

// RFC 3339: a date, a time, optional fractions, and a mandatory offset.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Years a Date or DateTime may have: wide enough for any booking, narrow enough that PostgreSQL's
 * date and time zone arithmetic (a date plus a day, at a zone's offset) never overflows. */
export const MIN_YEAR = 1900;
export const MAX_YEAR = 2200;

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Why year-month-day is not a real calendar date in range, or null when it is. */
function calendarProblem(year: number, month: number, day: number): string | null {
  if (year < MIN_YEAR || year > MAX_YEAR) return `a year from ${MIN_YEAR} to ${MAX_YEAR}`;
  if (month < 1 || month > 12) return 'a month from 01 to 12';
  const days = daysInMonth(year, month);
  if (day < 1 || day > days) return `a day from 01 to ${days} in ${year}-${String(month).padStart(2, '0')}`;
  return null;
}

function parseDateTime(value: unknown): string {
  const match = typeof value === 'string' ? RFC3339.exec(value) : null;
  if (!match) {
    throw badUserInput(`Expected a DateTime in RFC 3339 with an offset, like "2026-11-22T09:30:00Z", got ${JSON.stringify(value)}.`);
  }
  const [, year, month, day, hour, minute, second, , offset] = match;
  // Date would roll an impossible date over (2026-02-30 becomes March 2) instead of refusing it.
  const problem =
    calendarProblem(Number(year), Number(month), Number(day)) ??
    (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59 ? 'a time from 00:00:00 to 23:59:59' : null) ??
    (offset.length > 1 && (Number(offset.slice(1, 3)) > 23 || Number(offset.slice(4)) > 59) ? 'an offset from -23:59 to +23:59' : null);
  if (problem) throw badUserInput(`Expected a real calendar instant with ${problem}, got ${JSON.stringify(value)}.`);
  const date = new Date(value as string);
  if (Number.isNaN(date.getTime())) throw badUserInput(`Expected a real calendar instant, got ${JSON.stringify(value)}.`);
  return date.toISOString();
}

function parseDate(value: unknown): string {
  const match = typeof value === 'string' ? ISO_DATE.exec(value) : null;
  if (!match) throw badUserInput(`Expected a Date like "2026-11-22", got ${JSON.stringify(value)}.`);
  const problem = calendarProblem(Number(match[1]), Number(match[2]), Number(match[3]));
  if (problem) throw badUserInput(`Expected a real calendar Date with ${problem}, got ${JSON.stringify(value)}.`);
  return value as string;
}

export const DateTime = new GraphQLScalarType<string, string>({
  name: 'DateTime',
  description: 'An instant in RFC 3339 with an offset; outputs are in UTC.',
  // Values from the database already are RFC 3339 UTC strings (see db/connect.ts).
  serialize: (value) => (typeof value === 'string' ? value : (value as Date).toISOString()),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
});

export const DateScalar = new GraphQLScalarType<string, string>({
  name: 'Date',
  description: 'A calendar date, YYYY-MM-DD.',
  serialize: (value) => value as string,
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

// 24-hour `HH:MM`. `24:00` is accepted because a window may end at midnight (18:00-24:00); the
// actions refuse it as a start time, where it would mean the next day.
const LOCAL_TIME = /^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/;

function parseLocalTime(value: unknown): string {
  if (typeof value !== 'string' || !LOCAL_TIME.test(value)) {
    throw badUserInput(`Expected a LocalTime "HH:MM" from 00:00 to 23:59 (or 24:00 as an end time), got ${JSON.stringify(value)}.`);
  }
  return value;
}

export const LocalTime = new GraphQLScalarType<string, string>({
  name: 'LocalTime',
  description: 'A wall-clock time of day, HH:MM (24-hour); 24:00 only as an end time.',
  // Values from the database are already HH:MM (to_char in the repositories).
  serialize: (value) => value as string,
  parseValue: parseLocalTime,
  parseLiteral: (ast) => parseLocalTime(ast.kind === Kind.STRING ? ast.value : undefined),
});
