import type { BookingFilter } from '../__generated__/resolvers-types.js';
import { decodeCursor } from '../shared/connection.js';
import { badUserInput } from '../shared/errors.js';
import type { BookingListArgs } from './bookings.repository.js';

/** A booking list's filter and cursor, checked. */
export function bookingListArgs(filter: BookingFilter | null | undefined, after: string | null | undefined): Omit<BookingListArgs, 'limit'> {
  const from = filter?.from ?? null;
  const to = filter?.to ?? null;
  if (from !== null && to !== null && from >= to) {
    throw badUserInput(`Expected filter.from to be before filter.to, got ${from} and ${to}.`, 'filter');
  }
  const statuses = filter?.status?.length ? [...new Set(filter.status)].sort() : null;
  return { statuses, from, to, after: decodeCursor(after, ['time', 'id']) as [string, string] | null };
}
