/** A service as the layers above the repository see it; `currency` is its business's. */
export interface ServiceModel {
  id: string;
  businessId: string;
  /** In `defaultLocale`, its business's; translations are read beside it (src/localization/). */
  name: string;
  description: string | null;
  defaultLocale: string;
  durationMinutes: number;
  priceCents: number;
  currency: string;
  isActive: boolean;
  bufferBeforeMinutes: number;
  bufferAfterMinutes: number;
  /** When it was archived (never active again); null while live. */
  archivedAt: string | null;
}
