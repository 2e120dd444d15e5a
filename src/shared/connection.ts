import { badUserInput } from './errors.js';

/**
 * Relay connections with keyset pagination. A cursor is the sort key of the last row seen
 * (base64url JSON), so a page is an index range scan whatever its depth: no OFFSET.
 */
export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Page<T> {
  nodes: T[];
  hasNextPage: boolean;
  /**
   * Forward-only keyset pagination never reads the rows before `after`: a page that starts after a
   * cursor says that rows precede it, as Relay allows, rather than spend a statement proving it.
   */
  hasPreviousPage: boolean;
  /** The cursor of a node of this page. */
  cursorOf: (node: T) => string;
}

/** A page whose total is cheap enough to offer; it is computed only when a client asks. */
export interface CountedPage<T> extends Page<T> {
  totalCount: () => Promise<number>;
}

export const MAX_PAGE_SIZE = 100;

export function checkPageSize(first: number | null | undefined, fallback: number, max: number = MAX_PAGE_SIZE): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > max) {
    throw badUserInput(`Expected \`first\` between 1 and ${max}, got ${size}.`, 'first');
  }
  return size;
}

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The kinds of value a cursor's sort key holds, each checked before it reaches SQL. */
export type CursorPart = 'string' | 'id' | 'time';

const ID = /^[1-9][0-9]{0,18}$/;
const MAX_BIGINT = 9223372036854775807n;
const UTC_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

function isPart(value: unknown, part: CursorPart): boolean {
  if (typeof value !== 'string') return false;
  if (part === 'id') return ID.test(value) && BigInt(value) <= MAX_BIGINT;
  if (part === 'time') return UTC_TIME.test(value) && !Number.isNaN(Date.parse(value));
  return true;
}

/** The sort key inside a cursor, checked against the shape the connection expects. */
export function decodeCursor(cursor: string | null | undefined, shape: readonly CursorPart[]): string[] | null {
  if (cursor == null) return null;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  if (!Array.isArray(key) || key.length !== shape.length || key.some((v, i) => !isPart(v, shape[i]))) {
    throw badUserInput("Expected `after` to be a cursor from this connection's `pageInfo.endCursor`.", 'after');
  }
  return key as string[];
}

/**
 * Builds a page from rows fetched with LIMIT size + 1: the extra row only says that more follow.
 * `after` is the decoded cursor the page was asked to continue from, or null for a first page.
 */
export function toPage<T>(rows: T[], size: number, sortKey: (node: T) => (string | number)[], after: unknown): Page<T> {
  const hasNextPage = rows.length > size;
  return {
    nodes: hasNextPage ? rows.slice(0, size) : rows,
    hasNextPage,
    hasPreviousPage: after != null,
    cursorOf: (node) => encodeCursor(sortKey(node)),
  };
}
