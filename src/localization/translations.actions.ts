import { isStaffOf } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import type { BusinessModel } from '../businesses/business.model.js';
import { findBusinessesByIds } from '../businesses/businesses.repository.js';
import type { ServiceModel } from '../services/service.model.js';
import { findServicesByIds } from '../services/services.repository.js';
import { freeTextInput } from '../shared/free-text.js';
import { rawIdOf, type NodeType } from '../shared/global-id.js';
import type { Step } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { abort } from '../shared/user-errors.js';
import { canonicalLocale, isKnownLocale } from '../shared/locales.js';
import type { TranslationModel, TranslationTarget } from './translation.model.js';
import { countTranslations, deleteTranslation, lockTranslation, upsertTranslation } from './translations.repository.js';

/** The translation tables' limits (migration 20261201000510). */
export const MAX_TRANSLATED_NAME_LENGTH = 200;
export const MAX_TRANSLATED_DESCRIPTION_LENGTH = 2000;
/** Locales besides the default per business and per service: the bound the query cost counts (query-cost.ts). */
export const MAX_TRANSLATIONS = 20;

const LOCALE_FIELD = ['input', 'locale'];

/** What a translation mutation names, checked before any statement. */
export interface TranslationRequest {
  /** The raw id of the business or service. */
  id: string;
  locale: string;
}

// Another tenant's business or service must read exactly like a missing one: both get this answer.
function notFound(type: NodeType, gid: string, field: string[]): never {
  abort('NOT_FOUND', `Expected the ID of a ${type === 'Business' ? 'business' : 'service'} you may manage, got "${gid}".`, field);
}

/** A locale input in canonical case; a malformed or unknown tag is a user error. */
export function localeInput(value: string): string {
  const locale = canonicalLocale(value);
  if (locale === null) abort('INVALID_INPUT', `Expected \`locale\` to be a BCP 47 language tag such as \`ja\` or \`en-GB\`, got "${value.slice(0, 40)}".`, LOCALE_FIELD);
  if (!isKnownLocale(locale)) abort('INVALID_INPUT', `Expected \`locale\` to name a known language (and region or script), got "${locale}".`, LOCALE_FIELD);
  return locale;
}

/** The object's raw id and the canonical locale; a malformed ID reads NOT_FOUND. */
export function translationRequestOf(type: NodeType, gid: string, locale: string): TranslationRequest {
  const field = ['input', type === 'Business' ? 'businessId' : 'serviceId'];
  const id = rawIdOf(gid, type);
  if (!id) notFound(type, gid, field);
  return { id, locale: localeInput(locale) };
}

/** The name and description of a translation input: trimmed, NFC, within the limits; a blank description is none. */
export function translatedText(input: { name: string; description?: string | null }): { name: string; description: string | null } {
  const name = freeTextInput(input.name, ['input', 'name'], MAX_TRANSLATED_NAME_LENGTH);
  if (name === '') abort('INVALID_INPUT', 'Expected `name` to be 1 to 200 characters long, got a blank one.', ['input', 'name']);
  const description = input.description == null ? null : freeTextInput(input.description, ['input', 'description'], MAX_TRANSLATED_DESCRIPTION_LENGTH);
  return { name, description: description === '' ? null : description };
}

/** The live business a staff member or admin may translate, or NOT_FOUND. */
async function businessToTranslate(trx: Trx, viewer: Viewer, gid: string, id: string): Promise<BusinessModel> {
  const [business] = await findBusinessesByIds(trx, [id]);
  if (!business || !isStaffOf(viewer, business.id)) notFound('Business', gid, ['input', 'businessId']);
  return business;
}

/** The live service a staff member of its business or an admin may translate, or NOT_FOUND. */
async function serviceToTranslate(trx: Trx, viewer: Viewer, gid: string, id: string): Promise<ServiceModel> {
  const [service] = await findServicesByIds(trx, [id]);
  if (!service || !isStaffOf(viewer, service.businessId)) notFound('Service', gid, ['input', 'serviceId']);
  return service;
}

