import { isOwnerOf, isStaffOf, requireSignedIn } from '../auth/access.js';
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
 * A mutation's `who` for input naming a business: callers that `may` act on it (staff, owners; an
 * admin either way). A malformed ID is let through, for the step's NOT_FOUND.
 */
function callerOfInput(may: (viewer: Viewer, businessId: string) => boolean) {
  return <I extends { businessId: string }>(viewer: Viewer, input: I): Viewer | null => {
    requireSignedIn(viewer);
    const id = rawIdOf(input.businessId, 'Business');
    return id === null || may(viewer, id) ? viewer : null;
  };
}

/** Staff (or owners) of the business the input names, or an admin. */
export const staffOfInput = callerOfInput(isStaffOf);

/** Owners of the business the input names, or an admin. */
export const ownerOfInput = callerOfInput(isOwnerOf);
