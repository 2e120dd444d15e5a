import { forbidden, unauthenticated } from '../shared/errors.js';
import { actorOf, type MembershipGrant, type Viewer } from './viewer.js';

/**
 * Who may see what. Catalog data (businesses, services, partners, slots) is public. Bookings,
 * customers and payments are visible to: admins; owners and staff of their business; a partner
 * for their own bookings (and the customers of their business, to know whom they serve); a
 * customer for their own. Anything else reads exactly like a missing row.
 *
 * A viewer holds any number of grants (memberships and customer records, see viewer.ts): every
 * rule is an OR over them, so an owner of one business who is a customer of another sees all of
 * the first and their own bookings in the second, and nothing else.
 */

/** One grant's restriction on bookings: a null column means "any". */
export interface BookingGrantScope {
  businessId: string;
  partnerId: string | null;
  customerId: string | null;
}

/**
 * The restriction every list of bookings gets for this viewer: all of them (`all`), or those any
 * grant reaches (none for an account without grants); null without a token.
 */
export interface BookingScope {
  all: boolean;
  grants: readonly BookingGrantScope[];
}

export function bookingScopeOf(viewer: Viewer): BookingScope | null {
  if (viewer.role === 'ANONYMOUS') return null;
  if (viewer.admin) return { all: true, grants: [] };
  return {
    all: false,
    grants: [
      ...viewer.memberships.map((m) => ({ businessId: m.businessId, partnerId: m.role === 'PARTNER' ? m.partnerId : null, customerId: null })),
      // A guest's one-booking grant lists nothing (it reads its booking by id).
      ...viewer.customers.filter((c) => c.bookingId === undefined).map((c) => ({ businessId: c.businessId, partnerId: null, customerId: c.customerId })),
    ],
  };
}

/**
 * What decides what a viewer can read: admin or not and the grants, not who they are (the subject
 * only names the actor in audit rows). Viewers with the same key read exactly the same data, so
 * subscribers may share one event's loaders and execution.
 */
export function accessKeyOf(viewer: Viewer): string {
  if (viewer.role === 'ANONYMOUS') return 'anonymous';
  if (viewer.admin) return 'admin';
  const grants = [
    ...viewer.memberships.map((m) => `${m.role}:${m.businessId}:${m.partnerId ?? ''}`),
    ...viewer.customers.map((c) => `CUSTOMER:${c.businessId}:${c.customerId}${c.bookingId ? `:${c.bookingId}` : ''}`),
  ];
  return grants.sort().join(',') || 'none';
}

export function canSeeBooking(viewer: Viewer, booking: { id?: string; businessId: string; partnerId: string; customerId: string }): boolean {
  if (viewer.admin) return true;
  return (
    viewer.memberships.some((m) => m.businessId === booking.businessId && (m.role !== 'PARTNER' || m.partnerId === booking.partnerId)) ||
    viewer.customers.some((c) => c.businessId === booking.businessId && c.customerId === booking.customerId && (c.bookingId === undefined || c.bookingId === booking.id))
  );
}

export function canSeeCustomer(viewer: Viewer, customer: { id: string; businessId: string }): boolean {
  if (viewer.admin) return true;
  return viewer.memberships.some((m) => m.businessId === customer.businessId) || viewer.customers.some((c) => c.customerId === customer.id);
}

/** The viewer's membership in the business, if any. */
export function membershipIn(viewer: Viewer, businessId: string): MembershipGrant | undefined {
  return viewer.memberships.find((m) => m.businessId === businessId);
}

/** The viewer's customer record in the business, if any. */
export function customerIdIn(viewer: Viewer, businessId: string): string | null {
  return viewer.customers.find((c) => c.businessId === businessId)?.customerId ?? null;
}

/** An owner or staff member of the business, or an admin: may manage the business's partners and any booking. */
export function isStaffOf(viewer: Viewer, businessId: string): boolean {
  if (viewer.admin) return true;
  const role = membershipIn(viewer, businessId)?.role;
  return role === 'OWNER' || role === 'STAFF';
}

/**
 * An owner of the business, or an admin: may change its profile and settings, archive it and
 * manage its owners. Staff may not (a service token's `staff` role is staff, never an owner).
 */
export function isOwnerOf(viewer: Viewer, businessId: string): boolean {
  return viewer.admin || membershipIn(viewer, businessId)?.role === 'OWNER';
}

/**
 * Who may manage a business's operational data (slots, partners, schedules): the actor for the
 * audit trail and the scope of rows they may change, a null column meaning "any". Admins manage
 * everything, owners and staff their business; a partner only their own rows, and only where
 * `partnersMay`.
 *
 * The scope covers one business: a viewer who manages several (an owner of two businesses) gets
 * the one named by `businessId` when the caller knows it, and none otherwise (refused, rather than
 * an unrestricted scope). A viewer who manages exactly one gets it without naming it.
 */
export interface ManagementScope {
  actor: string;
  businessId: string | null;
  partnerId: string | null;
}

export function managementScopeOf(viewer: Viewer, options: { partnersMay: boolean }, businessId?: string): ManagementScope | null {
  const actor = actorOf(viewer);
  if (viewer.admin) return { actor, businessId: null, partnerId: null };
  const managing = viewer.memberships.filter((m) => (m.role !== 'PARTNER' || options.partnersMay) && (businessId === undefined || m.businessId === businessId));
  if (managing.length !== 1) return null;
  const [membership] = managing;
  return { actor, businessId: membership.businessId, partnerId: membership.role === 'PARTNER' ? membership.partnerId : null };
}

/** Refuses an anonymous caller with UNAUTHENTICATED: mutations all need a token. */
export function requireSignedIn(viewer: Viewer): void {
  if (viewer.role === 'ANONYMOUS') throw unauthenticated();
}

/** How a refusal names the caller: "a customer token", "an account token". */
export function tokenKindOf(viewer: Viewer): string {
  const role = viewer.role.toLowerCase();
  return `${/^[aeiou]/.test(role) ? 'an' : 'a'} ${role} token`;
}

/**
 * A caller's management scope, or the top-level refusal when there is none: UNAUTHENTICATED
 * without a token, else FORBIDDEN naming who may (`expected`, e.g. "an admin or staff token to ...").
 */
export function scopeOrRefuse<T>(scope: T | null, viewer: Viewer, expected: string): T {
  if (scope) return scope;
  requireSignedIn(viewer);
  throw forbidden(`Expected ${expected}, got ${tokenKindOf(viewer)}.`);
}
