import type { PaymentStatus } from '../__generated__/resolvers-types.js';

/** A payment as the layers above the repository see it. */
export interface PaymentModel {
  id: string;
  businessId: string;
  bookingId: string;
  provider: string;
  providerTxnId: string;
  amountCents: number;
  currency: string;
  status: PaymentStatus;
  createdAt: string;
}
