import { rawIdOf, type NodeType } from './global-id.js';
import { abort } from './user-errors.js';

/**
 * Checks of a mutation's input fields that every domain needs in the same words: each aborts with
 * an INVALID_INPUT user error on the field, saying what was expected and what arrived.
 */

/** The longest display name (of a business, service, partner or customer) an input may give. */
export const MAX_NAME_LENGTH = 200;
/** The longest city an input may store (a query argument may name longer ones: they find nothing). */
export const MAX_STORED_CITY_LENGTH = 100;
export const MAX_DESCRIPTION_LENGTH = 2000;

/** Text that must not be empty: trimmed, in Unicode NFC, 1 to `maxLength` characters. */
export function requiredText(value: string, field: string[], maxLength: number): string {
  const text = value.length > maxLength * 4 ? value : value.trim().normalize('NFC');
  if (text.length === 0 || text.length > maxLength) {
    abort('INVALID_INPUT', `Expected \`${nameOf(field)}\` to be 1 to ${maxLength} characters long, got ${text.length}.`, field);
  }
  return text;
}

/** Optional text: null when left out or empty (so the empty string clears a stored value). */
export function optionalText(value: string | null | undefined, field: string[], maxLength: number): string | null {
  if (value === null || value === undefined) return null;
  const text = value.length > maxLength * 4 ? value : value.trim().normalize('NFC');
  if (text.length > maxLength) abort('INVALID_INPUT', `Expected \`${nameOf(field)}\` to be at most ${maxLength} characters long, got ${text.length}.`, field);
  return text === '' ? null : text;
}

/** An integer within [min, max]. */
export function intInRange(value: number, field: string[], min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) abort('INVALID_INPUT', `Expected \`${nameOf(field)}\` from ${min} to ${max}, got ${value}.`, field);
  return value;
}

/** A list of at most `max` items, each once. */
export function distinctList<T>(values: readonly T[], field: string[], max: number): T[] {
  if (values.length > max) abort('INVALID_INPUT', `Expected at most ${max} items in \`${nameOf(field)}\`, got ${values.length}.`, field);
  return [...new Set(values)];
}

/** The most IDs one list of an input may name. */
export const MAX_IDS_PER_LIST = 500;

/** The raw ids of a list of global IDs of one type, each once; any other ID reads NOT_FOUND on the list. */
export function rawIdsOf(gids: readonly string[], type: NodeType, field: string[]): string[] {
  return distinctList(gids, field, MAX_IDS_PER_LIST).map((gid) => {
    const id = rawIdOf(gid, type);
    if (!id) abort('NOT_FOUND', `Expected the IDs of live ${type.toLowerCase()}s of the business, got "${gid}".`, field);
    return id;
  });
}

function nameOf(field: string[]): string {
  return field[field.length - 1];
}
