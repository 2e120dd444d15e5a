import type { StatsGranularity } from '../__generated__/resolvers-types.js';

export type { StatsGranularity };

/** A bucket's sums as findStatsRows reads them from the rollups. */
export interface StatsRowModel {
  businessId: string;
  /** The bucket's first day, `YYYY-MM-DD` (Monday for WEEK, the 1st for MONTH), before clipping to the range. */
  bucket: string;
  bookings: number;
  pending: number;
  confirmed: number;
  cancelled: number;
  completed: number;
  noShow: number;
  bookedMinutes: number;
  openMinutes: number;
  newCustomers: number;
  returningBookings: number;
  leadMinutes: number;
  capturedCents: number;
  refundedCents: number;
}

/** A bucket of Business.stats, as the schema's StatsBucket. */
export interface StatsBucketModel {
  start: string;
  end: string;
  bookings: { total: number; pending: number; confirmed: number; cancelled: number; completed: number; noShow: number };
  capturedCents: number;
  refundedCents: number;
  revenueCents: number;
  currency: string;
  cancellationRate: number | null;
  noShowRate: number | null;
  bookedMinutes: number;
  openMinutes: number;
  utilisation: number | null;
  newCustomers: number;
  returningCustomerBookings: number;
  averageLeadTimeMinutes: number | null;
}

/** Business.stats, as the schema's BusinessStats. */
export interface BusinessStatsModel {
  from: string;
  to: string;
  granularity: StatsGranularity;
  currency: string;
  buckets: StatsBucketModel[];
  total: StatsBucketModel;
}
