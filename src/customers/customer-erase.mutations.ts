import type { Resolvers } from '../__generated__/resolvers-types.js';
import { rememberById } from '../idempotency/idempotent-mutation.js';
import { mutation } from '../shared/mutation.js';
import { eraseCustomerData, eraserOf } from './customer-erase.actions.js';
import { findCustomersByIds } from './customers.repository.js';

export const customerEraseMutations: Resolvers = {
  Mutation: {
    customerErase: mutation({
      name: 'customerErase',
      who: { expected: "the customer's own, an owner's, staff or admin token to erase a customer", scope: eraserOf },
      inside: (trx, { viewer, input }) => eraseCustomerData(trx, viewer, input),
      // The erased record is brought back unfiltered: after an erasure of one's own record, the
      // account no longer holds it, and a retry still gets its answer.
      remember: (context) => rememberById(async (id) => (await findCustomersByIds(context.app.db, [id]))[0] ?? null),
      payload: (customer) => ({ customer }),
    }),
  },
};
