import type { PartnerCreateInput, PartnerSetActiveInput, PartnerUpdateInput } from '../__generated__/resolvers-types.js';
import { isStaffOf, managementScopeOf, type ManagementScope } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { hasFutureLiveBookings } from '../bookings/bookings.repository.js';
import { businessNotFoundMessage } from '../businesses/business-input.js';
import { lockLiveBusinessById } from '../businesses/businesses.repository.js';
import { rawIdOf } from '../shared/global-id.js';
import { MAX_NAME_LENGTH, MAX_STORED_CITY_LENGTH, requiredText } from '../shared/input-checks.js';
import type { Step } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { abort } from '../shared/user-errors.js';
import type { PartnerModel } from './partner.model.js';
import { qualifyPartnerForServices, replacePartnerServices } from './partner-services.repository.js';
import { archivePartner, insertPartner, lockPartnerById, updatePartnerActive, updatePartnerProfile } from './partners.repository.js';

const PARTNER_ID_FIELD = ['input', 'partnerId'];

/** Who is changing partners: the actor for the audit trail, and the business (null: any) they manage. */
export type PartnerManager = ManagementScope;

/** Admins manage every partner, staff their business's; partners and customers none (null). */
export function partnerManagerOf(viewer: Viewer): PartnerManager | null {
  return managementScopeOf(viewer, { partnersMay: false });
}

// Another tenant's partner must read exactly like a missing one, so both get this same answer.
function notFoundMessage(partnerGid: string): string {
  return `Expected the ID of a partner you may manage, got "${partnerGid}".`;
}

/** The raw id of the partner an input names; a malformed ID reads NOT_FOUND, before any statement. */
export function partnerIdOf(input: { partnerId: string }): string {
  const id = rawIdOf(input.partnerId, 'Partner');
  if (!id) abort('NOT_FOUND', notFoundMessage(input.partnerId), PARTNER_ID_FIELD);
  return id;
}

export async function setPartnerActive(trx: Trx, manager: PartnerManager, id: string, input: PartnerSetActiveInput): Promise<Step<PartnerModel>> {
  const partner = await lockPartnerById(trx, id, manager.businessId);
  if (!partner) abort('NOT_FOUND', notFoundMessage(input.partnerId), PARTNER_ID_FIELD);
  // Asking for the current value succeeds without a write or an audit row, so a retried request
  // is harmless and the trail records only real changes.
  if (partner.isActive === input.isActive) return { value: partner };

  const updated = await updatePartnerActive(trx, id, input.isActive);
  const action = input.isActive ? 'partner.activated' : 'partner.deactivated';
  return {
    value: updated,
    changes: [{ action, businessId: updated.businessId, partnerIds: [updated.id], ranges: [] }],
    audit: [{ businessId: updated.businessId, entity: 'partner', entityId: updated.id, action, changes: { before: { isActive: partner.isActive }, after: { isActive: updated.isActive } } }],
  };
}

// ---------------------------------------------------------------------------------------------
// The team: partnerCreate, partnerUpdate, partnerArchive, partnerServicesSet. Staff of the business
// (isStaffOf) manage it; a partner of a business the caller may not manage reads like a missing one.

/** A live partner the viewer may manage, locked; NOT_FOUND otherwise. */
async function lockManagedPartner(trx: Trx, viewer: Viewer, id: string, gid: string): Promise<PartnerModel> {
  const partner = await lockPartnerById(trx, id, null);
  if (!partner || !isStaffOf(viewer, partner.businessId)) abort('NOT_FOUND', notFoundMessage(gid), PARTNER_ID_FIELD);
  return partner;
}

const SERVICE_IDS_FIELD = ['input', 'serviceIds'];
const NOT_LIVE_SERVICES = 'Expected the IDs of live services of the partner\'s business in `serviceIds`, got some that are not.';

/**
 * Adds a partner, performing the services given, or every live service of the business when none
 * are (a business that never names services keeps working as before partners had services).
 */
