/** A service as the layers above the repository see it; `currency` is its business's. */
export interface ServiceModel {
  id: string;
  businessId: string;
  name: string;
  durationMinutes: number;
  priceCents: number;
  currency: string;
  isActive: boolean;
  bufferBeforeMinutes: number;
  bufferAfterMinutes: number;
  description: string | null;
  /** When it was archived (never active again); null while live. */
  archivedAt: string | null;
}
