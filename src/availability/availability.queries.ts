import { businessByIdFromPrimary } from '../businesses/businesses.loaders.js';
import { boundedKeyPart } from '../cache/bounded-key.js';
import type { ReadThroughCache } from '../cache/keyed-cache.js';
import type { PartnerModel } from '../partners/partner.model.js';
import { partnerById, partnerByIdFromPrimary } from '../partners/partners.loaders.js';
import { serviceByIdFromPrimary } from '../services/services.loaders.js';
import type { LoaderRegistry } from '../shared/loader-registry.js';
import type { AvailableStartModel } from './availability.model.js';
import { findPartnerDaysInCity, findSlotsAroundDate, type PartnerDayRow } from './availability.repository.js';
import { fittingStarts, instantOf, withinAdvance } from './available-starts.js';

/**
 * availableSlots and availablePartners, read through the shared cache.
 *
 * What is cached does not depend on the clock: minimum notice and maximum advance are applied to
 * the cached value on every read (the business's settings travel with it), so an entry never
 * offers a start that has since come too close. The partners a value names travel with it too and
 * are primed into the request's partnerById loader: a warm hit sends no SQL at all.
 *
 * Scopes (see availability-invalidation.ts for what bumps them): one per business for starts,
 * one per city for partners. Both carry a Redis Cluster hash tag.
 */
export const Family = { AvailableSlots: 'available_slots', AvailablePartners: 'available_partners' } as const;

export function businessScope(businessId: string): string {
  return `availability:{${businessId}}`;
}

/**
 * Cities are free text: normalized as the argument is (so the scope a query reads is the one a write
 * to a partner of that city bumps), encoded so a brace or colon cannot break the hash tag or the
 * key, and hashed when long, so no key grows with the city.
 */
export function cityScope(city: string): string {
  return `partners:available:{${boundedKeyPart(encodeURIComponent(city.trim().normalize('NFC')))}}`;
}

export interface AvailabilityReader {
  loaders: LoaderRegistry;
  cache: ReadThroughCache;
}

/** A date's starts as cached: computed once per (business generation, date, service, partner). */
interface CachedStarts {
  timeZone: string;
  minNoticeMinutes: number;
  maxAdvanceDays: number;
  starts: AvailableStartModel[];
  partners: PartnerModel[];
  holdLapsesAt: string | null;
}

/** Until the first live hold lapses at most: the slot is free again then, with no write to announce it. */
function ttlUntilHoldLapses(holdLapsesAt: string | null): number | undefined {
  if (holdLapsesAt === null) return undefined;
  return Math.max(1, Date.parse(holdLapsesAt) - Date.now());
}

function earliestHold(instants: readonly (string | null)[]): string | null {
  let earliest: string | null = null;
  for (const at of instants) if (at !== null && (earliest === null || Date.parse(at) < Date.parse(earliest))) earliest = at;
  return earliest;
}

function primePartners(loaders: LoaderRegistry, partners: readonly PartnerModel[]): void {
  const byId = partnerById(loaders);
  for (const partner of partners) byId.prime(partner.id, partner);
}

export async function findAvailableStarts(
  reader: AvailabilityReader,
  args: { businessId: string; serviceId: string; date: string; partnerId: string | null },
): Promise<AvailableStartModel[]> {
  const cached = await reader.cache.get<CachedStarts | null>({
    tally: reader.loaders.telemetry,
    family: Family.AvailableSlots,
    scope: businessScope(args.businessId),
    key: `${args.date}:service:${args.serviceId}:partner:${args.partnerId ?? 'any'}`,
    compute: () => computeStarts(reader.loaders, args),
    // A missing business or service is not cached: none of the announced changes would make it appear.
    ttlMs: (value) => (value === null ? 0 : ttlUntilHoldLapses(value.holdLapsesAt)),
  });
  if (cached === null || !withinAdvance(args.date, cached.timeZone, cached.maxAdvanceDays)) return [];
  primePartners(reader.loaders, cached.partners);
  const earliest = Date.now() + cached.minNoticeMinutes * 60_000;
  return cached.starts.filter((start) => Date.parse(start.startsAt) >= earliest);
}

