import type { BusinessKind } from '../__generated__/resolvers-types.js';

/** A business as the layers above the repository see it. */
export interface BusinessModel {
  id: string;
  slug: string;
  name: string;
  kind: BusinessKind;
  city: string;
  timeZone: string;
  currency: string;
  slotMinutes: number;
  minNoticeMinutes: number;
  maxAdvanceDays: number;
  cancellationWindowMinutes: number;
  description: string | null;
  defaultLocale: string;
  /** When it was archived; null while live. An archived business is out of the catalog and takes no bookings. */
  archivedAt: string | null;
}
