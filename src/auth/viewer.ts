import type { Role } from '../__generated__/resolvers-types.js';

/** What a membership lets its account do in one business. */
export type MembershipRole = 'OWNER' | 'STAFF' | 'PARTNER';

/** A live membership of the viewer's account (raw ids). */
export interface MembershipGrant {
  /** The membership's id; null for a service token's grant, which has no row. */
  id: string | null;
  businessId: string;
  role: MembershipRole;
  /** The partner record a partner membership acts as; null for owners and staff. */
  partnerId: string | null;
}

/** A customer record of the viewer's account in one business (raw ids). */
export interface CustomerGrant {
  businessId: string;
  customerId: string;
  /** A guest's read of the booking they hold a manage token for: that booking only (guest-bookings.mutations.ts). */
  bookingId?: string;
}

/**
 * Who is asking. An account token (no `role` claim) names an account by `iss` + `sub`; what it may
 * do comes from its memberships and customer records, read per request before anything else runs
 * (accounts/account-access.ts). A service token (a `role` claim, AUTH_ACCEPT_CLAIM_TOKENS) carries
 * its one grant in its claims. Every access rule (access.ts) reads `admin`, `memberships` and
 * `customers` only.
 *
 * `role`, `businessId`, `partnerId`, `customerId` summarise the grants for what still speaks of a
 * single role (audit actors, rate-limit keys, the deprecated `Viewer.role` field): `ADMIN` for an
 * admin, the one role of a service token, `ACCOUNT` for any account token; the ids of the only
 * grant, when there is exactly one.
 */
export interface Viewer {
  role: Role;
  subject: string | null;
  /** The token's `iss` ('' for tokens of the development secret), null without a token. */
  issuer: string | null;
  /** The account of an account token; null for service tokens and without a token. */
  accountId: string | null;
  email: string | null;
  name: string | null;
  admin: boolean;
  memberships: readonly MembershipGrant[];
  customers: readonly CustomerGrant[];
  businessId: string | null;
  partnerId: string | null;
  customerId: string | null;
}

export const ANONYMOUS: Viewer = Object.freeze({
  role: 'ANONYMOUS',
  subject: null,
  issuer: null,
  accountId: null,
  email: null,
  name: null,
  admin: false,
  memberships: Object.freeze([]),
  customers: Object.freeze([]),
  businessId: null,
  partnerId: null,
  customerId: null,
}) as Viewer;

/** The actor recorded in audit logs: `account:<id>` for an account, `<role>:<sub>` for a service token. */
export function actorOf(viewer: Viewer): string {
  if (viewer.accountId) return `account:${viewer.accountId}`;
  return viewer.subject ? `${viewer.role.toLowerCase()}:${viewer.subject}` : 'anonymous';
}

/** An account viewer with its grants; the summary fields follow from them. */
export function withGrants(viewer: Viewer, grants: { memberships: readonly MembershipGrant[]; customers: readonly CustomerGrant[] }): Viewer {
  const only = grants.memberships.length + grants.customers.length === 1;
  const membership = only ? grants.memberships[0] : undefined;
  const customer = only ? grants.customers[0] : undefined;
  return {
    ...viewer,
    memberships: grants.memberships,
    customers: grants.customers,
    businessId: membership?.businessId ?? customer?.businessId ?? null,
    partnerId: membership?.partnerId ?? null,
    customerId: customer?.customerId ?? null,
  };
}

/** The GraphQL `Viewer` type is this object itself. */
export type ViewerModel = Viewer;