async function computeStarts(
  loaders: LoaderRegistry,
  args: { businessId: string; serviceId: string; date: string; partnerId: string | null },
): Promise<CachedStarts | null> {
  // From the primary, not the catalog cache: the availability generation this entry is kept under
  // may already count a catalog write (a service deactivated) whose catalog bump comes after it.
  const [business, service] = await Promise.all([businessByIdFromPrimary(loaders).load(args.businessId), serviceByIdFromPrimary(loaders).load(args.serviceId)]);
  if (!business || business.archivedAt !== null || !service || service.businessId !== business.id || !service.isActive) return null;
  // The primary, also with replicas: what is computed here is kept in the shared cache, and a
  // replica's answer from before a booking would stay there after the booking's invalidation.
  const rows = await findSlotsAroundDate(loaders.db, {
    businessId: business.id,
    serviceId: service.id,
    partnerId: args.partnerId,
    date: args.date,
    timeZone: business.timeZone,
    beforeMinutes: service.bufferBeforeMinutes,
    afterMinutes: service.durationMinutes + service.bufferAfterMinutes,
  });
  const byStart = fittingStarts(rows, service);
  const partnerIds = [...new Set([...byStart.values()].flat())];
  const partners = partnerIds.length ? ((await partnerByIdFromPrimary(loaders).loadMany(partnerIds)) as (PartnerModel | null | Error)[]) : [];
  // The booking counts come with the slots (from the primary), not with the partners' cached rows.
  const load = new Map<string, number>();
  for (const row of rows) load.set(row.partnerId, row.partnerLoad);
  const known = new Map<string, PartnerModel>();
  for (const partner of partners) if (partner && !(partner instanceof Error)) known.set(partner.id, { ...partner, activeBookingCount: load.get(partner.id) ?? 0 });
  const leastBusyFirst = (a: string, b: string) => (load.get(a) ?? 0) - (load.get(b) ?? 0) || (BigInt(a) < BigInt(b) ? -1 : 1);

  const starts = [...byStart.entries()]
    .sort(([a], [b]) => a - b)
    .map(([start, ids]) => ({
      startsAt: instantOf(start),
      endsAt: instantOf(start + service.durationMinutes * 60_000),
      partnerIds: ids.filter((id) => known.has(id)).sort(leastBusyFirst),
    }));
  return {
    timeZone: business.timeZone,
    minNoticeMinutes: business.minNoticeMinutes,
    maxAdvanceDays: business.maxAdvanceDays,
    starts,
    partners: [...known.values()],
    holdLapsesAt: earliestHold(rows.map((row) => row.holdLapsesAt)),
  };
}

interface CachedPartners {
  partners: PartnerDayRow[];
  holdLapsesAt: string | null;
}

export async function findAvailablePartners(
  reader: AvailabilityReader,
  args: { city: string; date: string; businessId: string | null },
): Promise<PartnerModel[]> {
  const cached = await reader.cache.get<CachedPartners>({
    tally: reader.loaders.telemetry,
    family: Family.AvailablePartners,
    scope: cityScope(args.city),
    key: args.businessId === null ? args.date : `${args.date}:business:${args.businessId}`,
    compute: async () => {
      // The primary, as for starts: a cached answer must not come from a replica behind a change.
      const rows = await findPartnerDaysInCity(reader.loaders.db, args);
      return { partners: rows, holdLapsesAt: earliestHold(rows.map((row) => row.holdLapsesAt)) };
    },
    ttlMs: (value) => ttlUntilHoldLapses(value.holdLapsesAt),
  });
  const now = Date.now();
  const available = cached.partners.filter(
    (row) =>
      row.lastFreeStart !== null &&
      Date.parse(row.lastFreeStart) >= now + row.minNoticeMinutes * 60_000 &&
      withinAdvance(args.date, row.timeZone, row.maxAdvanceDays, now),
  );
  // Only active partners have slots offered, and an archived partner is never active.
  const partners = available.map(({ id, businessId, name, city, isActive, activeBookingCount }) => ({ id, businessId, name, city, isActive, activeBookingCount, archivedAt: null }));
  primePartners(reader.loaders, partners);
  return partners;
}
