import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Db } from '../db/sql-helpers.js';
import { updateCustomerNotificationSettings } from '../customers/customers.repository.js';
import type { Route } from '../server/router.js';
import type { Logger } from '../shared/logger.js';

/** Where the one-click unsubscribe links of reminder e-mails point (RFC 8058). */
export const UNSUBSCRIBE_PATH = '/notifications/unsubscribe';

function signatureOf(secret: string, customerId: string): string {
  return createHmac('sha256', secret).update(`unsubscribe:${customerId}`).digest('base64url');
}

/** The signed link that opts a customer out of reminders; it never expires (a mail read a year later still works). */
export function unsubscribeUrl(links: { publicApiUrl: string; linkSecret: string }, customerId: string): string {
  return `${links.publicApiUrl}${UNSUBSCRIBE_PATH}?c=${customerId}&s=${signatureOf(links.linkSecret, customerId)}`;
}

function verified(secret: string, search: URLSearchParams): string | null {
  const id = search.get('c') ?? '';
  const given = Buffer.from(search.get('s') ?? '');
  if (!/^[1-9][0-9]{0,18}$/.test(id)) return null;
  const expected = Buffer.from(signatureOf(secret, id));
  return given.length === expected.length && timingSafeEqual(given, expected) ? id : null;
}

function page(res: ServerResponse, status: number, text: string, form = ''): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(`<!doctype html><meta charset="utf-8"><title>Reminders</title><p>${text}</p>${form}`);
}

/**
 * The route of the links: a POST (what a mail client sends for a one-click List-Unsubscribe-Post,
 * or the form below) opts the customer out of reminders; a GET only shows a button for that POST,
 * since mail scanners fetch links in mail and must not unsubscribe anyone. A bad signature reads 404.
 */
export function unsubscribeRoute(deps: { db: Db; linkSecret: string; log: Logger }): Route {
  return async (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (path !== UNSUBSCRIBE_PATH) return false;
    const search = new URL(req.url ?? '/', 'http://x').searchParams;
    const id = verified(deps.linkSecret, search);
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST' }).end();
      return true;
    }
    req.resume();
    if (!id) {
      page(res, 404, 'Expected a link from one of our e-mails; this one is not (or it was changed).');
      return true;
    }
    if (req.method === 'GET') {
      page(res, 200, 'Stop reminder e-mails and texts? Confirmations and cancellations still arrive.', `<form method="post"><button>Unsubscribe</button></form>`);
      return true;
    }
    const updated = await updateCustomerNotificationSettings(deps.db, id, { optedOut: true });
    deps.log.info('A customer opted out of reminders through an unsubscribe link', { customerId: id, found: Boolean(updated) });
    page(res, 200, 'Done: no more reminders.');
    return true;
  };
}
