import { freeTextInput, MAX_CITY_LENGTH } from '../shared/free-text.js';
import type { Viewer } from '../auth/viewer.js';
import { findPartnerForService } from '../partners/partners.repository.js';
import { findServicesByIds } from '../services/services.repository.js';
import { rawIdOf } from '../shared/global-id.js';
import type { Effects } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { abort } from '../shared/user-errors.js';
import { coversRange, lockSlotsOfHold } from '../slots/slot-claims.repository.js';
import { checkPartnerTakes, loadCustomer, rawIdOrAbort, type SlotClaim, type SlotClaimInput } from '../slots/slot-claims.js';
import type { CustomerModel } from '../customers/customer.model.js';
import { lockSlotHoldById, markSlotHoldConsumed, type LockedSlotHold } from './slot-holds.repository.js';

const HOLD_ID_FIELD = ['input', 'holdId'];

/**
 * The slots of a live hold of the booking's customer, locked, for the booking that uses the hold.
 * Other fields of the input may repeat the hold's service, partner, time or slots, not contradict them.
 * A hold that is missing, of another business or of another customer reads NOT_FOUND, like any object
 * the caller may not see: HOLD_EXPIRED would tell them that someone holds that time.
 */
export async function claimHeldSlots(trx: Trx, viewer: Viewer, input: SlotClaimInput & { holdId?: string | null }): Promise<SlotClaim> {
  const { customer } = await loadCustomer(trx, viewer, input);
  const hold = await lockSlotHoldById(trx, rawIdOrAbort(input.holdId, 'SlotHold', 'holdId'));
  if (!hold || hold.businessId !== customer.businessId || hold.customerId !== customer.id) abort('NOT_FOUND', `No hold with ID "${input.holdId}".`, HOLD_ID_FIELD);
  return claimLockedHold(trx, hold, customer, input, HOLD_ID_FIELD);
}

/**
 * The slots of a locked hold, for `customer`'s booking: the hold must be unused and live, the input
 * must not contradict it, and its slots, service and partner must still be bookable. Shared by
 * bookings from a hold and by guest bookings (whose hold gets its customer only now).
 */
export async function claimLockedHold(trx: Trx, hold: LockedSlotHold, customer: CustomerModel, input: SlotClaimInput, field: string[]): Promise<SlotClaim> {
  const HOLD_ID_FIELD = field;
  if (hold.bookingId !== null) abort('HOLD_EXPIRED', 'The hold was already used by a booking.', HOLD_ID_FIELD);
  if (!hold.live) abort('HOLD_EXPIRED', `The hold lapsed at ${hold.expiresAt}; hold the slots again.`, HOLD_ID_FIELD);

  if (input.serviceId && rawIdOf(input.serviceId, 'Service') !== hold.serviceId) abort('MISMATCH', 'The hold is for another service than `serviceId`.', ['input', 'serviceId']);
  if (input.partnerId && rawIdOf(input.partnerId, 'Partner') !== hold.partnerId) abort('MISMATCH', 'The hold is with another partner than `partnerId`.', ['input', 'partnerId']);
  if (input.startsAt && Date.parse(input.startsAt) !== Date.parse(hold.startsAt)) {
    abort('MISMATCH', `The hold starts at ${hold.startsAt}, not at ${input.startsAt}.`, ['input', 'startsAt']);
  }
  const slots = await lockSlotsOfHold(trx, hold);
  if (input.slotIds?.length) {
    const asked = [...new Set(input.slotIds.map((gid) => rawIdOf(gid, 'Slot')))].sort();
    const held = slots.map((s) => s.id).sort();
    if (asked.length !== held.length || asked.some((id, i) => id !== held[i])) abort('MISMATCH', 'Expected `slotIds` to be the slots of the hold.', ['input', 'slotIds']);
  }
  // Only a slot removed from under a live hold gets here (holds lapse by time, checked above).
  if (!coversRange(slots, hold.startsAt, hold.endsAt)) abort('SLOT_UNAVAILABLE', 'Some of the held slots are no longer there.', HOLD_ID_FIELD);

  const service = (await findServicesByIds(trx, [hold.serviceId]))[0];
  if (!service.isActive) abort('SERVICE_INACTIVE', `The service "${service.name}" is not bookable at the moment.`, HOLD_ID_FIELD);
  // Whether the partner still performs the service is read with the partner: no statement more.
  const partner = checkPartnerTakes((await findPartnerForService(trx, hold.partnerId, hold.serviceId))!, service, HOLD_ID_FIELD);
  if (input.city && partner.city !== freeTextInput(input.city, ['input', 'city'], MAX_CITY_LENGTH)) abort('MISMATCH', `The hold is with a partner in ${partner.city}, not ${input.city}.`, ['input', 'city']);
  if (Date.parse(hold.startsAt) <= Date.now()) abort('IN_THE_PAST', `Expected a start time in the future, got ${hold.startsAt}.`, HOLD_ID_FIELD);
  return { customer, service, partnerId: hold.partnerId, startsAt: hold.startsAt, endsAt: hold.endsAt, slots, holdId: hold.id, registration: {} };
}

/** Marks a claimed hold used by the booking that took its slots. */
export async function consumeHold(trx: Trx, holdId: string, booking: { id: string; businessId: string }): Promise<Effects> {
  await markSlotHoldConsumed(trx, holdId, booking.id);
  return { audit: [{ businessId: booking.businessId, entity: 'hold', entityId: holdId, action: 'hold.consumed', changes: { after: { bookingId: booking.id } } }] };
}
