import { inKeyOrder, type LoaderRegistry } from '../shared/loader-registry.js';
import type { PaymentModel } from './payment.model.js';
import { findPaymentsByBookingIds, findPaymentsByIds } from './payments.repository.js';

/** Payments by id, unfiltered: `node(id)` checks the booking's visibility before returning one. */
export function paymentById(loaders: LoaderRegistry) {
  return loaders.get<string, PaymentModel | null>('PaymentById', async (ids) =>
    inKeyOrder(ids, await findPaymentsByIds(loaders.db, ids)),
  );
}

/** A visible booking's payments are visible with it. */
export function paymentsByBookingId(loaders: LoaderRegistry) {
  return loaders.get<string, PaymentModel[]>('PaymentsByBookingId', async (bookingIds) => {
    const groups = await findPaymentsByBookingIds(loaders.db, bookingIds);
    return bookingIds.map((id) => groups.get(id) ?? []);
  });
}
