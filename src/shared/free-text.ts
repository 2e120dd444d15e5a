import { badUserInput } from './errors.js';
import { abort } from './user-errors.js';

/** Longest city a query argument may name; real ones are far shorter (the longest are under 90). */
export const MAX_CITY_LENGTH = 200;
/** Longest slug a query argument may name (slugs are lowercase words joined by hyphens). */
export const MAX_SLUG_LENGTH = 200;

/**
 * A free-text argument as the lookups see it: trimmed and in Unicode NFC, so that two spellings of
 * the same text (composed or decomposed accents, stray spaces) find the same rows and share one
 * cache entry; and bounded, so that no argument becomes a megabyte of SQL parameter or cache key.
 * Not case-folded: the columns are compared exactly, and folding would change what is found.
 */
export function freeTextArgument(value: string, argument: string, maxLength: number): string {
  const normalized = normalizeFreeText(value, maxLength);
  if (normalized.length > maxLength) throw badUserInput(tooLong(argument, maxLength, normalized.length), argument);
  return normalized;
}

/** The same for a mutation's input field: a user error (INVALID_INPUT) on `field`, as mutations report bad input. */
export function freeTextInput(value: string, field: string[], maxLength: number): string {
  const normalized = normalizeFreeText(value, maxLength);
  if (normalized.length > maxLength) abort('INVALID_INPUT', tooLong(field[field.length - 1], maxLength, normalized.length), field);
  return normalized;
}

function normalizeFreeText(value: string, maxLength: number): string {
  // NFC may shorten a string (never by more than a factor of 3), so only the hopeless skip it.
  return value.length > maxLength * 4 ? value : value.trim().normalize('NFC');
}

function tooLong(name: string, maxLength: number, length: number): string {
  return `Expected \`${name}\` to be at most ${maxLength} characters long, got ${length}.`;
}

export function optionalFreeTextArgument(value: string | null | undefined, argument: string, maxLength: number): string | null {
  return value === null || value === undefined ? null : freeTextArgument(value, argument, maxLength);
}
