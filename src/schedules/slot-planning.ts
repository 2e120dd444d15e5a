import type { Db } from '../db/sql-helpers.js';
import {
  findDateOverridesByPartnerIds,
  findWeeklyRulesByPartnerIds,
  type GenerationTarget,
} from './schedules.repository.js';
import type { SlotToInsert } from './slot-materialization.repository.js';
import { generateSlots } from './slot-generator.js';

/** A partner and the local dates (inclusive) to make slots for. */
export interface GenerationRequest extends GenerationTarget {
  from: string;
  to: string;
}

/**
 * The slots the partners' schedules call for, in two statements whatever the number of partners
 * (their weekly rules and their exceptions), then computed in TypeScript. `notBefore` drops slots
 * starting earlier (the periodic job does not make slots in the past).
 */
export async function planSlots(db: Db, requests: readonly GenerationRequest[], notBefore: number = -Infinity): Promise<SlotToInsert[]> {
  if (!requests.length) return [];
  const partnerIds = requests.map((r) => r.partnerId);
  const span = { from: requests.reduce((min, r) => (r.from < min ? r.from : min), requests[0].from), to: requests.reduce((max, r) => (r.to > max ? r.to : max), requests[0].to) };
  const [rules, overrides] = await Promise.all([findWeeklyRulesByPartnerIds(db, partnerIds, span), findDateOverridesByPartnerIds(db, partnerIds, span)]);
  const slots: SlotToInsert[] = [];
  for (const request of requests) {
    const generated = generateSlots({
      timeZone: request.timeZone,
      slotMinutes: request.slotMinutes,
      from: request.from,
      to: request.to,
      weekly: rules.get(request.partnerId) ?? [],
      overrides: overrides.get(request.partnerId) ?? [],
    });
    for (const slot of generated) {
      if (slot.start < notBefore) continue;
      slots.push({
        businessId: request.businessId,
        partnerId: request.partnerId,
        startsAt: new Date(slot.start).toISOString(),
        endsAt: new Date(slot.end).toISOString(),
      });
    }
  }
  return slots;
}
