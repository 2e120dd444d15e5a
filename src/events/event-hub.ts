import type { Db } from '../db/sql-helpers.js';
import type { Logger } from '../shared/logger.js';
import type { BookingEventModel } from './booking-event.model.js';
import { findEventsAfter, lastEventPosition } from './booking-events.repository.js';
import { BackgroundFailures } from '../shared/background-failures.js';
import { CoalescedRuns } from '../shared/coalesced-runs.js';
import type { EventBus } from './event-bus.js';
import { EventStream } from './event-stream.js';

/** Which events a local subscriber wants. */
export interface EventFilter {
  businessId: string;
  /** Only events touching this partner (its bookings, and bookings moved away from it). */
  partnerId: string | null;
  /** Only this booking's events (a thread's subscribers). */
  bookingId?: string | null;
  /** Only events of these types. */
  types?: readonly BookingEventModel['type'][];
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
  if (event.businessId !== filter.businessId) return false;
  if (filter.bookingId != null && event.bookingId !== filter.bookingId) return false;
  if (filter.types && !filter.types.includes(event.type)) return false;
  return filter.partnerId === null || event.partnerIds.includes(filter.partnerId);
}

const CATCH_UP_BATCH = 1000;

/**
 * One per process: hands relayed events, in position order and each once, to the local subscribers
 * whose filter matches.
 *
 * It remembers the last position it delivered and reads what follows from the outbox whenever it
 * learns there may be more: a bus signal, a bus reconnect (signals may have been lost), or its
 * periodic check (a signal lost without a reconnect). Positions are dense, so reading "after the
 * last delivered" can neither skip nor repeat an event. Reads run one at a time, and requests
 * arriving meanwhile coalesce into one more read: memory does not grow with the signals received
 * while the database is slow.
 */
export class BookingEventHub {
  private delivered = 0;
  private started = false;
  /** The highest position a signal announced: a signal at or below `delivered` needs no read. */
  private announced = 0;
  private readonly listeners = new Set<HubListener>();
  private readonly reads: CoalescedRuns;
  readonly stats = { delivered: 0, caughtUp: 0, duplicates: 0 };
  private readonly failures: BackgroundFailures;

  constructor(
    private readonly options: {
      db: Db;
      bus: EventBus;
      log: Logger;
      /** How often the outbox is read for events no signal announced (while anyone listens). */
      checkIntervalMs: number;
      /** Events that may wait for one slow subscriber before its subscription ends. */
      maxQueuedPerSubscriber: number;
    },
  ) {
    const failures = (this.failures = new BackgroundFailures(options.log, 'Booking events could not be read from the outbox; the next signal or check reads again'));
    this.reads = new CoalescedRuns(
      () => this.readNewEvents(),
      (error) => failures.failed(error),
      () => failures.succeeded(),
    );
  }

  /** Starts after the last position handed out so far: earlier events are for the replay query. */
  async start(): Promise<void> {
    // The position first, then the signals: none is judged before the position is known.
    await this.initialize().catch((error) => this.failures.failed(error));
    await this.options.bus.subscribe({
      onSignal: (upTo) => {
        if (upTo <= this.delivered) {
          this.stats.duplicates++;
          return;
        }
        this.announced = Math.max(this.announced, upTo);
        void this.reads.kick();
      },
      onResync: () => void this.reads.kick(),
    });
    this.reads.every(this.options.checkIntervalMs);
  }

  async stop(): Promise<void> {
    await this.reads.stop();
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

  /** Reads and delivers what the outbox holds after the last delivered position; resolves when done (tests). */
  catchUp(): Promise<void> {
    return this.reads.kick();
  }

  /** Delivery starts after the last position handed out; if the database cannot say yet (it throws), the next read asks again. */
  private async initialize(): Promise<void> {
    this.delivered = await lastEventPosition(this.options.db);
    this.started = true;
  }

  private async readNewEvents(): Promise<void> {
    if (!this.started) return this.initialize();
    // Nothing to read: no signal above what was delivered, and no subscriber to check for.
    if (this.announced <= this.delivered && !this.listeners.size) return;
    for (;;) {
      const events = await findEventsAfter(this.options.db, this.delivered, CATCH_UP_BATCH);
      for (const event of events) this.dispatch(event);
      if (events.length && Number(events[events.length - 1].position) > this.announced) this.stats.caughtUp += events.length;
      if (events.length < CATCH_UP_BATCH) return;
    }
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
