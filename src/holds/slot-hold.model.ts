/** A hold as the layers above the repository see it (times are RFC 3339 UTC strings). */
export interface SlotHoldModel {
  id: string;
  businessId: string;
  partnerId: string;
  serviceId: string;
  /** Null for a guest's hold (guestBookingStart) until its booking is made. */
  customerId: string | null;
  startsAt: string;
  endsAt: string;
  expiresAt: string;
}
