import type { Resolvers } from '../__generated__/resolvers-types.js';
import { isStaffOf } from '../auth/access.js';
import { badUserInput, forbidden, unauthenticated } from '../shared/errors.js';
import { idArgument } from '../shared/global-id.js';
import { businessStatsOf, statsRowsByBusinessId } from './stats.loaders.js';

/** The longest range Business.stats answers: two years of days, and a leap day. */
export const MAX_STATS_DAYS = 732;

function daysBetween(from: string, to: string): number {
  return (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;
}

export const statsResolvers: Resolvers = {
  Business: {
    stats: async (business, { from, to, granularity, partnerId, serviceId }, { loaders, viewer }) => {
      if (viewer.role === 'ANONYMOUS') throw unauthenticated();
      if (!isStaffOf(viewer, business.id)) throw forbidden(`Expected a token of the business's owner or staff (or an admin) to read its stats, got a ${viewer.role.toLowerCase()} token.`);
      const days = daysBetween(from, to);
      if (days < 0) throw badUserInput(`Expected \`to\` on or after \`from\` (${from}), got ${to}.`, 'to');
      if (days + 1 > MAX_STATS_DAYS) throw badUserInput(`Expected a range of at most ${MAX_STATS_DAYS} days, got ${days + 1}.`, 'to');
      const args = {
        from,
        to,
        granularity: granularity ?? 'DAY',
        partnerId: partnerId == null ? null : idArgument(partnerId, 'Partner', 'partnerId'),
        serviceId: serviceId == null ? null : idArgument(serviceId, 'Service', 'serviceId'),
      };
      return businessStatsOf(business, args, await statsRowsByBusinessId(loaders, args).load(business.id));
    },
  },
};
