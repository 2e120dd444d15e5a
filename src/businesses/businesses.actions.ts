import type { BookingSettingsInput, BusinessCreateInput, BusinessKind, BusinessUpdateInput } from '../__generated__/resolvers-types.js';
import { insertMembership, upsertAccount, type AccountIdentity } from '../accounts/accounts.repository.js';
import type { Viewer } from '../auth/viewer.js';
import { hasFutureLiveBookings } from '../bookings/bookings.repository.js';
import { intInRange, MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH, MAX_STORED_CITY_LENGTH, optionalText, requiredText } from '../shared/input-checks.js';
import type { Step } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { abort } from '../shared/user-errors.js';
import { findLiveServiceDurations } from '../services/services.repository.js';
import { businessNotFoundMessage as notFoundMessage } from './business-input.js';
import type { BusinessModel } from './business.model.js';
import { archiveBusiness, insertBusiness, isSlugTaken, lockLiveBusinessById, updateBusiness, type BusinessDraft } from './businesses.repository.js';

/**
 * Onboarding and the business's own profile, as steps of their mutations (src/shared/mutation.ts).
 * Who may is decided before: any signed-in account creates a business (and becomes its owner);
 * only its owners (isOwnerOf) change or archive it.
 */

export const MAX_SLUG_LENGTH = 64;

const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;
// The CHECK on businesses.default_locale: a language subtag, then optional subtags.
const LOCALE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
// Intl's list holds canonical zones only (in Node 20 neither `UTC` nor `Asia/Kolkata`); a name it
// lacks is accepted when the time zone database knows it and it is spelled as IANA spells names.
const IANA_NAME = /^(UTC|[A-Z][A-Za-z_-]*(\/[A-Z][A-Za-z0-9_+-]*)+)$/;
const TIME_ZONES = new Set(Intl.supportedValuesOf('timeZone'));
const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

const DEFAULT_SETTINGS = { slotMinutes: 30, minNoticeMinutes: 60, maxAdvanceDays: 60, cancellationWindowMinutes: 1440, reminderHours: 24 };

/** The account behind the viewer. Tokens carry no issuer, e-mail or name for it yet (issue 11: accounts). */
/**
 * The caller's account: an account token's own, or (a service token, which names none) the account
 * of its issuer and subject, made on first use, so an account token of the same subject owns it.
 */
async function ownerAccountOf(trx: Trx, viewer: Viewer): Promise<string> {
  if (viewer.accountId) return viewer.accountId;
  const identity: AccountIdentity = { issuer: viewer.issuer ?? '', subject: viewer.subject!, email: viewer.email, name: viewer.name };
  return upsertAccount(trx, identity);
}

function checkedSlug(slug: string): string {
  const field = ['input', 'slug'];
  if (slug.length > MAX_SLUG_LENGTH || !SLUG.test(slug)) {
    abort('INVALID_INPUT', `Expected \`slug\` to be lowercase letters and digits in words joined by single hyphens, at most ${MAX_SLUG_LENGTH} characters, got "${slug.slice(0, 100)}".`, field);
  }
  return slug;
}

function checkedTimeZone(timeZone: string): string {
  if (TIME_ZONES.has(timeZone) || (IANA_NAME.test(timeZone) && knownToIntl(timeZone))) return timeZone;
  return abort('INVALID_INPUT', `Expected an IANA time zone such as "Europe/Berlin", got "${timeZone.slice(0, 100)}".`, ['input', 'timeZone']);
}

function knownToIntl(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}

function checkedCurrency(currency: string): string {
  if (CURRENCIES.has(currency)) return currency;
  return abort('INVALID_INPUT', `Expected an ISO 4217 currency code such as "EUR", got "${currency.slice(0, 20)}".`, ['input', 'currency']);
}

