import type { Resolvers } from '../__generated__/resolvers-types.js';
import { businessById } from '../businesses/businesses.loaders.js';
import { rememberById } from '../idempotency/idempotent-mutation.js';
import { serviceById } from '../services/services.loaders.js';
import { mutation, roles } from '../shared/mutation.js';
import {
  removeBusinessTranslation,
  removeServiceTranslation,
  setBusinessTranslation,
  setServiceTranslation,
  translatedText,
  translationRequestOf,
} from './translations.actions.js';

/**
 * Translations of a business's catalog. Staff and admins may call them; whose business it is is
 * decided inside (isStaffOf), where another tenant's business or service reads like a missing one.
 * Every input is checked outside the transaction, before any statement.
 */
const staffOrAdmin = roles('ADMIN', 'STAFF');

export const translationMutations: Resolvers = {
  Mutation: {
    businessTranslationSet: mutation({
      name: 'businessTranslationSet',
      who: { expected: 'an admin or staff token to translate a business', scope: staffOrAdmin },
      outside: async ({ input }) => ({ request: translationRequestOf('Business', input.businessId, input.locale), text: translatedText(input) }),
      inside: (trx, { viewer, input, prepared }) => setBusinessTranslation(trx, viewer, input.businessId, prepared.request, prepared.text),
      remember: (context) => rememberById((id) => businessById(context.loaders).load(id)),
      payload: (business) => ({ business }),
    }),
    businessTranslationRemove: mutation({
      name: 'businessTranslationRemove',
      who: { expected: 'an admin or staff token to translate a business', scope: staffOrAdmin },
      outside: async ({ input }) => translationRequestOf('Business', input.businessId, input.locale),
      inside: (trx, { viewer, input, prepared }) => removeBusinessTranslation(trx, viewer, input.businessId, prepared),
      remember: (context) => rememberById((id) => businessById(context.loaders).load(id)),
      payload: (business) => ({ business }),
    }),
    serviceTranslationSet: mutation({
      name: 'serviceTranslationSet',
      who: { expected: 'an admin or staff token to translate a service', scope: staffOrAdmin },
      outside: async ({ input }) => ({ request: translationRequestOf('Service', input.serviceId, input.locale), text: translatedText(input) }),
      inside: (trx, { viewer, input, prepared }) => setServiceTranslation(trx, viewer, input.serviceId, prepared.request, prepared.text),
      remember: (context) => rememberById((id) => serviceById(context.loaders).load(id)),
      payload: (service) => ({ service }),
    }),
    serviceTranslationRemove: mutation({
      name: 'serviceTranslationRemove',
      who: { expected: 'an admin or staff token to translate a service', scope: staffOrAdmin },
      outside: async ({ input }) => translationRequestOf('Service', input.serviceId, input.locale),
      inside: (trx, { viewer, input, prepared }) => removeServiceTranslation(trx, viewer, input.serviceId, prepared),
      remember: (context) => rememberById((id) => serviceById(context.loaders).load(id)),
      payload: (service) => ({ service }),
    }),
  },
};
