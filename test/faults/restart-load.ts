import { randomUUID } from 'node:crypto';
import type { BuiltSlot } from '../support/builders.js';

/**
 * A mixed read/write load for fault experiments, shared by the fault test and the measuring script
 * (bench/postgres-restart.ts): `workers` loops, each sending to the API processes in turn, half of
 * the requests a `bookingCreate` of one slot no other request asks for (each with an Idempotency-Key
 * of its own), half a read of the business's bookings. Every answer is classified and kept.
 */

export const CREATE = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { code message } } }`;
export const READ = `query($slug: String!) { business(slug: $slug) { id bookings(first: 5) { edges { node { id status } } } } }`;

/** How one request ended, seen from the client. */
export type Result =
  | 'ok'
  /** Refused with user errors (none is expected: every slot is asked for once). */
  | 'user-error'
  /** The process could not be reached or dropped the connection (a dead process, or a reset socket). */
  | 'connection'
  /** Top-level errors: their first `extensions.code` (SERVICE_UNAVAILABLE, INTERNAL_SERVER_ERROR...). */
  | `code:${string}`;

export interface Outcome {
  kind: 'write' | 'read';
  result: Result;
  status: number | null;
  retryAfter: string | null;
  /** Milliseconds since the load started, when the answer arrived. */
  at: number;
  target: number;
  /** For writes: the slot asked for, the key sent and the booking made (if acknowledged). */
  slotId?: string;
  key?: string;
  bookingId?: string;
}

export interface LoadOptions {
  urls: string[];
  token: string;
  slug: string;
  customerGid: string;
  /** Slots to book, each at most once; writes stop when they run out. */
  slots: BuiltSlot[];
  workers: number;
  /** A worker waits this long after a failure before its next request, like a client backing off. */
  backoffMs?: number;
}

export interface Load {
  outcomes: Outcome[];
  /** Stops the workers and resolves once every request in flight has its answer. */
  stop(): Promise<Outcome[]>;
}

export async function send(url: string, token: string, query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await res.json()) as { data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> };
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body };
  } catch (error) {
    return { status: null, retryAfter: null, body: null, error: error as Error };
  }
}

export function startLoad(options: LoadOptions): Load {
  const started = performance.now();
  const outcomes: Outcome[] = [];
  const slots = [...options.slots];
  let stopped = false;
  let turn = 0;

  const once = async (kind: 'write' | 'read'): Promise<Outcome | null> => {
    const target = turn++ % options.urls.length;
    const url = options.urls[target];
    if (kind === 'write') {
      const slot = slots.shift();
      if (!slot) return null;
      const key = randomUUID();
      const res = await send(url, options.token, CREATE, { input: { customerId: options.customerGid, slotIds: [slot.gid] } }, { 'idempotency-key': key });
      const payload = res.body?.data?.bookingCreate;
      const result: Result = res.body === null ? 'connection' : res.body.errors?.length ? `code:${res.body.errors[0].extensions?.code ?? 'NONE'}` : payload?.userErrors.length ? 'user-error' : 'ok';
      return { kind, result, status: res.status, retryAfter: res.retryAfter, at: performance.now() - started, target, slotId: slot.id, key, bookingId: payload?.booking?.id };
    }
    const res = await send(url, options.token, READ, { slug: options.slug });
    const result: Result = res.body === null ? 'connection' : res.body.errors?.length ? `code:${res.body.errors[0].extensions?.code ?? 'NONE'}` : 'ok';
    return { kind, result, status: res.status, retryAfter: res.retryAfter, at: performance.now() - started, target };
  };

  const worker = async (index: number) => {
    let i = index;
    while (!stopped) {
      const outcome = await once(i++ % 2 === 0 ? 'write' : 'read');
      if (!outcome) continue;
      outcomes.push(outcome);
      if (outcome.result !== 'ok' && options.backoffMs) await new Promise((r) => setTimeout(r, options.backoffMs));
    }
  };
  const workers = Array.from({ length: options.workers }, (_, i) => worker(i));

  return {
    outcomes,
    async stop() {
      stopped = true;
      await Promise.all(workers);
      return outcomes;
    },
  };
}

/** Counts of outcomes by `${kind} ${result}`, for messages and the report. */
export function tally(outcomes: readonly Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[`${o.kind} ${o.result}`] = (counts[`${o.kind} ${o.result}`] ?? 0) + 1;
  return counts;
}

/** Polls a read on `url` until it succeeds; the milliseconds it took, or null past `timeoutMs`. */
export async function timeToServe(url: string, token: string, slug: string, timeoutMs: number): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const res = await send(url, token, READ, { slug });
    if (res.body?.data?.business && !res.body.errors) return Math.round(performance.now() - started);
    await new Promise((r) => setTimeout(r, 50));
  }
  return null;
}