function checkedLocale(locale: string): string {
  let canonical: string | undefined;
  try {
    canonical = Intl.getCanonicalLocales(locale)[0];
  } catch {
    // reported below
  }
  if (!canonical || !LOCALE.test(canonical)) abort('INVALID_INPUT', `Expected a BCP 47 locale such as "en" or "ja", got "${locale.slice(0, 40)}".`, ['input', 'defaultLocale']);
  return canonical;
}

/** The settings as given over `base`, each within the columns' CHECKs. */
function checkedSettings(given: BookingSettingsInput | null | undefined, base: typeof DEFAULT_SETTINGS): typeof DEFAULT_SETTINGS {
  const field = (name: string) => ['input', 'settings', name];
  const slotMinutes = intInRange(given?.slotMinutes ?? base.slotMinutes, field('slotMinutes'), 5, 240);
  if (1440 % slotMinutes !== 0) abort('INVALID_INPUT', `Expected \`slotMinutes\` to divide a day (5, 10, 15, 20, 30, 60, ...), got ${slotMinutes}.`, field('slotMinutes'));
  return {
    slotMinutes,
    minNoticeMinutes: intInRange(given?.minNoticeMinutes ?? base.minNoticeMinutes, field('minNoticeMinutes'), 0, 43200),
    maxAdvanceDays: intInRange(given?.maxAdvanceDays ?? base.maxAdvanceDays, field('maxAdvanceDays'), 1, 730),
    cancellationWindowMinutes: intInRange(given?.cancellationWindowMinutes ?? base.cancellationWindowMinutes, field('cancellationWindowMinutes'), 0, 43200),
    reminderHours: intInRange(given?.reminderHours ?? base.reminderHours, field('reminderHours'), 0, 720),
  };
}

function kindColumn(kind: BusinessKind): string {
  return kind.toLowerCase();
}

/** The business's row as the checks leave it; checked before any statement (outside the transaction). */
export function checkBusinessCreate(input: BusinessCreateInput): BusinessDraft {
  return {
    slug: checkedSlug(input.slug),
    name: requiredText(input.name, ['input', 'name'], MAX_NAME_LENGTH),
    kind: kindColumn(input.kind),
    city: requiredText(input.city, ['input', 'city'], MAX_STORED_CITY_LENGTH),
    timeZone: checkedTimeZone(input.timeZone),
    currency: checkedCurrency(input.currency),
    description: optionalText(input.description, ['input', 'description'], MAX_DESCRIPTION_LENGTH),
    defaultLocale: input.defaultLocale == null ? 'en' : checkedLocale(input.defaultLocale),
    ...checkedSettings(input.settings, DEFAULT_SETTINGS),
  };
}

/** Creates the business and makes the caller's account its owner, in one transaction. */
export async function createBusiness(trx: Trx, viewer: Viewer, draft: BusinessDraft): Promise<Step<BusinessModel>> {
  const business = await insertBusiness(trx, draft);
  if (!business) abort('SLUG_TAKEN', `Expected a slug no live business has, got "${draft.slug}": choose another.`, ['input', 'slug']);
  const accountId = await ownerAccountOf(trx, viewer);
  await insertMembership(trx, { accountId, businessId: business.id, role: 'owner', partnerId: null });
  return {
    value: business,
    // No availability to make stale (a new business has no partners); the owner's cached access is.
    changes: [{ action: 'business.created', businessId: business.id, partnerIds: [], ranges: [], accountIds: [accountId], availability: false }],
    audit: [{ businessId: business.id, entity: 'business', entityId: business.id, action: 'business.created', changes: { after: { ...draft, ownerAccountId: accountId } } }],
  };
}

/** The fields of a business that an update may change, as stored. */
function profileOf(b: BusinessModel): Omit<BusinessDraft, 'timeZone' | 'currency'> {
  return {
    slug: b.slug,
    name: b.name,
    kind: kindColumn(b.kind),
    city: b.city,
    description: b.description,
    defaultLocale: b.defaultLocale,
    slotMinutes: b.slotMinutes,
    minNoticeMinutes: b.minNoticeMinutes,
    maxAdvanceDays: b.maxAdvanceDays,
    cancellationWindowMinutes: b.cancellationWindowMinutes,
    reminderHours: b.reminderHours,
  };
}

