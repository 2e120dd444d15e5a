import type { Resolvers } from '../__generated__/resolvers-types.js';
import type { RequestContext } from '../server/context.js';
import { rememberById, type ResultMemory } from '../idempotency/idempotent-mutation.js';
import { partnerById } from '../partners/partners.loaders.js';
import type { PartnerModel } from '../partners/partner.model.js';
import { mutation } from '../shared/mutation.js';
import { valueOrAbort } from '../shared/user-errors.js';
import {
  checkException,
  checkGenerateRange,
  checkWeeklyHours,
  generatePartnerSlots,
  scheduleManagerOf,
  setException,
  setWeeklyHours,
  type SlotsGenerated,
} from './schedules.actions.js';

const rememberPartner = (context: RequestContext) => rememberById((id) => partnerById(context.loaders).load(id));
const partnerPayload = (partner: PartnerModel | null) => ({ partner });

/** A retried `slotsGenerate` gets the partner back with the count the first run created. */
function rememberGenerated(context: RequestContext): ResultMemory<SlotsGenerated> {
  return {
    save: (value) => ({ partnerId: value.partner.id, slotsCreated: value.slotsCreated }),
    restore: async (saved) => {
      const { partnerId, slotsCreated } = saved as { partnerId: string; slotsCreated: number };
      const partner = await partnerById(context.loaders).load(partnerId);
      return partner && { partner, slotsCreated };
    },
  };
}

export const scheduleMutations: Resolvers = {
  Mutation: {
    partnerScheduleSet: mutation({
      name: 'partnerScheduleSet',
      who: { expected: 'an admin or staff token to set weekly hours', scope: (viewer) => scheduleManagerOf(viewer, 'weeklyHours') },
      outside: async ({ input }) => valueOrAbort(checkWeeklyHours(input)),
      inside: (trx, { scope, input, prepared: rows }) => setWeeklyHours(trx, scope, input, rows),
      remember: rememberPartner,
      payload: partnerPayload,
    }),
    partnerExceptionSet: mutation({
      name: 'partnerExceptionSet',
      who: { expected: 'an admin, staff or partner token to set a schedule exception', scope: (viewer) => scheduleManagerOf(viewer, 'exception') },
      outside: async ({ input }) => valueOrAbort(checkException(input)),
      inside: (trx, { scope, input, prepared: hours }) => setException(trx, scope, input, hours),
      remember: rememberPartner,
      payload: partnerPayload,
    }),
    slotsGenerate: mutation({
      name: 'slotsGenerate',
      who: { expected: 'an admin or staff token to generate slots', scope: (viewer) => scheduleManagerOf(viewer, 'generate') },
      outside: async ({ input }) => valueOrAbort(checkGenerateRange(input)),
      inside: (trx, { scope, input }) => generatePartnerSlots(trx, scope, input),
      remember: rememberGenerated,
      payload: (value) => ({ partner: value?.partner ?? null, slotsCreated: value?.slotsCreated ?? null }),
    }),
  },
};
