import type { Resolvers } from '../__generated__/resolvers-types.js';
import { businessIdOf, staffOfInput } from '../businesses/business-input.js';
import { rememberById } from '../idempotency/idempotent-mutation.js';
import type { RequestContext } from '../server/context.js';
import { mutation, signedIn } from '../shared/mutation.js';
import type { CustomerModel } from './customer.model.js';
import { checkCustomerCreate, createCustomer, customerIdOf, updateCustomerById, updateCustomerNotificationPreferences } from './customers.actions.js';
import { customerById } from './customers.loaders.js';

const rememberCustomer = (context: RequestContext) => rememberById((id) => customerById(context.loaders).load(id));
const customerPayload = (customer: CustomerModel | null) => ({ customer });

export const customerMutations: Resolvers = {
  Mutation: {
    customerCreate: mutation({
      name: 'customerCreate',
      who: { expected: 'a staff token of the business (or an admin) to add a customer', scope: staffOfInput },
      outside: async ({ input }) => ({ businessId: businessIdOf(input), draft: checkCustomerCreate(input) }),
      inside: (trx, { input, prepared }) => createCustomer(trx, prepared.businessId, input, prepared.draft),
      remember: rememberCustomer,
      payload: customerPayload,
    }),
    customerUpdate: mutation({
      name: 'customerUpdate',
      who: { expected: 'a signed-in staff member of the business (or an admin) to change a customer', scope: signedIn },
      outside: async ({ input }) => customerIdOf(input),
      inside: (trx, { viewer, input, prepared: id }) => updateCustomerById(trx, viewer, id, input),
      remember: rememberCustomer,
      payload: customerPayload,
    }),
    customerNotificationPreferencesUpdate: mutation({
      name: 'customerNotificationPreferencesUpdate',
      who: { expected: 'the customer themselves, or a staff member of the business (or an admin), to change how a customer is notified', scope: signedIn },
      outside: async ({ input }) => customerIdOf(input),
      inside: (trx, { viewer, input, prepared: id }) => updateCustomerNotificationPreferences(trx, viewer, id, input),
      remember: rememberCustomer,
      payload: customerPayload,
    }),
  },
};
