import type { BookingStatus } from '../__generated__/resolvers-types.js';

/**
 * The one place that says which status changes a booking may make. Every action asks it, so an
 * invalid transition is refused the same way everywhere (INVALID_TRANSITION, nothing changed).
 */
const TRANSITIONS: Record<BookingStatus, readonly BookingStatus[]> = {
  PENDING: ['CONFIRMED', 'CANCELLED'],
  CONFIRMED: ['CANCELLED', 'COMPLETED', 'NO_SHOW'],
  CANCELLED: [],
  COMPLETED: [],
  NO_SHOW: [],
};

/** Statuses in which a booking holds its slots and counts toward its partner's load. */
export const ACTIVE_STATUSES: readonly BookingStatus[] = ['PENDING', 'CONFIRMED'];

export function canTransition(from: BookingStatus, to: BookingStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isActive(status: BookingStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

export function transitionError(from: BookingStatus, to: BookingStatus): string {
  const allowed = TRANSITIONS[from];
  return allowed.length
    ? `A ${from.toLowerCase()} booking can become ${allowed.map((s) => s.toLowerCase()).join(' or ')}, not ${to.toLowerCase()}.`
    : `A ${from.toLowerCase().replace('_', '-')} booking is final and cannot become ${to.toLowerCase()}.`;
}
