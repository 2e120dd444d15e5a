import type { Resolvers } from '../__generated__/resolvers-types.js';
import { bookingById } from '../bookings/bookings.loaders.js';
import { rememberById, withIdempotency, type ResultMemory, type UnitOfWork } from '../idempotency/idempotent-mutation.js';
import type { RequestContext } from '../server/context.js';
import { toPayload } from '../shared/payload.js';
import { ok } from '../shared/user-errors.js';
import type { PaymentModel } from './payment.model.js';
import { paymentById } from './payments.loaders.js';
import { createPayment, refundPaymentForStaff, type CreatedPaymentResult, type PaymentActionContext } from './payments.actions.js';

const actionContext = (context: RequestContext, unit: UnitOfWork): PaymentActionContext => ({
  db: unit.db,
  viewer: context.viewer,
  providers: context.app.paymentProviders,
  log: context.app.log,
  changes: unit.changes,
});

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

export const paymentMutations: Resolvers = {
  Mutation: {
    paymentCreate: async (_, { input }, context) => {
      const result = await withIdempotency(context, 'paymentCreate', input, (unit) => createPayment(actionContext(context, unit), input), rememberCreatedPayment(context));
      return {
        ...toPayload(context, 'payment', result.ok ? ok(result.value.payment) : result),
        clientSecret: result.ok ? result.value.clientSecret : null,
      };
    },
    paymentRefund: async (_, { input }, context) =>
      toPayload(
        context,
        'payment',
        await withIdempotency(context, 'paymentRefund', input, (unit) => refundPaymentForStaff(actionContext(context, unit), input), rememberById((id) => loadVisiblePayment(context, id))),
      ),
  },
};
