import { insertAuditLogs } from '../audit/audit.repository.js';
import { ANONYMOUS, type Viewer } from '../auth/viewer.js';
import {
  setBusinessTranslation,
  setServiceTranslation,
  translatedText,
  translationRequestOf,
} from '../localization/translations.actions.js';
import { toGlobalId } from '../shared/global-id.js';
import type { Trx } from '../shared/transaction.js';
import type { BusinessSpec } from './demo-businesses.js';

/** The seed acts as a platform admin; its audit rows name it as the rest of the seed does. */
const SEED_VIEWER: Viewer = { ...ANONYMOUS, role: 'ADMIN', subject: 'seed', admin: true };
const SEED_ACTOR = 'system:seed';

/**
 * The demo businesses' translations, written through the same actions as businessTranslationSet
 * and serviceTranslationSet (their checks of locale, lengths and default locale included), inside
 * the seed's transaction.
 */
export async function translateDemoCatalog(trx: Trx, businesses: Array<{ id: string; spec: BusinessSpec; serviceIdOf: (name: string) => string }>): Promise<void> {
  for (const { id, spec, serviceIdOf } of businesses) {
    for (const [locale, text] of Object.entries(spec.translations ?? {})) {
      const gid = toGlobalId('Business', id);
      const step = await setBusinessTranslation(trx, SEED_VIEWER, gid, translationRequestOf('Business', gid, locale), translatedText(text));
      await insertAuditLogs(trx, (step.audit ?? []).map((entry) => ({ ...entry, actor: SEED_ACTOR })));
    }
    for (const service of spec.services) {
      for (const [locale, text] of Object.entries(service.translations ?? {})) {
        const gid = toGlobalId('Service', serviceIdOf(service.name));
        const step = await setServiceTranslation(trx, SEED_VIEWER, gid, translationRequestOf('Service', gid, locale), translatedText(text));
        await insertAuditLogs(trx, (step.audit ?? []).map((entry) => ({ ...entry, actor: SEED_ACTOR })));
      }
    }
  }
}
