import type { Resolvers } from '../__generated__/resolvers-types.js';
import { accessKeyOf, managementScopeOf, scopeOrRefuse } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { bookingById } from '../bookings/bookings.loaders.js';
import { partnerById } from '../partners/partners.loaders.js';
import { paymentById } from '../payments/payments.loaders.js';
import { GraphQLError } from 'graphql';
import { badUserInput, ErrorCode, forbidden } from '../shared/errors.js';
import { idArgument } from '../shared/global-id.js';
import { LoaderRegistry } from '../shared/loader-registry.js';
import type { BookingEventsPageModel } from './booking-event.model.js';
import { findBusinessEventsAfter, findPurgedThrough } from './booking-events.repository.js';
import type { DeliveredEvent, EventFilter } from './event-hub.js';

const MAX_PAGE = 500;
const CURSOR = /^(0|[1-9][0-9]{0,14})$/;

/**
 * Whose events the viewer may follow in a business: the management scope, as for webhook
 * endpoints. Staff (and admins) all of it, optionally one partner's; a partner only their own
 * bookings'. Customers follow their bookings through queries.
 */
export function eventFilterFor(viewer: Viewer, businessGid: string, partnerGid: string | null | undefined): EventFilter {
  const businessId = idArgument(businessGid, 'Business', 'businessId');
  const partnerId = partnerGid ? idArgument(partnerGid, 'Partner', 'partnerId') : null;
  const scope = scopeOrRefuse(managementScopeOf(viewer, { partnersMay: true }), viewer, 'a staff, partner or admin token to follow booking events');
  if (scope.businessId !== null && scope.businessId !== businessId) throw forbidden('Booking events are followed for your own business only.');
  if (scope.partnerId !== null && partnerId !== null && partnerId !== scope.partnerId) throw forbidden('A partner follows the events of their own bookings only.');
  return { businessId, partnerId: scope.partnerId ?? partnerId };
}

/** The cursor is older than what retention kept (RETENTION_BOOKING_EVENT_DAYS): a page would skip events in silence. */
function eventsPurged(after: string, purgedThrough: number): GraphQLError {
  return new GraphQLError(
    `Expected a cursor of a kept event, got "${after}": this business's events up to cursor ${purgedThrough} were purged (older than the retention period). Read the bookings' current state, then replay from after "${purgedThrough}".`,
    { extensions: { code: ErrorCode.EventsPurged, purgedThrough: String(purgedThrough) } },
  );
}

export const bookingEventResolvers: Resolvers = {
  Query: {
    bookingEventsSince: async (_, args, { viewer, app }): Promise<BookingEventsPageModel> => {
      const filter = eventFilterFor(viewer, args.businessId, args.partnerId);
      const first = args.first ?? 100;
      if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw badUserInput(`Expected \`first\` from 1 to ${MAX_PAGE}, got ${first}.`, 'first');
      if (args.after != null && !CURSOR.test(args.after)) throw badUserInput(`Expected \`after\` to be a BookingEvent.cursor (a decimal integer), got "${args.after}".`, 'after');
      const after = args.after == null ? 0 : Number(args.after);
      const rows = await findBusinessEventsAfter(app.db, { businessId: filter.businessId, partnerId: filter.partnerId, after, limit: first + 1 });
      // Read after the page: the purge deletes events and raises the mark in one statement, so a
      // mark read later covers every event the page could have missed.
      if (after > 0) {
        const purgedThrough = await findPurgedThrough(app.db, filter.businessId);
        if (after < purgedThrough) throw eventsPurged(args.after!, purgedThrough);
      }
      const events = rows.slice(0, first);
      return { events, hasMore: rows.length > first, endCursor: events.length ? events[events.length - 1].position : (args.after ?? null) };
    },
  },
  Subscription: {
    bookingEvents: {
      subscribe: (_, args, ctx) => {
        const filter = eventFilterFor(ctx.viewer, args.businessId, args.partnerId);
        const key = accessKeyOf(ctx.viewer);
        // The subscription's context lives as long as the subscription; each event gets loaders of
        // its own, or nested fields would be served from what earlier events loaded. Subscribers
        // with the same access share them for that event: one batch per event, not per subscriber.
        const freshLoaders = ({ shared }: DeliveredEvent) => {
          let loaders = shared.get(key) as LoaderRegistry | undefined;
          if (!loaders) shared.set(key, (loaders = new LoaderRegistry(ctx.app.db, ctx.viewer)));
          ctx.loaders = loaders;
        };
        return ctx.app.events.stream(filter, freshLoaders);
      },
      resolve: (delivered: DeliveredEvent) => delivered.event,
    },
  },
  BookingEvent: {
    cursor: (e) => e.position,
    booking: (e, _, { loaders }) => bookingById(loaders).load(e.bookingId),
    status: (e) => e.data.booking.status,
    startsAt: (e) => e.data.booking.startsAt,
    endsAt: (e) => e.data.booking.endsAt,
    partner: (e, _, { loaders }) => partnerById(loaders).load(e.data.booking.partnerId),
    previousStartsAt: (e) => e.data.previous?.startsAt ?? null,
    previousEndsAt: (e) => e.data.previous?.endsAt ?? null,
    previousPartner: (e, _, { loaders }) => {
      const previous = e.data.previous?.partnerId;
      return previous && previous !== e.data.booking.partnerId ? partnerById(loaders).load(previous) : null;
    },
    payment: (e, _, { loaders }) => (e.paymentId ? paymentById(loaders).load(e.paymentId) : null),
    paymentStatus: (e) => e.data.payment?.status ?? null,
    previousPaymentStatus: (e) => e.data.payment?.previousStatus ?? null,
  },
};
