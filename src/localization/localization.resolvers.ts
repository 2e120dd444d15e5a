import type { Resolvers } from '../__generated__/resolvers-types.js';
import type { RequestContext } from '../server/context.js';
import { badUserInput } from '../shared/errors.js';
import { canonicalLocale, chooseLocale } from '../shared/locales.js';
import type { TranslationModel } from './translation.model.js';
import { businessTranslationsByBusinessId, serviceTranslationsByServiceId } from './translations.loaders.js';

/** The row's own text, in its default locale, and how to load its translations. */
interface Localizable {
  name: string;
  description: string | null;
  defaultLocale: string;
  translations: (context: RequestContext) => Promise<TranslationModel[]>;
}

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
function localized(object: Localizable, field: 'name' | 'description', locale: string | null | undefined, context: RequestContext): Served | Promise<Served> {
  const preferences = preferencesOf(locale, context);
  const own = { locale: object.defaultLocale, text: object[field] };
  if (preferences.length === 0 || preferences[0] === object.defaultLocale) return own;
  return object.translations(context).then((translations) => {
    const byLocale = new Map(translations.map((t) => [t.locale, t]));
    const chosen = chooseLocale(preferences, object.defaultLocale, (l) => {
      const translation = byLocale.get(l);
      return translation !== undefined && translation[field] !== null;
    });
    return chosen === object.defaultLocale ? own : { locale: chosen, text: byLocale.get(chosen)![field] };
  });
}

/** Applies `read` to what `localized` served, without a promise when it answered at once. */
function then<T>(served: Served | Promise<Served>, read: (served: Served) => T): T | Promise<T> {
  return served instanceof Promise ? served.then(read) : read(served);
}

const text = (served: Served) => served.text;
const textLocale = (served: Served) => (served.text === null ? null : served.locale);

function business(model: { id: string; name: string; description: string | null; defaultLocale: string }): Localizable {
  return { ...model, translations: ({ loaders }) => businessTranslationsByBusinessId(loaders).load(model.id) };
}

function service(model: { id: string; name: string; description: string | null; defaultLocale: string }): Localizable {
  return { ...model, translations: ({ loaders }) => serviceTranslationsByServiceId(loaders).load(model.id) };
}

export const localizationResolvers: Resolvers = {
  Business: {
    name: (b, { locale }, context) => then(localized(business(b), 'name', locale, context), text) as string | Promise<string>,
    nameLocale: (b, { locale }, context) => then(localized(business(b), 'name', locale, context), (served) => served.locale),
    description: (b, { locale }, context) => then(localized(business(b), 'description', locale, context), text),
    descriptionLocale: (b, { locale }, context) => then(localized(business(b), 'description', locale, context), textLocale),
    translations: (b, _, { loaders }) => businessTranslationsByBusinessId(loaders).load(b.id),
  },
  Service: {
    name: (s, { locale }, context) => then(localized(service(s), 'name', locale, context), text) as string | Promise<string>,
    nameLocale: (s, { locale }, context) => then(localized(service(s), 'name', locale, context), (served) => served.locale),
    description: (s, { locale }, context) => then(localized(service(s), 'description', locale, context), text),
    descriptionLocale: (s, { locale }, context) => then(localized(service(s), 'description', locale, context), textLocale),
    translations: (s, _, { loaders }) => serviceTranslationsByServiceId(loaders).load(s.id),
  },
};
