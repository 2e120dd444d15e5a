/** A hold as the layers above the repository see it (times are RFC 3339 UTC strings). */
export interface SlotHoldModel {
  id: string;
  businessId: string;
  partnerId: string;
  serviceId: string;
  customerId: string;
  startsAt: string;
  endsAt: string;
  expiresAt: string;
}
