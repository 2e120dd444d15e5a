/**
 * RFC 5545 iCalendar objects for booking invitations, written by hand (ical-generator needs Node
 * 22). Only what a booking needs: one VEVENT per VCALENDAR, the iTIP method (RFC 5546) REQUEST for a
 * new or changed booking and CANCEL for a cancelled one. Calendars match a message to the event by
 * UID and keep the one with the highest SEQUENCE, so every change must carry a larger one.
 */

export type CalendarMethod = 'REQUEST' | 'CANCEL';

export interface CalendarPerson {
  name: string;
  email: string;
}

export interface BookingCalendar {
  method: CalendarMethod;
  /** Stable for the booking's whole life. */
  uid: string;
  sequence: number;
  /** RFC 3339 instants; written in UTC. */
  startsAt: string;
  endsAt: string;
  /** When the object was made (DTSTAMP). */
  stamp: Date;
  summary: string;
  description: string;
  url?: string;
  organizer: CalendarPerson;
  attendee: CalendarPerson;
}

const CRLF = '\r\n';
/** RFC 5545 3.1: lines SHOULD NOT be longer than 75 octets, excluding the line break. */
const MAX_LINE_OCTETS = 75;

/** `20261202T090000Z`: a UTC DATE-TIME (form #2 of RFC 5545 3.3.5). */
export function utcDateTime(instant: string | Date): string {
  const iso = (typeof instant === 'string' ? new Date(instant) : instant).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/** TEXT value escaping (RFC 5545 3.3.11): backslash, semicolon, comma, and line breaks as \n. */
export function escapeText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r\n|\r|\n/g, '\\n');
}

/** A parameter value (CN=...): quoted, since names hold ':' ';' ','; DQUOTE and control characters cannot appear at all. */
function paramValue(text: string): string {
  return `"${text.replace(/["\x00-\x1f\x7f]/g, '')}"`;
}

/**
 * Folds a content line at 75 octets (RFC 5545 3.1): CRLF then one space before each continuation.
 * Counts UTF-8 octets and never splits a character (a Japanese name is 3 octets a character).
 */
export function foldLine(line: string): string {
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  let limit = MAX_LINE_OCTETS;
  for (const char of line) {
    const size = Buffer.byteLength(char, 'utf8');
    if (octets + size > limit) {
      parts.push(current);
      current = '';
      octets = 0;
      limit = MAX_LINE_OCTETS - 1; // the leading space of a continuation counts
    }
    current += char;
    octets += size;
  }
  parts.push(current);
  return parts.join(`${CRLF} `);
}

/** The VCALENDAR object, CRLF line endings, folded. */
export function bookingCalendar(c: BookingCalendar): string {
  const cancelled = c.method === 'CANCEL';
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Booking API//Notifications//EN',
    'CALSCALE:GREGORIAN',
    `METHOD:${c.method}`,
    'BEGIN:VEVENT',
    `UID:${c.uid}`,
    `SEQUENCE:${c.sequence}`,
    `DTSTAMP:${utcDateTime(c.stamp)}`,
    `DTSTART:${utcDateTime(c.startsAt)}`,
    `DTEND:${utcDateTime(c.endsAt)}`,
    `SUMMARY:${escapeText(c.summary)}`,
    `DESCRIPTION:${escapeText(c.description)}`,
    ...(c.url ? [`URL:${c.url}`] : []),
    `ORGANIZER;CN=${paramValue(c.organizer.name)}:mailto:${c.organizer.email}`,
    `ATTENDEE;CN=${paramValue(c.attendee.name)};ROLE=REQ-PARTICIPANT;PARTSTAT=${cancelled ? 'DECLINED' : 'ACCEPTED'}:mailto:${c.attendee.email}`,
    `STATUS:${cancelled ? 'CANCELLED' : 'CONFIRMED'}`,
    'TRANSP:OPAQUE',
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return lines.map(foldLine).join(CRLF) + CRLF;
}
