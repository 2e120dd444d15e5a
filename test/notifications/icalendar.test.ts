import { describe, expect, it } from 'vitest';
import { bookingCalendar, escapeText, foldLine, utcDateTime } from '../../src/notifications/icalendar.js';

describe('iCalendar (RFC 5545) for booking invitations', () => {
  it('folds lines at 75 octets without splitting a UTF-8 character, and unfolds to the original', () => {
    const line = `DESCRIPTION:${'ご予約の確認・変更・キャンセル'.repeat(12)}`;
    const folded = foldLine(line);
    const lines = folded.split('\r\n');
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.every((l) => Buffer.byteLength(l) <= 75)).toBe(true);
    expect(lines.slice(1).every((l) => l.startsWith(' '))).toBe(true);
    expect(folded.replace(/\r\n /g, '')).toBe(line);
    expect(folded).not.toContain('\uFFFD');
    expect(foldLine('UID:short')).toBe('UID:short');
  });

  it('escapes backslashes, semicolons, commas and line breaks in text, and writes instants in UTC', () => {
    expect(escapeText('a\\b; c, d\ne\r\nf')).toBe('a\\\\b\\; c\\, d\\ne\\nf');
    expect(utcDateTime('2026-12-04T01:00:00Z')).toBe('20261204T010000Z');
    expect(utcDateTime(new Date('2026-12-04T10:00:00+09:00'))).toBe('20261204T010000Z');
  });

  it('writes a cancellation with METHOD:CANCEL, STATUS:CANCELLED, the same UID and CRLF line endings only', () => {
    const ics = bookingCalendar({
      method: 'CANCEL', uid: 'booking-7@example.com', sequence: 3, startsAt: '2026-12-04T01:00:00Z', endsAt: '2026-12-04T02:00:00Z',
      stamp: new Date('2026-12-01T00:00:00Z'), summary: 'Cut', description: 'x', organizer: { name: 'Glow "Studio"', email: 'o@example.com' }, attendee: { name: 'Hana', email: 'h@example.com' },
    });
    expect(ics.endsWith('\r\n')).toBe(true);
    expect(ics.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const lines = ics.split('\r\n');
    expect(lines).toEqual(expect.arrayContaining(['METHOD:CANCEL', 'UID:booking-7@example.com', 'SEQUENCE:3', 'STATUS:CANCELLED', 'DTSTART:20261204T010000Z', 'DTSTAMP:20261201T000000Z']));
    // A parameter value cannot hold a DQUOTE: it is left out, the value quoted.
    expect(lines).toContain('ORGANIZER;CN="Glow Studio":mailto:o@example.com');
  });
});