function refuseDefaultLocale(locale: string, defaultLocale: string): void {
  if (locale === defaultLocale) {
    abort('INVALID_INPUT', `Expected a locale other than the business's default locale "${defaultLocale}" (its own name and description are in it; change them instead), got "${locale}".`, LOCALE_FIELD);
  }
}

const sameText = (a: TranslationModel, b: TranslationModel) => a.name === b.name && a.description === b.description;

/**
 * Sets the translation and returns what to audit, or nothing when it already reads so (a retried
 * request writes nothing and the trail records only real changes).
 */
async function setTranslation(trx: Trx, target: TranslationTarget, translation: TranslationModel) {
  const before = await lockTranslation(trx, target, translation.locale);
  if (before && sameText(before, translation)) return null;
  if (!before && (await countTranslations(trx, target)) >= MAX_TRANSLATIONS) {
    abort('INVALID_INPUT', `Expected at most ${MAX_TRANSLATIONS} translations of a ${target.kind}, which has them all; remove one first.`, LOCALE_FIELD);
  }
  await upsertTranslation(trx, target, translation);
  const after = { name: translation.name, description: translation.description };
  return { locale: translation.locale, ...(before ? { before: { name: before.name, description: before.description } } : {}), after };
}

async function removeTranslation(trx: Trx, target: TranslationTarget, locale: string) {
  const before = await deleteTranslation(trx, target, locale);
  return before ? { locale, before: { name: before.name, description: before.description } } : null;
}

export async function setBusinessTranslation(trx: Trx, viewer: Viewer, gid: string, request: TranslationRequest, text: { name: string; description: string | null }): Promise<Step<BusinessModel>> {
  const business = await businessToTranslate(trx, viewer, gid, request.id);
  refuseDefaultLocale(request.locale, business.defaultLocale);
  const changes = await setTranslation(trx, { kind: 'business', businessId: business.id }, { locale: request.locale, ...text });
  if (!changes) return { value: business };
  return { value: business, audit: [{ businessId: business.id, entity: 'business', entityId: business.id, action: 'business.translation_set', changes }] };
}

export async function removeBusinessTranslation(trx: Trx, viewer: Viewer, gid: string, request: TranslationRequest): Promise<Step<BusinessModel>> {
  const business = await businessToTranslate(trx, viewer, gid, request.id);
  const changes = await removeTranslation(trx, { kind: 'business', businessId: business.id }, request.locale);
  if (!changes) return { value: business };
  return { value: business, audit: [{ businessId: business.id, entity: 'business', entityId: business.id, action: 'business.translation_removed', changes }] };
}

export async function setServiceTranslation(trx: Trx, viewer: Viewer, gid: string, request: TranslationRequest, text: { name: string; description: string | null }): Promise<Step<ServiceModel>> {
  const service = await serviceToTranslate(trx, viewer, gid, request.id);
  refuseDefaultLocale(request.locale, service.defaultLocale);
  const changes = await setTranslation(trx, { kind: 'service', businessId: service.businessId, serviceId: service.id }, { locale: request.locale, ...text });
  if (!changes) return { value: service };
  return { value: service, audit: [{ businessId: service.businessId, entity: 'service', entityId: service.id, action: 'service.translation_set', changes }] };
}

export async function removeServiceTranslation(trx: Trx, viewer: Viewer, gid: string, request: TranslationRequest): Promise<Step<ServiceModel>> {
  const service = await serviceToTranslate(trx, viewer, gid, request.id);
  const changes = await removeTranslation(trx, { kind: 'service', businessId: service.businessId, serviceId: service.id }, request.locale);
  if (!changes) return { value: service };
  return { value: service, audit: [{ businessId: service.businessId, entity: 'service', entityId: service.id, action: 'service.translation_removed', changes }] };
}
