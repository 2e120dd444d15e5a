import type { IncomingMessage, ServerResponse } from 'node:http';
import { isStaffOf } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import type { BusinessModel } from '../businesses/business.model.js';
import { findBusinessesByIds } from '../businesses/businesses.repository.js';
import type { Db } from '../db/sql-helpers.js';
import { ErrorCode } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { rawIdOf, toGlobalId } from '../shared/global-id.js';
import { findBookingExportPage, type BookingExportRow } from './bookings-export.repository.js';
import { MAX_STATS_DAYS } from './stats.resolvers.js';

/** `GET /exports/bookings.csv?businessId=<ID>&from=<YYYY-MM-DD>&to=<YYYY-MM-DD>`. */
export const BOOKINGS_EXPORT_PATH = '/exports/bookings.csv';
/** Rows per statement: a page is read, written out, and the next one read when the client has taken it. */
export const EXPORT_PAGE_SIZE = 1000;

const COLUMNS: ReadonlyArray<readonly [string, (row: BookingExportRow) => string | number | null]> = [
  ['booking_id', (r) => toGlobalId('Booking', r.id)],
  ['local_date', (r) => r.localDate],
  ['starts_at', (r) => r.startsAt],
  ['ends_at', (r) => r.endsAt],
  ['status', (r) => r.status],
  ['partner', (r) => r.partnerName],
  ['service', (r) => r.serviceName],
  ['customer', (r) => r.customerName],
  ['customer_email', (r) => r.customerEmail],
  ['total_cents', (r) => r.totalCents],
  ['captured_cents', (r) => r.capturedCents],
  ['refunded_cents', (r) => r.refundedCents],
  ['currency', (r) => r.currency],
  ['cancel_reason', (r) => r.cancelReason],
  ['created_at', (r) => r.createdAt],
];

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line break, quotes doubled.
 * Text a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage return:
 * a customer named `=HYPERLINK(...)`) gets a leading apostrophe, so it reads as text. Numbers
 * are ours and go as they are.
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(cells: ReadonlyArray<string | number | null>): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

export interface BookingsExportDeps {
  /** The viewer of an Authorization header, grants included (throws a GraphQLError for a refused token). */
  viewerOf: (authorization: string | undefined) => Promise<Viewer>;
  /** Where a viewer's reporting reads go: a replica when one serves (and they have not just written). */
  readHandle: (viewer: Viewer) => Promise<Db>;
  log: Logger;
  /** Rows per statement (EXPORT_PAGE_SIZE; tests page through a few rows with a smaller one). */
  pageSize?: number;
}

function refuse(res: ServerResponse, status: number, code: string, message: string): true {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
  return true;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function dateParameter(params: URLSearchParams, name: string): string | null {
  const value = params.get(name);
  if (value === null || !ISO_DATE.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) return null;
  return new Date(Date.parse(`${value}T00:00:00Z`)).toISOString().slice(0, 10) === value ? value : null;
}

/**
 * The bookings of a business between two local dates (inclusive, at most MAX_STATS_DAYS) as CSV,
 * for accountants: for whoever may read its stats (owners, staff, admins; 401 without a valid
 * token, 403 for others). Streamed: pages of EXPORT_PAGE_SIZE by keyset, each written before the
 * next is read, waiting for the client to drain; the reads use the reporting handle (a replica
 * when one serves). An error after the first page has gone can only cut the response short: the
 * client sees a truncated body without the final line break of a complete file.
 */
export function bookingsExportRoute(deps: BookingsExportDeps) {
  const pageSize = deps.pageSize ?? EXPORT_PAGE_SIZE;
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    if (path !== BOOKINGS_EXPORT_PATH) return false;
    if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      return refuse(res, 405, ErrorCode.BadUserInput, `Expected GET, got ${req.method}.`);
    }
    let viewer: Viewer;
    try {
      viewer = await deps.viewerOf(req.headers.authorization);
    } catch (error) {
      if ((error as { extensions?: { code?: string } }).extensions?.code === ErrorCode.Unauthenticated) return refuse(res, 401, ErrorCode.Unauthenticated, (error as Error).message);
      throw error;
    }
    if (viewer.role === 'ANONYMOUS') return refuse(res, 401, ErrorCode.Unauthenticated, 'This needs a bearer token: send `Authorization: Bearer <token>`.');
    const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
    const businessId = rawIdOf(params.get('businessId') ?? '', 'Business');
    if (!businessId) return refuse(res, 400, ErrorCode.BadUserInput, `Expected \`businessId\` to be the ID of a business, got ${JSON.stringify(params.get('businessId'))}.`);
    const from = dateParameter(params, 'from');
    const to = dateParameter(params, 'to');
    if (!from || !to) return refuse(res, 400, ErrorCode.BadUserInput, `Expected \`from\` and \`to\` as dates like 2026-11-22, got ${JSON.stringify(params.get('from'))} and ${JSON.stringify(params.get('to'))}.`);
    const days = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
    if (days < 1 || days > MAX_STATS_DAYS) return refuse(res, 400, ErrorCode.BadUserInput, `Expected \`to\` on or after \`from\`, at most ${MAX_STATS_DAYS} days in all, got ${from} to ${to}.`);
    if (!isStaffOf(viewer, businessId)) return refuse(res, 403, ErrorCode.Forbidden, `Expected a token of the business's owner or staff (or an admin) to export its bookings, got a ${viewer.role.toLowerCase()} token.`);
    const db = await deps.readHandle(viewer);
    const business: BusinessModel | undefined = (await findBusinessesByIds(db, [businessId]))[0];
    if (!business) return refuse(res, 404, ErrorCode.BadUserInput, `No business has the ID ${params.get('businessId')}.`);

    res.writeHead(200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="bookings-${business.slug}-${from}-${to}.csv"`,
      'cache-control': 'no-store',
    });
    res.write(csvLine(COLUMNS.map(([name]) => name)));
    let after: { startsAt: string; id: string } | null = null;
    try {
      for (;;) {
        const rows = await findBookingExportPage(db, { businessId, timeZone: business.timeZone, from, to, after, limit: pageSize });
        if (res.destroyed) return true;
        const chunk = rows.map((row) => csvLine(COLUMNS.map(([, cell]) => cell(row)))).join('');
        // A client that goes away ends the wait too (`close`), and the loop with it.
        if (chunk && !res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
        if (rows.length < pageSize) break;
        const last: BookingExportRow = rows[rows.length - 1];
        after = { startsAt: last.startsAt, id: last.id };
      }
      res.end();
    } catch (error) {
      deps.log.error('A bookings export failed after it began; the response was cut short', { businessId, from, to, message: (error as Error).message });
      res.destroy();
    }
    return true;
  };
}
