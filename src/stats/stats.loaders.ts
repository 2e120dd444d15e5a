import type { BusinessModel } from '../businesses/business.model.js';
import { argsKey, type LoaderRegistry } from '../shared/loader-registry.js';
import type { BusinessStatsModel, StatsBucketModel, StatsRowModel } from './stats.model.js';
import { findStatsRows, type StatsRangeArgs } from './stats.repository.js';

/**
 * Business.stats for every business asked with the same arguments: one statement, on the request's
 * read handle (a replica when one serves: reporting tolerates a moment's lag).
 */
export function statsRowsByBusinessId(loaders: LoaderRegistry, args: StatsRangeArgs) {
  return loaders.get<string, StatsRowModel[]>(`StatsRowsByBusinessId:${argsKey(args)}`, async (businessIds) => {
    const rows = await findStatsRows(await loaders.read(), businessIds, args);
    return businessIds.map((id) => rows.filter((row) => row.businessId === id));
  });
}

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` plus `days` calendar days (UTC arithmetic on dates: no zone is involved). */
function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** The first day of the bucket after the one starting at `start`. */
function nextBucket(start: string, granularity: StatsRangeArgs['granularity']): string {
  if (granularity === 'DAY') return addDays(start, 1);
  if (granularity === 'WEEK') return addDays(start, 7);
  const [year, month] = start.split('-').map(Number);
  return `${month === 12 ? year + 1 : year}-${String((month % 12) + 1).padStart(2, '0')}-01`;
}

/** The first day of the bucket holding `date`, as findStatsRows truncates it. */
function bucketOf(date: string, granularity: StatsRangeArgs['granularity']): string {
  if (granularity === 'DAY') return date;
  if (granularity === 'MONTH') return `${date.slice(0, 8)}01`;
  const weekday = (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7; // Monday 0
  return addDays(date, -weekday);
}

const EMPTY: Omit<StatsRowModel, 'businessId' | 'bucket'> = {
  bookings: 0, pending: 0, confirmed: 0, cancelled: 0, completed: 0, noShow: 0, bookedMinutes: 0, openMinutes: 0,
  newCustomers: 0, returningBookings: 0, leadMinutes: 0, capturedCents: 0, refundedCents: 0,
};

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

function bucketModel(start: string, end: string, sums: Omit<StatsRowModel, 'businessId' | 'bucket'>, currency: string): StatsBucketModel {
  return {
    start,
    end,
    bookings: { total: sums.bookings, pending: sums.pending, confirmed: sums.confirmed, cancelled: sums.cancelled, completed: sums.completed, noShow: sums.noShow },
    capturedCents: sums.capturedCents,
    refundedCents: sums.refundedCents,
    revenueCents: sums.capturedCents - sums.refundedCents,
    currency,
    cancellationRate: ratio(sums.cancelled, sums.bookings),
    noShowRate: ratio(sums.noShow, sums.bookings - sums.cancelled),
    bookedMinutes: sums.bookedMinutes,
    openMinutes: sums.openMinutes,
    utilisation: ratio(sums.bookedMinutes, sums.openMinutes),
    newCustomers: sums.newCustomers,
    returningCustomerBookings: sums.returningBookings,
    averageLeadTimeMinutes: ratio(sums.leadMinutes, sums.bookings),
  };
}

function added(a: Omit<StatsRowModel, 'businessId' | 'bucket'>, b: Omit<StatsRowModel, 'businessId' | 'bucket'>) {
  return Object.fromEntries(Object.keys(EMPTY).map((key) => [key, a[key as keyof typeof EMPTY] + b[key as keyof typeof EMPTY]])) as typeof EMPTY;
}

/** Every bucket of the range (empty ones too), the first and last clipped to it, and the total. */
export function businessStatsOf(business: BusinessModel, args: StatsRangeArgs, rows: readonly StatsRowModel[]): BusinessStatsModel {
  const byBucket = new Map(rows.map((row) => [row.bucket, row]));
  const buckets: StatsBucketModel[] = [];
  let total = EMPTY;
  for (let start = bucketOf(args.from, args.granularity); start <= args.to; start = nextBucket(start, args.granularity)) {
    const sums = byBucket.get(start) ?? EMPTY;
    total = added(total, sums);
    const end = addDays(nextBucket(start, args.granularity), -1);
    buckets.push(bucketModel(start < args.from ? args.from : start, end > args.to ? args.to : end, sums, business.currency));
  }
  return { from: args.from, to: args.to, granularity: args.granularity, currency: business.currency, buckets, total: bucketModel(args.from, args.to, total, business.currency) };
}
