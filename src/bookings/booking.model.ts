import type { BookingStatus } from '../__generated__/resolvers-types.js';

/** A booking as the layers above the repository see it (times are RFC 3339 UTC strings). */
export interface BookingModel {
  id: string;
  businessId: string;
  customerId: string;
  partnerId: string;
  serviceId: string;
  startsAt: string;
  endsAt: string;
  status: BookingStatus;
  cancelReason: string | null;
  totalCents: number;
  currency: string;
  createdAt: string;
}
