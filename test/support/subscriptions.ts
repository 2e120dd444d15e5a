import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** What a subscription has received so far: data payloads and errors, in order. */
export interface SubscriptionRecorder<T = any> {
  results: T[];
  errors: unknown[];
  completed: boolean;
  /** Resolves once `count` results have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<T[]>;
  /** Resolves once the subscription has ended with an error (rejects after `timeoutMs`). */
  waitForError(timeoutMs?: number): Promise<any>;
  unsubscribe(): void;
}

/**
 * A graphql-ws client, as a browser or a partner's app would open it, authenticated with `token`;
 * `headers` go with the upgrade request (a browser sends its Accept-Language there).
 */
export function wsClient(url: string, token: string | undefined, options: { retry?: boolean; headers?: Record<string, string> } = {}): Client {
  const headers = options.headers;
  return createClient({
    url,
    webSocketImpl: headers
      ? class extends WebSocket {
          constructor(address: string, protocols?: string | string[]) {
            super(address, protocols, { headers });
          }
        }
      : WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: options.retry ? 5 : 0,
    lazy: true,
  });
}

async function until(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function record<T = any>(client: Client, query: string, variables: Record<string, unknown> = {}): SubscriptionRecorder<T> {
  const recorder: SubscriptionRecorder<T> = {
    results: [],
    errors: [],
    completed: false,
    async waitFor(count, timeoutMs = 10_000) {
      await until(() => recorder.results.length >= count || recorder.errors.length > 0, timeoutMs, () => `${count} results, got ${JSON.stringify(recorder.results)}`);
      if (recorder.errors.length) throw new Error(`Expected ${count} results, the subscription failed: ${JSON.stringify(recorder.errors)}`);
      return recorder.results;
    },
    async waitForError(timeoutMs = 10_000) {
      await until(() => recorder.errors.length > 0, timeoutMs, () => `an error, got ${JSON.stringify(recorder.results)}`);
      return recorder.errors[0];
    },
    unsubscribe: () => {},
  };
  recorder.unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) recorder.errors.push(value.errors);
        else recorder.results.push(value.data as T);
      },
      error: (error) => void recorder.errors.push(error),
      complete: () => void (recorder.completed = true),
    },
  );
  return recorder;
}

/** Waits until the server has exactly `count` local subscribers (subscriptions are live, or gone). */
export async function untilSubscribed(app: { events: { subscriberCount: number } }, count: number, timeoutMs = 10_000): Promise<void> {
  await until(() => app.events.subscriberCount === count, timeoutMs, () => `${count} subscribers, have ${app.events.subscriberCount}`);
}

export const BOOKING_EVENTS = `subscription($businessId: ID!, $partnerId: ID) {
  bookingEvents(businessId: $businessId, partnerId: $partnerId) {
    cursor type occurredAt status startsAt endsAt partner { id } previousStartsAt previousPartner { id }
    paymentStatus previousPaymentStatus payment { id status }
    booking { id status startsAt customer { id } service { id } partner { id } }
  }
}`;
