import { GraphQLScalarType, Kind } from 'graphql';
import { badUserInput } from '../shared/errors.js';

// RFC 3339: a date, a time, optional fractions, and a mandatory offset.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDateTime(value: unknown): string {
  if (typeof value !== 'string' || !RFC3339.test(value)) {
    throw badUserInput(`Expected a DateTime in RFC 3339 with an offset, like "2026-11-22T09:30:00Z", got ${JSON.stringify(value)}.`);
  }
  const date = new Date(value);
  // Rejects impossible dates that Date would roll over (2026-02-30 becomes March 2).
  const [, , month, day] = RFC3339.exec(value)!;
  if (Number.isNaN(date.getTime()) || Number(month) > 12 || Number(day) > 31) {
    throw badUserInput(`Expected a real calendar instant, got ${JSON.stringify(value)}.`);
  }
  return date.toISOString();
}

function parseDate(value: unknown): string {
  const match = typeof value === 'string' ? ISO_DATE.exec(value) : null;
  const date = match ? new Date(`${value as string}T00:00:00Z`) : null;
  if (!match || !date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) {
    throw badUserInput(`Expected a Date like "2026-11-22", got ${JSON.stringify(value)}.`);
  }
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
