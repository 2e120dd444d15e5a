import type { SlotStatus } from '../__generated__/resolvers-types.js';

/** A slot as the layers above the repository see it (times are RFC 3339 UTC strings). */
export interface SlotModel {
  id: string;
  businessId: string;
  partnerId: string;
  startsAt: string;
  endsAt: string;
  status: SlotStatus;
  bookingId: string | null;
}
