import type { AvailabilitySlotRow } from './availability.repository.js';

/**
 * Which slot starts fit a service, per partner. Mirrors what bookingCreate accepts: the free,
 * consecutive slots from the start must end exactly at start + duration (a service of 45 minutes
 * never fits 30-minute slots). Buffers: the partner must have no booked, blocked or held slot
 * overlapping [start - before, start) or [end, end + after). Time in the buffers where the partner
 * has no slot at all (before the first slot of the day, a gap between shifts) counts as free: a
 * buffer keeps a partner from being booked back to back, it is not working time.
 *
 * The rows are one partner's slots after another's, by start time (see findSlotsAroundDate).
 */
export function fittingStarts(
  rows: readonly AvailabilitySlotRow[],
  service: { durationMinutes: number; bufferBeforeMinutes: number; bufferAfterMinutes: number },
): Map<number, string[]> {
  const duration = service.durationMinutes * 60_000;
  const before = service.bufferBeforeMinutes * 60_000;
  const after = service.bufferAfterMinutes * 60_000;
  const partnersByStart = new Map<number, string[]>();

  let first = 0;
  while (first < rows.length) {
    let last = first;
    while (last < rows.length && rows[last].partnerId === rows[first].partnerId) last++;
    const slots = rows.slice(first, last).map((row) => ({ row, start: Date.parse(row.startsAt), end: Date.parse(row.endsAt) }));
    const taken = slots.filter((s) => !s.row.free);
    const takenOverlaps = (from: number, to: number) => from < to && taken.some((s) => s.start < to && s.end > from);

    for (let i = 0; i < slots.length; i++) {
      if (!slots[i].row.free || !slots[i].row.onDate) continue;
      const start = slots[i].start;
      const end = start + duration;
      let reached = start;
      for (let j = i; j < slots.length && slots[j].row.free && slots[j].start === reached && slots[j].end <= end; j++) reached = slots[j].end;
      if (reached !== end) continue;
      if (takenOverlaps(start - before, start) || takenOverlaps(end, end + after)) continue;
      const partners = partnersByStart.get(start);
      if (partners) partners.push(rows[first].partnerId);
      else partnersByStart.set(start, [rows[first].partnerId]);
    }
    first = last;
  }
  return partnersByStart;
}

/** RFC 3339 in UTC without milliseconds, the form the database's instants have. */
export function instantOf(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** Today's date in a time zone, YYYY-MM-DD. */
export function todayIn(timeZone: string, now = Date.now()): string {
  let format = dateFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dateFormats.set(timeZone, format);
  }
  return format.format(now);
}

/** A calendar date `days` later (plain dates have no DST). */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Whether a date is bookable today under a maximum advance: not after today + maxAdvanceDays, in the zone. */
export function withinAdvance(date: string, timeZone: string, maxAdvanceDays: number, now = Date.now()): boolean {
  return date <= addDays(todayIn(timeZone, now), maxAdvanceDays);
}
