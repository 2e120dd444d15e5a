import type { BookingStatusColumn } from '../db/tables.js';
import { FIRST_SLOT_HOUR, FUTURE_DAYS, PAST_DAYS, SATURDAY_BLOCKED_FROM, SLOTS_PER_DAY, STATUS_PLAN, type BusinessSpec } from './demo-businesses.js';

export interface PlannedBooking {
  partner: number;
  customer: number;
  service: number;
  status: BookingStatusColumn;
  /** Local wall-clock times, turned into instants by PostgreSQL with the business's time zone. */
  localStart: string;
  localEnd: string;
  createdHoursAgo: number;
}

/** Deterministic PRNG (mulberry32): the same `now` always yields the same demo data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function localTime(date: string, slot: number): string {
  const minutes = FIRST_SLOT_HOUR * 60 + slot * 30;
  return `${date} ${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}:00`;
}

/**
 * Bookings of one business, placed so that no two slot-holding bookings of a partner share a slot
 * (partner_slots.booking_id holds one booking) and none runs into a blocked Saturday afternoon.
 * Cancelled bookings hold no slots, so they may sit on top of another booking (a freed, rebooked time).
 */
export function planBookings(spec: BusinessSpec, businessIndex: number, today: string): PlannedBooking[] {
  const random = prng(0x5eed + businessIndex * 7919);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  const allPartners = spec.partners.map((_, i) => i);
  const activePartners = allPartners.filter((i) => spec.partners[i].active !== false);
  const allServices = spec.services.map((_, i) => i);
  const activeServices = allServices.filter((i) => spec.services[i].active !== false);
  const occupied = new Set<string>();
  const planned: PlannedBooking[] = [];

  for (const { status, past, count } of STATUS_PLAN) {
    for (let n = count(businessIndex); n > 0; n--) {
      // A partner who has since left, or a withdrawn service, can only appear in the past.
      const partners = past ? allPartners : activePartners;
      const services = past ? allServices : activeServices;
      const holdsSlots = status !== 'cancelled';
      let placed = false;
      for (let attempt = 0; attempt < 500 && !placed; attempt++) {
        // Past bookings end before today and future ones start after it, whatever the time of day `now` is.
        const dayOffset = past ? -1 - Math.floor(random() * PAST_DAYS) : 1 + Math.floor(random() * (FUTURE_DAYS - 1));
        const date = addDays(today, dayOffset);
        const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
        if (weekday === 0) continue;
        const partner = pick(partners);
        const service = pick(services);
        const length = spec.services[service].minutes / 30;
        const lastSlot = weekday === 6 ? SATURDAY_BLOCKED_FROM : SLOTS_PER_DAY;
        const first = Math.floor(random() * (lastSlot - length + 1));
        const keys = Array.from({ length }, (_, k) => `${partner}|${date}|${first + k}`);
        if (holdsSlots && keys.some((key) => occupied.has(key))) continue;
        if (holdsSlots) for (const key of keys) occupied.add(key);
        planned.push({
          partner,
          customer: Math.floor(random() * spec.customers.length),
          service,
          status,
          localStart: localTime(date, first),
          localEnd: localTime(date, first + length),
          // Made at least a day before now and, for past appointments, before their day.
          createdHoursAgo: (Math.max(0, -dayOffset) + 1 + Math.floor(random() * 10)) * 24 + Math.floor(random() * 12),
        });
        placed = true;
      }
      if (!placed) throw new Error(`demo seed: could not place a ${status} booking for ${spec.slug}`);
    }
  }
  // Ids then follow created_at, as they would had the bookings been made one at a time.
  return planned.sort((a, b) => b.createdHoursAgo - a.createdHoursAgo);
}
