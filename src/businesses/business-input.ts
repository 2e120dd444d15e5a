import { isStaffOf, requireSignedIn } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { rawIdOf } from '../shared/global-id.js';
import { abort } from '../shared/user-errors.js';

/** The answer for a business an input names that is missing, archived, or not the caller's to manage: all read alike. */
export function businessNotFoundMessage(gid: string): string {
  return `Expected the ID of a live business you may manage, got "${gid}".`;
}

/** The raw id of the business an input names; a malformed ID reads NOT_FOUND, before any statement. */
export function businessIdOf(input: { businessId: string }): string {
  const id = rawIdOf(input.businessId, 'Business');
  if (!id) abort('NOT_FOUND', businessNotFoundMessage(input.businessId), ['input', 'businessId']);
  return id;
}

/**
 * A mutation's `who` for input naming a business: staff of it (or an admin). A malformed ID is let
 * through, for the step's NOT_FOUND.
 */
export function staffOfInput<I extends { businessId: string }>(viewer: Viewer, input: I): Viewer | null {
  requireSignedIn(viewer);
  const id = rawIdOf(input.businessId, 'Business');
  return id === null || isStaffOf(viewer, id) ? viewer : null;
}