export async function createPartner(trx: Trx, businessId: string, input: PartnerCreateInput, serviceIds: string[] | null): Promise<Step<PartnerModel>> {
  const business = await lockLiveBusinessById(trx, businessId);
  if (!business) abort('NOT_FOUND', businessNotFoundMessage(input.businessId), ['input', 'businessId']);
  const draft = {
    businessId,
    name: requiredText(input.name, ['input', 'name'], MAX_NAME_LENGTH),
    city: input.city == null ? business.city : requiredText(input.city, ['input', 'city'], MAX_STORED_CITY_LENGTH),
    isActive: input.isActive ?? true,
  };
  const partner = await insertPartner(trx, draft);
  const qualified = await qualifyPartnerForServices(trx, { businessId, partnerId: partner.id, serviceIds });
  if (serviceIds !== null && qualified.length !== serviceIds.length) abort('NOT_FOUND', NOT_LIVE_SERVICES, SERVICE_IDS_FIELD);
  return {
    value: partner,
    // A new partner has no slots yet: nothing availability caches can have changed.
    audit: [{ businessId, entity: 'partner', entityId: partner.id, action: 'partner.created', changes: { after: { name: draft.name, city: draft.city, isActive: draft.isActive, serviceIds: qualified.sort() } } }],
  };
}

export async function updatePartner(trx: Trx, viewer: Viewer, id: string, input: PartnerUpdateInput): Promise<Step<PartnerModel>> {
  const before = await lockManagedPartner(trx, viewer, id, input.partnerId);
  const next = {
    name: input.name == null ? before.name : requiredText(input.name, ['input', 'name'], MAX_NAME_LENGTH),
    city: input.city == null ? before.city : requiredText(input.city, ['input', 'city'], MAX_STORED_CITY_LENGTH),
  };
  const keys = (['name', 'city'] as const).filter((key) => next[key] !== before[key]);
  if (!keys.length) return { value: before };
  const updated = await updatePartnerProfile(trx, id, next);
  return {
    value: updated,
    // availablePartners is cached per city: the one they left is stale as well as the one they joined.
    changes: [{ action: 'partner.updated', businessId: updated.businessId, partnerIds: [id], ranges: [], cities: [before.city] }],
    audit: [{ businessId: updated.businessId, entity: 'partner', entityId: id, action: 'partner.updated',
      changes: { before: Object.fromEntries(keys.map((k) => [k, before[k]])), after: Object.fromEntries(keys.map((k) => [k, next[k]])) } }],
  };
}

/**
 * Archives a partner who has no pending or confirmed booking ahead: those are the customers'
 * appointments, to be moved to another partner (bookingReschedule) or cancelled first. Their free
 * slots stay and are never offered: an archived partner is inactive.
 */
export async function archivePartnerById(trx: Trx, viewer: Viewer, id: string, input: { partnerId: string }): Promise<Step<PartnerModel>> {
  const before = await lockManagedPartner(trx, viewer, id, input.partnerId);
  if (await hasFutureLiveBookings(trx, { businessId: before.businessId, partnerId: id })) {
    abort('HAS_FUTURE_BOOKINGS', `Expected a partner without pending or confirmed bookings ahead, got ${before.name} with some: move or cancel them first.`, PARTNER_ID_FIELD);
  }
  const archived = await archivePartner(trx, id);
  return {
    value: archived,
    changes: [{ action: 'partner.archived', businessId: archived.businessId, partnerIds: [id], ranges: [] }],
    audit: [{ businessId: archived.businessId, entity: 'partner', entityId: id, action: 'partner.archived', changes: { before: { isActive: before.isActive }, after: { isActive: false, archivedAt: archived.archivedAt } } }],
  };
}

/** Replaces the services a partner performs; the same set again writes nothing and audits nothing. */
export async function setPartnerServices(trx: Trx, viewer: Viewer, id: string, input: { partnerId: string }, serviceIds: string[]): Promise<Step<PartnerModel>> {
  const partner = await lockManagedPartner(trx, viewer, id, input.partnerId);
  const { found, added, removed } = await replacePartnerServices(trx, { businessId: partner.businessId, partnerId: id, serviceIds });
  if (found !== serviceIds.length) abort('NOT_FOUND', NOT_LIVE_SERVICES, SERVICE_IDS_FIELD);
  if (!added.length && !removed.length) return { value: partner };
  return {
    value: partner,
    changes: [{ action: 'partner.services_set', businessId: partner.businessId, partnerIds: [id], ranges: [] }],
    audit: [{ businessId: partner.businessId, entity: 'partner', entityId: id, action: 'partner.services_set', changes: { added, removed } }],
  };
}
