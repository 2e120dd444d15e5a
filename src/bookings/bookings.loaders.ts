import { bookingScopeOf, canSeeBooking, type BookingScope } from '../auth/access.js';
import type { Page } from '../shared/connection.js';
import { toPage } from '../shared/connection.js';
import { argsKey, inKeyOrder, type LoaderRegistry } from '../shared/loader-registry.js';
import type { BookingModel } from './booking.model.js';
import {
  findBookingPagesByBusinessIds,
  findBookingPagesByCustomerIds,
  findBookingPagesByPartnerIds,
  findBookingsByIds,
  type BookingListArgs,
} from './bookings.repository.js';

export function bookingById(loaders: LoaderRegistry) {
  return loaders.get<string, BookingModel | null>('BookingById', async (ids) =>
    inKeyOrder(ids, await findBookingsByIds(loaders.db, ids), (b) => canSeeBooking(loaders.viewer, b)),
  );
}

type PageQuery = typeof findBookingPagesByBusinessIds;
type ListArgs = Omit<BookingListArgs, 'limit'>;

function bookingPages(loaders: LoaderRegistry, name: string, find: PageQuery, args: ListArgs, size: number, sortKey: (b: BookingModel) => string[]) {
  return loaders.get<string, Page<BookingModel>>(`${name}:${argsKey(args)}:${size}`, async (parentIds) => {
    const scope = bookingScopeOf(loaders.viewer) as BookingScope; // callers check the scope first
    const pages = await find(loaders.db, parentIds, scope, { ...args, limit: size + 1 });
    const byId = bookingById(loaders);
    return parentIds.map((id) => {
      const rows = pages.get(id) ?? [];
      for (const row of rows) byId.prime(row.id, row);
      return toPage(rows, size, sortKey, args.after);
    });
  });
}

const byStart = (b: BookingModel) => [b.startsAt, b.id];
const byCreatedDesc = (b: BookingModel) => [b.createdAt, b.id];

export function bookingPagesByBusinessId(loaders: LoaderRegistry, args: ListArgs, size: number) {
  return bookingPages(loaders, 'BookingPagesByBusinessId', findBookingPagesByBusinessIds, args, size, byStart);
}

export function bookingPagesByPartnerId(loaders: LoaderRegistry, args: ListArgs, size: number) {
  return bookingPages(loaders, 'BookingPagesByPartnerId', findBookingPagesByPartnerIds, args, size, byStart);
}

export function bookingPagesByCustomerId(loaders: LoaderRegistry, args: ListArgs, size: number) {
  return bookingPages(loaders, 'BookingPagesByCustomerId', findBookingPagesByCustomerIds, args, size, byCreatedDesc);
}