/** Only what changes: an update that changes nothing writes nothing and audits nothing. */
function differences<T extends object>(before: T, after: T): { before: Partial<T>; after: Partial<T> } | null {
  const keys = (Object.keys(after) as (keyof T)[]).filter((key) => before[key] !== after[key]);
  if (!keys.length) return null;
  return { before: Object.fromEntries(keys.map((k) => [k, before[k]])) as Partial<T>, after: Object.fromEntries(keys.map((k) => [k, after[k]])) as Partial<T> };
}

export async function updateBusinessProfile(trx: Trx, id: string, input: BusinessUpdateInput): Promise<Step<BusinessModel>> {
  const before = await lockLiveBusinessById(trx, id);
  if (!before) abort('NOT_FOUND', notFoundMessage(input.businessId), ['input', 'businessId']);
  const current = profileOf(before);
  const next = {
    slug: input.slug == null ? current.slug : checkedSlug(input.slug),
    name: input.name == null ? current.name : requiredText(input.name, ['input', 'name'], MAX_NAME_LENGTH),
    kind: input.kind == null ? current.kind : kindColumn(input.kind),
    city: input.city == null ? current.city : requiredText(input.city, ['input', 'city'], MAX_STORED_CITY_LENGTH),
    description: input.description == null ? current.description : optionalText(input.description, ['input', 'description'], MAX_DESCRIPTION_LENGTH),
    defaultLocale: input.defaultLocale == null ? current.defaultLocale : checkedLocale(input.defaultLocale),
    ...checkedSettings(input.settings, current),
  };
  const changed = differences(current, next);
  if (!changed) return { value: before };
  if (changed.after.slug !== undefined && (await isSlugTaken(trx, next.slug, id))) {
    abort('SLUG_TAKEN', `Expected a slug no live business has, got "${next.slug}": choose another.`, ['input', 'slug']);
  }
  if (changed.after.slotMinutes !== undefined) {
    const misfit = (await findLiveServiceDurations(trx, id)).find((minutes) => minutes % next.slotMinutes !== 0);
    if (misfit !== undefined) {
      abort('INVALID_INPUT', `Expected \`slotMinutes\` to divide every live service's length, got ${next.slotMinutes} for a service of ${misfit} minutes.`, ['input', 'settings', 'slotMinutes']);
    }
  }
  const updated = await updateBusiness(trx, id, next);
  return {
    value: updated,
    // Cached availability carries the settings it was computed with.
    changes: [{ action: 'business.updated', businessId: id, partnerIds: [], ranges: [] }],
    audit: [{ businessId: id, entity: 'business', entityId: id, action: 'business.updated', changes: changed }],
  };
}

/**
 * Archives a business that has no pending or confirmed booking ahead: refusing is what keeps
 * customers from being left with appointments nobody will keep, and cancelling is the staff's call
 * (bookingCancel, which refunds by the business's own rules), not a side effect of an archive.
 */
export async function archiveBusinessById(trx: Trx, id: string, input: { businessId: string }): Promise<Step<BusinessModel>> {
  const before = await lockLiveBusinessById(trx, id);
  if (!before) abort('NOT_FOUND', notFoundMessage(input.businessId), ['input', 'businessId']);
  if (await hasFutureLiveBookings(trx, { businessId: id, partnerId: null })) {
    abort('HAS_FUTURE_BOOKINGS', 'Expected a business without pending or confirmed bookings ahead, got one with some: cancel them first.', ['input', 'businessId']);
  }
  const archived = await archiveBusiness(trx, id);
  return {
    value: archived,
    changes: [{ action: 'business.archived', businessId: id, partnerIds: [], ranges: [] }],
    audit: [{ businessId: id, entity: 'business', entityId: id, action: 'business.archived', changes: { after: { archivedAt: archived.archivedAt } } }],
  };
}
