import type { Resolvers } from '../__generated__/resolvers-types.js';
import type { Viewer } from '../auth/viewer.js';
import type { RequestContext } from '../server/context.js';
import { rememberById, type ResultMemory } from '../idempotency/idempotent-mutation.js';
import { partnerById } from '../partners/partners.loaders.js';
import type { PartnerModel } from '../partners/partner.model.js';
import { mutation, type Step } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { valueOrAbort, type ActionResult } from '../shared/user-errors.js';
import {
  checkException,
  checkGenerateRange,
  checkWeeklyHours,
  generatePartnerSlots,
  scheduleManagerOf,
  setException,
  setWeeklyHours,
  type ScheduleManager,
  type ScheduleOperation,
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

/** Who may change a schedule depends on the operation (see scheduleManagerOf). */
const managers = (operation: ScheduleOperation, expected: string) => ({ expected, scope: (viewer: Viewer) => scheduleManagerOf(viewer, operation) });

/** A change of a partner's schedule: its input checked before the transaction, the partner in the payload. */
function scheduleChange<I extends object, C>(
  name: string,
  who: ReturnType<typeof managers>,
  check: (input: I) => ActionResult<C>,
  step: (trx: Trx, manager: ScheduleManager, input: I, checked: C) => Promise<Step<PartnerModel>>,
) {
  return mutation({
    name,
    who,
    outside: async ({ input }: { input: I }) => valueOrAbort(check(input)),
    inside: (trx, { scope, input, prepared }) => step(trx, scope, input, prepared),
    remember: rememberPartner,
    payload: partnerPayload,
  });
}

export const scheduleMutations: Resolvers = {
  Mutation: {
    partnerScheduleSet: scheduleChange('partnerScheduleSet', managers('weeklyHours', 'an admin or staff token to set weekly hours'), checkWeeklyHours, setWeeklyHours),
    partnerExceptionSet: scheduleChange('partnerExceptionSet', managers('exception', 'an admin, staff or partner token to set a schedule exception'), checkException, setException),
    slotsGenerate: mutation({
      name: 'slotsGenerate',
      who: managers('generate', 'an admin or staff token to generate slots'),
      outside: async ({ input }) => valueOrAbort(checkGenerateRange(input)),
      inside: (trx, { scope, input }) => generatePartnerSlots(trx, scope, input),
      remember: rememberGenerated,
      payload: (value) => ({ partner: value?.partner ?? null, slotsCreated: value?.slotsCreated ?? null }),
    }),
  },
};
