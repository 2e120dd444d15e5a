import type { LoaderRegistry } from '../shared/loader-registry.js';
import type { TranslationModel } from './translation.model.js';
import { findBusinessTranslationsByBusinessIds, findServiceTranslationsByServiceIds } from './translations.repository.js';

/**
 * Every translation of a business (of a service), whatever locale the request asks for: the
 * resolvers choose among them per field, so one batch serves a field's `locale` argument and the
 * request's Accept-Language alike, and the loaders do not depend on the locale at all.
 */
export function businessTranslationsByBusinessId(loaders: LoaderRegistry) {
  return loaders.get<string, TranslationModel[]>('BusinessTranslationsByBusinessId', async (ids) => {
    const byBusiness = await findBusinessTranslationsByBusinessIds(await loaders.read(), ids);
    return ids.map((id) => byBusiness.get(id) ?? []);
  });
}

export function serviceTranslationsByServiceId(loaders: LoaderRegistry) {
  return loaders.get<string, TranslationModel[]>('ServiceTranslationsByServiceId', async (ids) => {
    const byService = await findServiceTranslationsByServiceIds(await loaders.read(), ids);
    return ids.map((id) => byService.get(id) ?? []);
  });
}
