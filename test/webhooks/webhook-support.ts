import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { expect } from 'vitest';
import { DEFAULT_WEBHOOK_CONFIG, type WebhookConfig } from '../../src/config.js';
import type { BookingEventType } from '../../src/events/booking-event.model.js';
import type { Logger } from '../../src/shared/logger.js';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.js';
import type { TestApi } from '../support/api.js';

/** What a receiver got: one request. */
export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, as signed. */
  body: Buffer;
}

/** How a receiver answers the n-th request (0-based) to a path: a status, or 'hang' (never answers). */
export type Answer = (n: number) => number | 'hang';

/**
 * A real HTTP server standing for the partners' endpoints: each test uses its own path, says how
 * that path answers (200 unless told), and reads what arrived there.
 */
export class Receiver {
  private readonly server: Server;
  private readonly answers = new Map<string, Answer>();
  private readonly hanging = new Set<ServerResponse>();
  readonly requests: ReceivedRequest[] = [];
  /** TCP connections accepted, HTTP or not: zero means nothing reached the port at all. */
  connections = 0;
  private counter = 0;
  base = '';

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const path = req.url ?? '/';
        const n = this.requests.filter((r) => r.path === path).length;
        this.requests.push({ path, headers: req.headers, body: Buffer.concat(chunks) });
        const answer = (this.answers.get(path) ?? (() => 200))(n);
        if (answer === 'hang') {
          this.hanging.add(res);
          return;
        }
        res.writeHead(answer, { 'content-type': 'text/plain' }).end('answer body, ignored');
      });
    });
    this.server.on('connection', () => void this.connections++);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** A fresh path (and its full URL) answering as told. */
  endpoint(answer: Answer = () => 200): { path: string; url: string } {
    const path = `/hooks/${++this.counter}`;
    this.answers.set(path, answer);
    return { path, url: `${this.base}${path}` };
  }

  answer(path: string, answer: Answer): void {
    this.answers.set(path, answer);
  }

  at(path: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls `check` until it returns something truthy, failing after `timeoutMs`. */
export async function until<T>(check: () => Promise<T> | T, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const quietLog: Logger = { info() {}, error() {} };

/**
 * The receivers of these tests listen on 127.0.0.1, which the API refuses by default: an app with
 * this config registers such URLs, and sends nothing itself (no poll interval).
 */
export const LOOPBACK_RECEIVERS: WebhookConfig = { ...DEFAULT_WEBHOOK_CONFIG, pollIntervalMs: 0, allowPrivateNetworks: true };

/** A dispatcher that sends to the loopback receivers (unless `config` says otherwise) when it is run. */
export function dispatcherFor(api: TestApi, config: Partial<WebhookConfig> = {}, batchSize?: number): WebhookDispatcher {
  return new WebhookDispatcher({ db: api.database.background, log: quietLog, config: { ...LOOPBACK_RECEIVERS, ...config }, batchSize });
}

/** Runs the dispatcher until a run claims nothing; returns how many were claimed in all. */
export async function drain(dispatcher: WebhookDispatcher): Promise<number> {
  let total = 0;
  for (let claimed = await dispatcher.runOnce(); claimed > 0; claimed = await dispatcher.runOnce()) total += claimed;
  return total;
}

const CREATE = `mutation($input: WebhookEndpointCreateInput!) {
  webhookEndpointCreate(input: $input) { endpoint { id status eventTypes partner { id } } secret userErrors { field message code } }
}`;

/** Registers an endpoint through the API and returns its global and raw ids and its secret. */
export async function createEndpoint(api: TestApi, token: string | undefined, input: { businessId: string; partnerId?: string; url: string; eventTypes: BookingEventType[] }) {
  const res = await api.gql(CREATE, { input }, { token });
  expect(res.errors).toBeUndefined();
  const payload = res.data.webhookEndpointCreate;
  expect(payload.userErrors).toEqual([]);
  const gid: string = payload.endpoint.id;
  const rawId = Buffer.from(gid, 'base64url').toString('utf8').split(':')[1];
  return { gid, id: rawId, secret: payload.secret as string };
}

export interface EventDraft {
  businessId: string;
  bookingId: string;
  type: BookingEventType;
  partnerIds: string[];
  startsAt?: string;
  endsAt?: string;
}

/**
 * Writes events into the outbox as a mutation would, then runs the relay: when it returns, the
 * events have positions and their deliveries exist (whichever process's relay took them).
 */
export async function emitEvents(api: TestApi, drafts: EventDraft[]): Promise<Array<{ id: string; position: string; occurredAt: string }>> {
  const rows = await api.db
    .insertInto('booking_events')
    .values(
      drafts.map((d) => ({
        business_id: d.businessId,
        booking_id: d.bookingId,
        partner_ids: d.partnerIds,
        type: d.type,
        data: JSON.stringify({ booking: { status: 'PENDING', partnerId: d.partnerIds[0], startsAt: d.startsAt ?? '2030-01-01T10:00:00Z', endsAt: d.endsAt ?? '2030-01-01T11:00:00Z' } }),
      })),
    )
    .returning('id')
    .execute();
  await api.app.relay.kick();
  const ids = rows.map((r) => r.id);
  const positioned = await sql<{ id: string; position: string | null; occurredAt: string }>`
    SELECT id, position, occurred_at AS "occurredAt" FROM booking_events WHERE id = ANY(${ids}::bigint[]) ORDER BY id`.execute(api.db);
  expect(positioned.rows.every((r) => r.position !== null)).toBe(true);
  return positioned.rows as Array<{ id: string; position: string; occurredAt: string }>;
}

export interface DeliveryRow {
  id: string;
  eventPosition: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  delivered: boolean;
  parked: boolean;
  /** Milliseconds from the last attempt to the next one (null when either is missing or parked). */
  delayMs: number | null;
  /** Milliseconds from creation to the next attempt. */
  dueAfterCreationMs: number | null;
  dueNow: boolean;
  redeliveryOf: string | null;
}

/** An endpoint's deliveries, oldest first, straight from the table. */
export async function deliveryRows(api: TestApi, endpointId: string): Promise<DeliveryRow[]> {
  const result = await sql<DeliveryRow>`
    SELECT id, event_position AS "eventPosition", status, attempts, last_status_code AS "lastStatusCode", last_error AS "lastError",
      delivered_at IS NOT NULL AS delivered, next_attempt_at = 'infinity' AS parked,
      CASE WHEN next_attempt_at <> 'infinity' THEN (extract(epoch FROM next_attempt_at - last_attempt_at) * 1000)::float8 END AS "delayMs",
      CASE WHEN next_attempt_at <> 'infinity' THEN (extract(epoch FROM next_attempt_at - created_at) * 1000)::float8 END AS "dueAfterCreationMs",
      next_attempt_at <= now() AS "dueNow", redelivery_of AS "redeliveryOf"
    FROM webhook_deliveries WHERE endpoint_id = ${endpointId}::bigint ORDER BY id`.execute(api.db);
  return result.rows;
}

export async function endpointRow(api: TestApi, endpointId: string) {
  return api.db
    .selectFrom('webhook_endpoints')
    .select(['status', 'consecutive_failures', 'paused_at', 'pause_reason', 'deleted_at'])
    .where('id', '=', endpointId)
    .executeTakeFirstOrThrow();
}

/** Gives up whatever a test left pending on its endpoints, so that no later test's dispatcher sends it. */
export async function settleDeliveries(api: TestApi, businessIds: Iterable<string>): Promise<void> {
  const ids = [...businessIds];
  if (!ids.length) return;
  await sql`UPDATE webhook_deliveries SET status = 'failed' WHERE status = 'pending' AND business_id = ANY(${ids}::bigint[])`.execute(api.db);
}
