/** A partner as the layers above the repository see it. */
export interface PartnerModel {
  id: string;
  businessId: string;
  name: string;
  city: string;
  isActive: boolean;
  activeBookingCount: number;
  /** When they were archived (never active again); null while on the team. */
  archivedAt: string | null;
}
