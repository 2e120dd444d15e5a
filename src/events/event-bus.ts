import { Redis } from 'ioredis';

/**
 * Tells every API process that events up to a position were relayed. The message is that position
 * only: each process reads the events themselves from the outbox (one statement per signal), so
 * nothing received from Redis is trusted as data: a stray or forged message (another deployment
 * sharing the Redis, a client on the same server) can only cause a read that finds nothing new.
 *
 * Pub/sub is at most once: a message published while a subscriber is disconnected is lost to it.
 * So the bus also says when that may have happened (`onResync`, after a reconnect), and the hub
 * then reads what it missed from the outbox.
 */
export interface BusHandlers {
  /** Events up to this position were relayed. */
  onSignal(upTo: number): void;
  /** Signals may have been missed. */
  onResync(): void;
}

export interface EventBus {
  readonly backend: 'redis' | 'memory';
  /** Publishes a signal; rejects if the bus could not take it (the relay publishes again later). */
  publish(upTo: number): Promise<void>;
  /** Starts receiving. */
  subscribe(handlers: BusHandlers): Promise<void>;
  close(): Promise<void>;
}

/** One process only (embedded mode, no REDIS_URL). */
export class MemoryEventBus implements EventBus {
  readonly backend = 'memory' as const;
  private handlers: BusHandlers | null = null;

  async publish(upTo: number): Promise<void> {
    this.handlers?.onSignal(upTo);
  }

  async subscribe(handlers: BusHandlers): Promise<void> {
    this.handlers = handlers;
  }

  async close(): Promise<void> {
    this.handlers = null;
  }
}

export interface RedisBusOptions {
  url: string;
  keyPrefix: string;
  commandTimeoutMs: number;
}

/**
 * Redis pub/sub on one channel, `{prefix}booking-events`; each message is a position in decimal.
 * Two connections: a subscribed connection can send nothing else. The publisher fails fast (no
 * offline queue), so a publish while Redis is down rejects at once and the events stay unpublished
 * in the outbox for the relay's next run. The subscriber reconnects (and resubscribes) by itself.
 */
export class RedisEventBus implements EventBus {
  readonly backend = 'redis' as const;
  private readonly channel: string;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;

  constructor(options: RedisBusOptions) {
    this.channel = `${options.keyPrefix}booking-events`;
    const retryStrategy = (times: number) => Math.min(100 * times, 1000);
    this.publisher = new Redis(options.url, {
      commandTimeout: Math.max(options.commandTimeoutMs, 1000),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy,
      lazyConnect: true,
    });
    this.subscriber = new Redis(options.url, { retryStrategy, lazyConnect: true, maxRetriesPerRequest: null });
    // Failed commands reject to their callers; without listeners, ioredis would crash the process.
    this.publisher.on('error', () => {});
    this.subscriber.on('error', () => {});
  }

  async publish(upTo: number): Promise<void> {
    if (this.publisher.status === 'wait') await this.publisher.connect().catch(() => {});
    await this.publisher.publish(this.channel, String(upTo));
  }

  async subscribe(handlers: BusHandlers): Promise<void> {
    this.subscriber.on('message', (channel: string, message: string) => {
      // Anything else on the channel is ignored (see BusHandlers: it is never trusted as data).
      if (channel === this.channel && /^[0-9]{1,15}$/.test(message)) handlers.onSignal(Number(message));
    });
    // 'ready' follows every (re)connection, the first one included: whatever was published while
    // this connection was down (or before it first came up) is read from the outbox.
    this.subscriber.on('ready', () => handlers.onResync());
    this.publisher.connect().catch(() => {});
    // Redis may be down at start: the API starts anyway, the subscription waits in the offline
    // queue and the connection keeps retrying. Not awaited for that reason.
    this.subscriber.connect().catch(() => {});
    this.subscriber.subscribe(this.channel).catch(() => {});
  }

  async close(): Promise<void> {
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}

export function createEventBus(redisUrl: string | undefined, options: Omit<RedisBusOptions, 'url'>): EventBus {
  return redisUrl ? new RedisEventBus({ url: redisUrl, ...options }) : new MemoryEventBus();
}
