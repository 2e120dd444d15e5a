import type { Resolvers } from '../__generated__/resolvers-types.js';
import type { RequestContext } from '../server/context.js';
import { badUserInput } from '../shared/errors.js';
import { canonicalLocale, chooseLocale } from '../shared/locales.js';
import type { TranslationModel } from './translation.model.js';
import { businessTranslationsByBusinessId, serviceTranslationsByServiceId } from './translations.loaders.js';

/** The row's own text, in its default locale. */
interface LocalizableRow {
  id: string;
  name: string;
  description: string | null;
  defaultLocale: string;
}

/** How to load a row's translations (one loader per table). */
type TranslationsOf = (id: string, context: RequestContext) => Promise<TranslationModel[]>;

const businessTranslations: TranslationsOf = (id, { loaders }) => businessTranslationsByBusinessId(loaders).load(id);
const serviceTranslations: TranslationsOf = (id, { loaders }) => serviceTranslationsByServiceId(loaders).load(id);

/** The locales to try for a field: its `locale` argument alone, else the request's Accept-Language. */
function preferencesOf(locale: string | null | undefined, context: RequestContext): readonly string[] {
  if (locale === null || locale === undefined) return context.locales;
  const canonical = canonicalLocale(locale);
  if (canonical === null) throw badUserInput(`Expected \`locale\` to be a BCP 47 language tag such as \`ja\` or \`en-GB\`, got "${locale.slice(0, 40)}".`, 'locale');
  return [canonical];
}

interface Served {
  locale: string;
  text: string | null;
}

/**
 * A name or description in the best locale the object has for this field. Without a preference,
 * or when the first one is the default locale, nothing is loaded and nothing is awaited: the row
 * itself answers, so the default language costs no statement (the nested-page hot path).
 */
function localized(object: LocalizableRow, translationsOf: TranslationsOf, field: 'name' | 'description', locale: string | null | undefined, context: RequestContext): Served | Promise<Served> {
  const preferences = preferencesOf(locale, context);
  const own = { locale: object.defaultLocale, text: object[field] };
  if (preferences.length === 0 || preferences[0] === object.defaultLocale) return own;
  return translationsOf(object.id, context).then((translations) => {
    const byLocale = new Map(translations.map((t) => [t.locale, t]));
    const chosen = chooseLocale(preferences, object.defaultLocale, (l) => {
      const translation = byLocale.get(l);
      return translation !== undefined && translation[field] !== null;
    });
    return chosen === object.defaultLocale ? own : { locale: chosen, text: byLocale.get(chosen)![field] };
  });
}

/**
 * Whether the row's own text answers at once: no `locale` argument and no Accept-Language, or one
 * whose first choice is the row's default locale. The common case, checked before anything is
 * allocated (a page of 200 bookings asks this 400 times).
 */
function ownTextServes(object: LocalizableRow, locale: string | null | undefined, context: RequestContext): boolean {
  if (locale !== null && locale !== undefined) return false;
  const preferences = context.locales;
  return preferences.length === 0 || preferences[0] === object.defaultLocale;
}

/** Applies `read` to what `localized` served, without a promise when it answered at once. */
function then<T>(served: Served | Promise<Served>, read: (served: Served) => T): T | Promise<T> {
  return served instanceof Promise ? served.then(read) : read(served);
}

const text = (served: Served) => served.text;
const servedLocale = (served: Served) => served.locale;
const textLocale = (served: Served) => (served.text === null ? null : served.locale);

export const localizationResolvers: Resolvers = {
  Business: {
    name: (b, { locale }, context) => (ownTextServes(b, locale, context) ? b.name : (then(localized(b, businessTranslations, 'name', locale, context), text) as string | Promise<string>)),
    nameLocale: (b, { locale }, context) => then(localized(b, businessTranslations, 'name', locale, context), servedLocale),
    description: (b, { locale }, context) => (ownTextServes(b, locale, context) ? b.description : then(localized(b, businessTranslations, 'description', locale, context), text)),
    descriptionLocale: (b, { locale }, context) => then(localized(b, businessTranslations, 'description', locale, context), textLocale),
    translations: (b, _, { loaders }) => businessTranslationsByBusinessId(loaders).load(b.id),
  },
  Service: {
    name: (s, { locale }, context) => (ownTextServes(s, locale, context) ? s.name : (then(localized(s, serviceTranslations, 'name', locale, context), text) as string | Promise<string>)),
    nameLocale: (s, { locale }, context) => then(localized(s, serviceTranslations, 'name', locale, context), servedLocale),
    description: (s, { locale }, context) => (ownTextServes(s, locale, context) ? s.description : then(localized(s, serviceTranslations, 'description', locale, context), text)),
    descriptionLocale: (s, { locale }, context) => then(localized(s, serviceTranslations, 'description', locale, context), textLocale),
    translations: (s, _, { loaders }) => serviceTranslationsByServiceId(loaders).load(s.id),
  },
};
