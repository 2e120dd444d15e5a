import type { Resolvers } from '../__generated__/resolvers-types.js';
import type { Viewer } from '../auth/viewer.js';
import type { RequestContext } from '../server/context.js';
import { scopeOrRefuse } from '../auth/access.js';
import { toPayload } from '../shared/payload.js';
import {
  generatePartnerSlots,
  scheduleManagerOf,
  setException,
  setWeeklyHours,
  type ScheduleContext,
  type ScheduleManager,
  type ScheduleOperation,
} from './schedules.actions.js';

const WHO_MAY: Record<ScheduleOperation, string> = {
  weeklyHours: 'an admin or staff token to set weekly hours',
  exception: "an admin, staff or partner token to set a schedule exception",
  generate: 'an admin or staff token to generate slots',
};

/** The caller as a schedule manager; a caller who may manage no schedule at all is refused at the top level. */
function scheduleManager(viewer: Viewer, operation: ScheduleOperation): ScheduleManager {
  return scopeOrRefuse(scheduleManagerOf(viewer, operation), viewer, WHO_MAY[operation]);
}

function scheduleContext(context: RequestContext): ScheduleContext {
  return { db: context.app.db, changes: context.app.changes };
}

export const scheduleMutations: Resolvers = {
  Mutation: {
    partnerScheduleSet: async (_, { input }, context) =>
      toPayload(context, 'partner', await setWeeklyHours(scheduleContext(context), scheduleManager(context.viewer, 'weeklyHours'), input)),
    partnerExceptionSet: async (_, { input }, context) =>
      toPayload(context, 'partner', await setException(scheduleContext(context), scheduleManager(context.viewer, 'exception'), input)),
    slotsGenerate: async (_, { input }, context) => {
      const result = await generatePartnerSlots(scheduleContext(context), scheduleManager(context.viewer, 'generate'), input);
      const payload = toPayload(context, 'partner', result.ok ? { ok: true, value: result.value.partner } : result);
      return { ...payload, slotsCreated: result.ok ? result.value.slotsCreated : null };
    },
  },
};
