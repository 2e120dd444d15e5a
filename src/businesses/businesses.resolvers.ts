import type { Resolvers } from '../__generated__/resolvers-types.js';
import { bookingScopeOf, isStaffOf } from '../auth/access.js';
import { bookingPagesByBusinessId } from '../bookings/bookings.loaders.js';
import { bookingListArgs } from '../bookings/booking-list-args.js';
import { customerPagesByBusinessId } from '../customers/customers.loaders.js';
import { partnerCountByBusinessId, partnerPagesByBusinessId } from '../partners/partners.loaders.js';
import { serviceCountByBusinessId, servicePagesByBusinessId } from '../services/services.loaders.js';
import { checkPageSize, decodeCursor } from '../shared/connection.js';
import { connectionResolvers, emptyPage } from '../shared/connection-resolvers.js';
import { unauthenticated } from '../shared/errors.js';
import { freeTextArgument, MAX_CITY_LENGTH, MAX_SLUG_LENGTH, optionalFreeTextArgument } from '../shared/free-text.js';
import { toGlobalId } from '../shared/global-id.js';
import { businessBySlug, businessPage } from './businesses.loaders.js';

const NAME_ID = ['string', 'id'] as const;

/** Longest search text: names are far shorter, and a longer one would only cost a bigger pattern. */
const MAX_SEARCH_LENGTH = 100;

/** A search argument, normalized like any free text; blank means no filter (a search box not yet typed in). */
function searchArgument(value: string | null | undefined, argument: string): string | null {
  const text = optionalFreeTextArgument(value, argument, MAX_SEARCH_LENGTH);
  return text === '' ? null : text;
}

export const businessResolvers: Resolvers = {
  Query: {
    business: (_, { slug }, { loaders }) => businessBySlug(loaders).load(freeTextArgument(slug, 'slug', MAX_SLUG_LENGTH)),
    businesses: (_, { city, query, serviceQuery, first, after }, { loaders }) => {
      const size = checkPageSize(first, 20);
      const afterSlug = (decodeCursor(after, ['string'])?.[0] as string | undefined) ?? null;
      const search = { query: searchArgument(query, 'query'), serviceQuery: searchArgument(serviceQuery, 'serviceQuery') };
      return businessPage(loaders, { city: optionalFreeTextArgument(city, 'city', MAX_CITY_LENGTH), ...search, afterSlug }, size);
    },
  },
  Business: {
    id: (business) => toGlobalId('Business', business.id),
    services: async (business, { includeInactive, first, after }, { loaders }) => {
      const size = checkPageSize(first, 50);
      const args = { includeInactive: includeInactive ?? false, after: decodeCursor(after, NAME_ID) as [string, string] | null };
      const page = await servicePagesByBusinessId(loaders, args, size).load(business.id);
      return { ...page, totalCount: () => serviceCountByBusinessId(loaders, args.includeInactive).load(business.id) };
    },
    partners: async (business, { city, activeOnly, first, after }, { loaders }) => {
      const size = checkPageSize(first, 50);
      const filter = { city: optionalFreeTextArgument(city, 'city', MAX_CITY_LENGTH), activeOnly: activeOnly ?? false };
      const args = { ...filter, after: decodeCursor(after, NAME_ID) as [string, string] | null };
      const page = await partnerPagesByBusinessId(loaders, args, size).load(business.id);
      return { ...page, totalCount: () => partnerCountByBusinessId(loaders, filter).load(business.id) };
    },
    customers: (business, { first, after }, { loaders, viewer }) => {
      const size = checkPageSize(first, 50);
      const args = { after: decodeCursor(after, NAME_ID) as [string, string] | null };
      if (!isStaffOf(viewer, business.id)) return emptyPage();
      return customerPagesByBusinessId(loaders, args, size).load(business.id);
    },
    bookings: (business, { filter, first, after }, { loaders, viewer }) => {
      const size = checkPageSize(first, 20);
      const args = bookingListArgs(filter, after);
      if (!bookingScopeOf(viewer)) throw unauthenticated();
      return bookingPagesByBusinessId(loaders, args, size).load(business.id);
    },
  },
  BusinessConnection: connectionResolvers,
  ServiceConnection: { ...connectionResolvers, totalCount: (page) => page.totalCount() },
  PartnerConnection: { ...connectionResolvers, totalCount: (page) => page.totalCount() },
  CustomerConnection: connectionResolvers,
  BookingConnection: connectionResolvers,
};
