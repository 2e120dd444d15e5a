import { forbidden, unauthenticated } from '../shared/errors.js';
import { actorOf, type Viewer } from './viewer.js';

/**
 * Who may see what. Catalog data (businesses, services, partners, slots) is public. Bookings,
 * customers and payments are visible to: admins; staff of their business; a partner for their
 * own bookings (and the customers of their business, to know whom they serve); a customer for
 * their own. Anything else reads exactly like a missing row.
 */

/** The restriction every list of bookings gets for this viewer, or null when they may see none. */
export interface BookingScope {
  businessId: string | null;
  partnerId: string | null;
  customerId: string | null;
}

export function bookingScopeOf(viewer: Viewer): BookingScope | null {
  switch (viewer.role) {
    case 'ADMIN':
      return { businessId: null, partnerId: null, customerId: null };
    case 'STAFF':
      return { businessId: viewer.businessId, partnerId: null, customerId: null };
    case 'PARTNER':
      return { businessId: viewer.businessId, partnerId: viewer.partnerId, customerId: null };
    case 'CUSTOMER':
      return { businessId: viewer.businessId, partnerId: null, customerId: viewer.customerId };
    default:
      return null;
  }
}

/**
 * What decides what a viewer can read: role and own records, not who they are (the subject only
 * names the actor in audit rows). Viewers with the same key read exactly the same data, so
 * subscribers may share one event's loaders and execution.
 */
export function accessKeyOf(viewer: Viewer): string {
  return `${viewer.role}:${viewer.businessId}:${viewer.partnerId}:${viewer.customerId}`;
}

export function canSeeBooking(viewer: Viewer, booking: { businessId: string; partnerId: string; customerId: string }): boolean {
  const scope = bookingScopeOf(viewer);
  return (
    scope !== null &&
    (scope.businessId === null || scope.businessId === booking.businessId) &&
    (scope.partnerId === null || scope.partnerId === booking.partnerId) &&
    (scope.customerId === null || scope.customerId === booking.customerId)
  );
}

export function canSeeCustomer(viewer: Viewer, customer: { id: string; businessId: string }): boolean {
  switch (viewer.role) {
    case 'ADMIN':
      return true;
    case 'STAFF':
    case 'PARTNER':
      return viewer.businessId === customer.businessId;
    case 'CUSTOMER':
      return viewer.customerId === customer.id;
    default:
      return false;
  }
}

/** Staff of the business, or an admin: may manage the business's partners and any booking. */
export function isStaffOf(viewer: Viewer, businessId: string): boolean {
  return viewer.role === 'ADMIN' || (viewer.role === 'STAFF' && viewer.businessId === businessId);
}

/**
 * An owner of the business, or an admin: may change its profile and settings and archive it.
 * Tokens with today's claims carry no owner role, so a staff token counts as an owner of its
 * business until memberships decide (accounts and memberships, issue 11).
 */
export function isOwnerOf(viewer: Viewer, businessId: string): boolean {
  return isStaffOf(viewer, businessId);
}

/**
 * Who may manage a business's operational data (slots, partners, schedules): the actor for the
 * audit trail and the scope of rows they may change, a null column meaning "any". Admins manage
 * everything, staff their business; a partner only their own rows, and only where `partnersMay`.
 * A token missing the id its role needs gets no scope rather than an unrestricted one.
 */
export interface ManagementScope {
  actor: string;
  businessId: string | null;
  partnerId: string | null;
}

export function managementScopeOf(viewer: Viewer, options: { partnersMay: boolean }): ManagementScope | null {
  const actor = actorOf(viewer);
  switch (viewer.role) {
    case 'ADMIN':
      return { actor, businessId: null, partnerId: null };
    case 'STAFF':
      return viewer.businessId ? { actor, businessId: viewer.businessId, partnerId: null } : null;
    case 'PARTNER':
      return options.partnersMay && viewer.businessId && viewer.partnerId ? { actor, businessId: viewer.businessId, partnerId: viewer.partnerId } : null;
    default:
      return null;
  }
}

/** Refuses an anonymous caller with UNAUTHENTICATED: mutations all need a token. */
export function requireSignedIn(viewer: Viewer): void {
  if (viewer.role === 'ANONYMOUS') throw unauthenticated();
}

/**
 * A caller's management scope, or the top-level refusal when there is none: UNAUTHENTICATED
 * without a token, else FORBIDDEN naming who may (`expected`, e.g. "an admin or staff token to ...").
 */
export function scopeOrRefuse<T>(scope: T | null, viewer: Viewer, expected: string): T {
  if (scope) return scope;
  requireSignedIn(viewer);
  throw forbidden(`Expected ${expected}, got a ${viewer.role.toLowerCase()} token.`);
}
