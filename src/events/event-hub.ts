import { inBackground } from '../db/background.js';
import type { Db } from '../db/sql-helpers.js';
import type { Logger } from '../server/context.js';
import type { BookingEventModel } from './booking-event.model.js';
import { findEventsAfter, lastEventPosition } from './booking-events.repository.js';
import type { EventBus } from './event-bus.js';
import { EventStream } from './event-stream.js';

/** Which events a local subscriber wants. */
export interface EventFilter {
  businessId: string | null;
  /** Only events touching this partner (its bookings, and bookings moved away from it). */
  partnerId: string | null;
}

/** What a local subscriber gets with each event: `shared` lives for this event only (fresh loaders). */
export interface DeliveredEvent {
  event: BookingEventModel;
  /** Per-event scratch space shared by the subscribers that receive it (a loader registry per viewer). */
  shared: Map<string, unknown>;
}

export interface HubListener {
  filter: EventFilter;
  deliver(delivered: DeliveredEvent): void;
}

export function matches(filter: EventFilter, event: BookingEventModel): boolean {
  if (filter.businessId !== null && event.businessId !== filter.businessId) return false;
  return filter.partnerId === null || event.partnerIds.includes(filter.partnerId);
}

const CATCH_UP_BATCH = 1000;

/**
 * One per process: receives relayed events from the bus and hands them, in position order and
 * each once, to the local subscribers whose filter matches.
 *
 * It remembers the last position it delivered. Positions are dense, so a gap is visible: an event
 * arriving after a gap, a bus reconnect (`onResync`), or the periodic check of the relay's counter
 * makes it read the missing events from the outbox first. So nothing is lost to pub/sub's at-most-once
 * delivery, and duplicates (a republished batch) are dropped here.
 */
export class BookingEventHub {
  private delivered = 0;
  private readonly listeners = new Set<HubListener>();
  /** Work on the delivered position runs one piece at a time, in arrival order. */
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  readonly stats = { delivered: 0, caughtUp: 0, duplicates: 0 };

  constructor(
    private readonly options: {
      db: Db;
      bus: EventBus;
      log: Logger;
      /** How often the relay's counter is checked for events the bus did not bring (while anyone listens). */
      checkIntervalMs: number;
      /** Events that may wait for one slow subscriber before its subscription ends. */
      maxQueuedPerSubscriber: number;
    },
  ) {}

  /** Starts after the last position handed out so far: earlier events are for the replay query. */
  async start(): Promise<void> {
    await this.options.bus.subscribe({
      onEvents: (events) => this.enqueue(() => this.accept(events)),
      onResync: () => this.enqueue(() => this.catchUp()),
    });
    await inBackground(() => this.initialize());
    const tick = () => {
      if (!this.started) this.enqueue(() => this.initialize());
      else if (this.listeners.size) this.enqueue(() => this.checkCounter());
      this.timer = setTimeout(tick, this.options.checkIntervalMs);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, this.options.checkIntervalMs);
    this.timer.unref();
  }

  /** Delivery starts after the last position handed out; if the database cannot say yet, the next tick asks again. */
  private async initialize(): Promise<void> {
    try {
      this.delivered = Math.max(this.delivered, await lastEventPosition(this.options.db));
      this.started = true;
    } catch (error) {
      this.options.log.error('Booking events: could not read the last position; retrying', { message: (error as Error).message });
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.listeners.clear();
  }

  get position(): number {
    return this.delivered;
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  /** A subscriber's events from now on (see EventStream). */
  stream(filter: EventFilter, beforeEach: (delivered: DeliveredEvent) => void): EventStream {
    return new EventStream(this, filter, this.options.maxQueuedPerSubscriber, beforeEach);
  }

  listen(listener: HubListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Resolves once everything received so far has been handled (tests). */
  settled(): Promise<void> {
    return this.queue;
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(() => inBackground(work)).catch((error) => {
      this.options.log.error('Booking events could not be delivered; the next check reads them from the outbox', { message: (error as Error).message, stack: (error as Error).stack });
    });
  }

  private async accept(events: BookingEventModel[]): Promise<void> {
    if (!this.started) return; // start() reads the counter after subscribing: these are before it.
    const sorted = events.length > 1 ? [...events].sort((a, b) => Number(a.position) - Number(b.position)) : events;
    for (const event of sorted) {
      const position = Number(event.position);
      if (position <= this.delivered) {
        this.stats.duplicates++;
        continue;
      }
      if (position !== this.delivered + 1) return this.catchUp();
      this.dispatch(event);
    }
  }

  /** Reads everything after the last delivered position from the outbox and delivers it. */
  private async catchUp(): Promise<void> {
    if (!this.started) return;
    for (;;) {
      const events = await findEventsAfter(this.options.db, this.delivered, CATCH_UP_BATCH);
      for (const event of events) if (Number(event.position) === this.delivered + 1) this.dispatch(event);
      this.stats.caughtUp += events.length;
      if (events.length < CATCH_UP_BATCH) return;
    }
  }

  private async checkCounter(): Promise<void> {
    if ((await lastEventPosition(this.options.db)) > this.delivered) await this.catchUp();
  }

  private dispatch(event: BookingEventModel): void {
    this.delivered = Number(event.position);
    this.stats.delivered++;
    const delivered: DeliveredEvent = { event, shared: new Map() };
    for (const listener of this.listeners) {
      if (matches(listener.filter, event)) listener.deliver(delivered);
    }
  }
}
