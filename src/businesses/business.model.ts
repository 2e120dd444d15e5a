import type { BusinessKind } from '../__generated__/resolvers-types.js';

/** A business as the layers above the repository see it. */
export interface BusinessModel {
  id: string;
  slug: string;
  /** In `defaultLocale`; translations are read beside it (src/localization/). */
  name: string;
  description: string | null;
  /** The BCP 47 locale of the business's own name and description (and its services'). */
  defaultLocale: string;
  kind: BusinessKind;
  city: string;
  timeZone: string;
  currency: string;
  slotMinutes: number;
  minNoticeMinutes: number;
  maxAdvanceDays: number;
  cancellationWindowMinutes: number;
  /** Hours before a booking's start its customer is reminded; 0: never. */
  reminderHours: number;
  /** When it was archived; null while live. An archived business is out of the catalog and takes no bookings. */
  archivedAt: string | null;
}
