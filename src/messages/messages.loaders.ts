import { bookingById } from '../bookings/bookings.loaders.js';
import { toPage, type Page } from '../shared/connection.js';
import { inKeyOrder, type LoaderRegistry } from '../shared/loader-registry.js';
import type { MessageModel, MessageSide } from './message.model.js';
import { countUnreadMessages, findMessagePagesByBookingIds, findMessagesByIds } from './messages.repository.js';

/**
 * A message is visible exactly when its booking is: the booking's loader decides (it is batched
 * too, so a page of events' messages costs one statement for the messages and one for the bookings).
 */
export function messageById(loaders: LoaderRegistry) {
  return loaders.get<string, MessageModel | null>('MessageById', async (ids) => {
    const messages = await findMessagesByIds(loaders.db, ids);
    const bookings = await bookingById(loaders).loadMany([...new Set(messages.map((m) => m.bookingId))]);
    const visible = new Set(bookings.filter((b) => b && !(b instanceof Error)).map((b) => (b as { id: string }).id));
    return inKeyOrder(ids, messages, (m) => visible.has(m.bookingId));
  });
}

const newestFirst = (m: MessageModel) => [m.createdAt, m.id];

/** Pages of threads of bookings the resolver has already seen (so the caller may read them). */
export function messagePagesByBookingId(loaders: LoaderRegistry, after: [string, string] | null, size: number) {
  return loaders.get<string, Page<MessageModel>>(`MessagePagesByBookingId:${after?.join(',') ?? ''}:${size}`, async (bookingIds) => {
    const pages = await findMessagePagesByBookingIds(loaders.db, bookingIds, { after, limit: size + 1 });
    const byId = messageById(loaders);
    return bookingIds.map((id) => {
      const rows = pages.get(id) ?? [];
      for (const row of rows) byId.prime(row.id, row);
      return toPage(rows, size, newestFirst, after);
    });
  });
}

/** Unread counts keyed `<side>:<bookingId>`: one statement for a page of bookings, whatever side the viewer is on in each. */
export function unreadCountByBookingSide(loaders: LoaderRegistry) {
  return loaders.get<string, number>('UnreadCountByBookingSide', async (keys) => {
    const pairs = keys.map((key) => {
      const [side, bookingId] = key.split(':') as [MessageSide, string];
      return { side, bookingId };
    });
    const counts = await countUnreadMessages(loaders.db, pairs);
    return keys.map((key) => counts.get(key) ?? 0);
  });
}
