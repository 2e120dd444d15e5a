import { GraphQLError } from 'graphql';
import { ErrorCode } from '../shared/errors.js';
import type { DeliveredEvent, EventFilter, BookingEventHub } from './event-hub.js';

/**
 * One subscriber's events, as the async iterator GraphQL subscriptions consume. Events wait in a
 * bounded queue while the client reads slowly; past the bound the subscription ends with
 * SUBSCRIBER_TOO_SLOW rather than holding memory without limit or dropping events silently: the
 * client replays from its last cursor and subscribes again.
 *
 * It yields each event with its per-event scratch space (`shared`), which the subscription's
 * resolver maps to the event itself. `beforeEach` runs just before an event is handed to execution
 * (one event of a subscription is executed at a time): the resolver uses it to give each event
 * fresh loaders.
 */
export class EventStream implements AsyncIterableIterator<DeliveredEvent> {
  private readonly queue: DeliveredEvent[] = [];
  private waiting: ((result: IteratorResult<DeliveredEvent>) => void) | null = null;
  private finished = false;
  private overflowed = false;
  private readonly unlisten: () => void;

  constructor(
    hub: BookingEventHub,
    filter: EventFilter,
    private readonly maxQueued: number,
    private readonly beforeEach: (delivered: DeliveredEvent) => void,
  ) {
    this.unlisten = hub.listen({ filter, deliver: (delivered) => this.push(delivered) });
  }

  private push(delivered: DeliveredEvent): void {
    if (this.finished) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      this.beforeEach(delivered);
      resolve({ value: delivered, done: false });
      return;
    }
    if (this.queue.length >= this.maxQueued) {
      this.overflowed = true;
      this.finish();
      return;
    }
    this.queue.push(delivered);
  }

  async next(): Promise<IteratorResult<DeliveredEvent>> {
    const delivered = this.queue.shift();
    if (delivered) {
      this.beforeEach(delivered);
      return { value: delivered, done: false };
    }
    if (this.overflowed) {
      this.overflowed = false;
      throw new GraphQLError(`More than ${this.maxQueued} events waited for this subscriber; the subscription ended. Replay from your last cursor with bookingEventsSince, then subscribe again.`, {
        extensions: { code: ErrorCode.SubscriberTooSlow },
      });
    }
    if (this.finished) return { value: undefined, done: true };
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  async return(): Promise<IteratorResult<DeliveredEvent>> {
    this.finish();
    this.queue.length = 0;
    return { value: undefined, done: true };
  }

  async throw(error: unknown): Promise<IteratorResult<DeliveredEvent>> {
    this.finish();
    throw error;
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.unlisten();
    const resolve = this.waiting;
    this.waiting = null;
    resolve?.({ value: undefined, done: true });
  }
}
