import type { ServiceCreateInput, ServiceUpdateInput } from '../__generated__/resolvers-types.js';
import { isStaffOf } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { businessNotFoundMessage } from '../businesses/business-input.js';
import { lockLiveBusinessById } from '../businesses/businesses.repository.js';
import { qualifyPartnersForService } from '../partners/partner-services.repository.js';
import { rawIdOf } from '../shared/global-id.js';
import { intInRange, MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH, optionalText, requiredText } from '../shared/input-checks.js';
import type { Step } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { abort } from '../shared/user-errors.js';
import type { ServiceModel } from './service.model.js';
import { archiveService, insertService, lockLiveServiceById, updateService, type ServiceDraft } from './services.repository.js';

/**
 * A business's services, as steps of their mutations (src/shared/mutation.ts). Staff of the
 * business manage them (isStaffOf). A service of a business the caller may not manage reads exactly
 * like a missing one.
 */

const SERVICE_ID_FIELD = ['input', 'serviceId'];

function serviceNotFound(gid: string): never {
  abort('NOT_FOUND', `Expected the ID of a live service you may manage, got "${gid}".`, SERVICE_ID_FIELD);
}

/** The raw id of the service an input names; a malformed ID reads NOT_FOUND, before any statement. */
export function serviceIdOf(input: { serviceId: string }): string {
  return rawIdOf(input.serviceId, 'Service') ?? serviceNotFound(input.serviceId);
}

function checkedDuration(minutes: number, slotMinutes: number, field: string[]): number {
  intInRange(minutes, field, 1, 1440);
  if (minutes % slotMinutes !== 0) abort('INVALID_INPUT', `Expected \`durationMinutes\` to be a multiple of the business's ${slotMinutes}-minute slots, got ${minutes}.`, field);
  return minutes;
}

/** A service's fields as given over `base` (the current values, or the defaults of a new one). */
function checkedDraft(input: Partial<Record<keyof ServiceDraft, unknown>>, base: ServiceDraft, slotMinutes: number): ServiceDraft {
  const field = (name: string) => ['input', name];
  const given = <K extends keyof ServiceDraft>(key: K) => (input[key] == null ? null : (input[key] as ServiceDraft[K]));
  const name = given('name');
  const description = input.description === undefined || input.description === null ? base.description : optionalText(input.description as string, field('description'), MAX_DESCRIPTION_LENGTH);
  return {
    name: name === null ? base.name : requiredText(name, field('name'), MAX_NAME_LENGTH),
    description,
    durationMinutes: checkedDuration(given('durationMinutes') ?? base.durationMinutes, slotMinutes, field('durationMinutes')),
    priceCents: intInRange(given('priceCents') ?? base.priceCents, field('priceCents'), 0, 2_147_483_647),
    bufferBeforeMinutes: intInRange(given('bufferBeforeMinutes') ?? base.bufferBeforeMinutes, field('bufferBeforeMinutes'), 0, 240),
    bufferAfterMinutes: intInRange(given('bufferAfterMinutes') ?? base.bufferAfterMinutes, field('bufferAfterMinutes'), 0, 240),
    isActive: given('isActive') ?? base.isActive,
  };
}

function draftOf(s: ServiceModel): ServiceDraft {
  return {
    name: s.name,
    description: s.description,
    durationMinutes: s.durationMinutes,
    priceCents: s.priceCents,
    bufferBeforeMinutes: s.bufferBeforeMinutes,
    bufferAfterMinutes: s.bufferAfterMinutes,
    isActive: s.isActive,
  };
}

/**
 * Adds a service and qualifies its partners: the ones given, or every live partner when none are
 * (so a business that never names partners keeps working as before services had partners).
 */
export async function createService(trx: Trx, businessId: string, input: ServiceCreateInput, partnerIds: string[] | null): Promise<Step<ServiceModel>> {
  const business = await lockLiveBusinessById(trx, businessId);
  if (!business) abort('NOT_FOUND', businessNotFoundMessage(input.businessId), ['input', 'businessId']);
  const empty: ServiceDraft = { name: '', description: null, durationMinutes: input.durationMinutes, priceCents: input.priceCents, bufferBeforeMinutes: 0, bufferAfterMinutes: 0, isActive: true };
  const draft = checkedDraft({ ...input, name: input.name }, empty, business.slotMinutes);
  const service = await insertService(trx, businessId, draft);
  const qualified = await qualifyPartnersForService(trx, { businessId, serviceId: service.id, partnerIds });
  if (partnerIds !== null && qualified.length !== partnerIds.length) {
    abort('NOT_FOUND', 'Expected the IDs of live partners of the business in `partnerIds`, got some that are not.', ['input', 'partnerIds']);
  }
  return {
    value: service,
    // A new service has nothing cached yet: availability computes it on first read.
    audit: [{ businessId, entity: 'service', entityId: service.id, action: 'service.created', changes: { after: { ...draft, partnerIds: qualified.sort() } } }],
  };
}

/** A live service the viewer may manage, locked; NOT_FOUND otherwise. */
async function lockManagedService(trx: Trx, viewer: Viewer, id: string, gid: string) {
  const service = await lockLiveServiceById(trx, id);
  if (!service || !isStaffOf(viewer, service.businessId)) serviceNotFound(gid);
  return service;
}

export async function updateServiceById(trx: Trx, viewer: Viewer, id: string, input: ServiceUpdateInput): Promise<Step<ServiceModel>> {
  const { slotMinutes, ...before } = await lockManagedService(trx, viewer, id, input.serviceId);
  const current = draftOf(before);
  const next = checkedDraft(input, current, slotMinutes);
  const keys = (Object.keys(next) as (keyof ServiceDraft)[]).filter((key) => next[key] !== current[key]);
  // Asking for the current values writes nothing and audits nothing.
  if (!keys.length) return { value: before };
  const updated = await updateService(trx, id, next);
  const pick = (draft: ServiceDraft) => Object.fromEntries(keys.map((k) => [k, draft[k]]));
  return {
    value: updated,
    // Length, buffers and whether it is bookable decide the starts availability offers for it.
    changes: [{ action: 'service.updated', businessId: updated.businessId, partnerIds: [], ranges: [] }],
    audit: [{ businessId: updated.businessId, entity: 'service', entityId: id, action: 'service.updated', changes: { before: pick(current), after: pick(next) } }],
  };
}

/** Archives a service. Bookings already made for it stay: they were sold at their time and price. */
export async function archiveServiceById(trx: Trx, viewer: Viewer, id: string, input: { serviceId: string }): Promise<Step<ServiceModel>> {
  await lockManagedService(trx, viewer, id, input.serviceId);
  const archived = await archiveService(trx, id);
  return {
    value: archived,
    changes: [{ action: 'service.archived', businessId: archived.businessId, partnerIds: [], ranges: [] }],
    audit: [{ businessId: archived.businessId, entity: 'service', entityId: id, action: 'service.archived', changes: { after: { archivedAt: archived.archivedAt } } }],
  };
}
