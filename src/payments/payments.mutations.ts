import type { Resolvers } from '../__generated__/resolvers-types.js';
import { bookingById } from '../bookings/bookings.loaders.js';
import { rememberById, type ResultMemory } from '../idempotency/idempotent-mutation.js';
import type { RequestContext } from '../server/context.js';
import { mutation, roles } from '../shared/mutation.js';
import type { PaymentModel } from './payment.model.js';
import { paymentById } from './payments.loaders.js';
import { findPaymentForStaff, recordRefund, recordStartedPayment, refundAtProvider, startPayment, type CreatedPaymentResult } from './payments.actions.js';

/** A payment is visible exactly when its booking is (as through `node`). */
async function loadVisiblePayment(context: RequestContext, id: string): Promise<PaymentModel | null> {
  const payment = await paymentById(context.loaders).load(id);
  return payment && (await bookingById(context.loaders).load(payment.bookingId)) ? payment : null;
}

/** A retried `paymentCreate` gets the same payment and client secret back. */
function rememberCreatedPayment(context: RequestContext): ResultMemory<CreatedPaymentResult> {
  return {
    save: (value) => ({ paymentId: value.payment.id, clientSecret: value.clientSecret }),
    restore: async (saved) => {
      const { paymentId, clientSecret } = saved as { paymentId: string; clientSecret: string };
      const payment = await loadVisiblePayment(context, paymentId);
      return payment && { payment, clientSecret };
    },
  };
}

const PAYMENT_ID_FIELD = ['input', 'paymentId'];

export const paymentMutations: Resolvers = {
  Mutation: {
    paymentCreate: mutation({
      name: 'paymentCreate',
      who: { expected: "the booking's customer, staff or an admin token to start a payment", scope: roles('ADMIN', 'STAFF', 'CUSTOMER') },
      outside: ({ viewer, input, app, idempotencyKey }, db) => startPayment(db, { providers: app.paymentProviders, log: app.log }, viewer, input, idempotencyKey),
      inside: (trx, { input, prepared }) => recordStartedPayment(trx, prepared, input),
      remember: rememberCreatedPayment,
      payload: (value) => ({ payment: value?.payment ?? null, clientSecret: value?.clientSecret ?? null }),
    }),
    paymentRefund: mutation({
      name: 'paymentRefund',
      who: { expected: 'a staff or admin token to refund a payment', scope: roles('ADMIN', 'STAFF') },
      outside: async ({ viewer, input, app }, db) => {
        const payment = await findPaymentForStaff(db, viewer, input);
        return { payment, refund: await refundAtProvider({ providers: app.paymentProviders, log: app.log }, payment, PAYMENT_ID_FIELD) };
      },
      inside: (trx, { prepared: { payment, refund } }) => recordRefund(trx, payment, refund, PAYMENT_ID_FIELD),
      remember: (context) => rememberById((id) => loadVisiblePayment(context, id)),
      payload: (payment) => ({ payment }),
    }),
  },
};
