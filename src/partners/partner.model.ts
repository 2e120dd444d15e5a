/** A partner as the layers above the repository see it. */
export interface PartnerModel {
  id: string;
  businessId: string;
  name: string;
  city: string;
  isActive: boolean;
  /**
   * Pending and confirmed bookings from now on, when the statement that read the partner read it
   * too (pages, availability, writes). A partner by id comes from the catalog cache without it:
   * it changes with every booking. Partner.activeBookingCount loads it when absent.
   */
  activeBookingCount?: number;
  /** When they were archived (never active again); null while on the team. */
  archivedAt: string | null;
}
