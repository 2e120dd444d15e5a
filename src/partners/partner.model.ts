/** A partner as the layers above the repository see it. */
export interface PartnerModel {
  id: string;
  businessId: string;
  name: string;
  city: string;
  isActive: boolean;
  activeBookingCount: number;
}
