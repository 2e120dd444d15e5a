import type { Resolvers } from '../__generated__/resolvers-types.js';
import { badUserInput } from '../shared/errors.js';
import { MAX_RANGE_DAYS } from './schedules.actions.js';
import { exceptionsByPartnerId, weeklyHoursByPartnerId } from './schedules.loaders.js';
import { daysBetween } from './slot-generator.js';

/**
 * Schedules are public, like the partners they belong to: a customer choosing a barber may see
 * when they work. Past weekly hours are not listed (see findWeeklyHoursByPartnerIds).
 */
export const scheduleResolvers: Resolvers = {
  Partner: {
    weeklyHours: (partner, _, { loaders }) => weeklyHoursByPartnerId(loaders).load(partner.id),
    exceptions: (partner, { from, to }, { loaders }) => {
      const days = daysBetween(from, to);
      if (days < 0 || days > MAX_RANGE_DAYS) {
        throw badUserInput(`Expected \`from\` on or before \`to\` and at most ${MAX_RANGE_DAYS} days apart, got ${from} to ${to}.`, 'to');
      }
      return exceptionsByPartnerId(loaders, { from, to }).load(partner.id);
    },
  },
};
