import type { Role } from '../__generated__/resolvers-types.js';

/** Who is asking, from the bearer token. Raw ids (not global IDs) of the caller's own records. */
export interface Viewer {
  role: Role;
  subject: string | null;
  businessId: string | null;
  partnerId: string | null;
  customerId: string | null;
}

export const ANONYMOUS: Viewer = Object.freeze({ role: 'ANONYMOUS', subject: null, businessId: null, partnerId: null, customerId: null });

/** The actor recorded in audit logs. */
export function actorOf(viewer: Viewer): string {
  return viewer.subject ? `${viewer.role.toLowerCase()}:${viewer.subject}` : 'anonymous';
}

/** The GraphQL `Viewer` type is this object itself. */
export type ViewerModel = Viewer;
