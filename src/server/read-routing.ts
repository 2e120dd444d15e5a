import { Redis } from 'ioredis';
import { actorOf, type Viewer } from '../auth/viewer.js';
import type { DatabaseHandle } from '../db/connect.js';
import type { Db } from '../db/sql-helpers.js';
import type { ReadChoice } from '../shared/loader-registry.js';
import type { Logger } from '../shared/logger.js';

/** See READ_YOUR_WRITES_MS. */
export const DEFAULT_READ_YOUR_WRITES_MS = 5000;

/** Entries past this many are swept of the expired ones (the memory side stays bounded by traffic of one window). */
const SWEEP_AT = 10_000;

export interface ReadRoutingOptions {
  /** After a viewer's write, their reads stay on the primary this long (READ_YOUR_WRITES_MS). */
  windowMs: number;
  /** Where the window is kept for every instance to see; without it, in this process only. */
  redisUrl?: string;
  keyPrefix?: string;
  commandTimeoutMs?: number;
  log: Logger;
}

/**
 * Which handle a request's replica-eligible reads use (LoaderRegistry.read): the `read` handle
 * (replicas, or the primary when none serves), except for a viewer who wrote within the last
 * `windowMs`, who reads from the primary and so sees their own write whichever instance serves them.
 *
 * The window is carried across instances as a Redis key per viewer (`recent-write:<role>:<subject>`,
 * expiring after the window), set after the write committed and before its answer is sent; each
 * process also keeps its own writers in memory, so its own next request needs no Redis round trip.
 * The key is read at most once per request, and only by a request that has a subject, reads
 * something a replica could serve, and runs while a replica serves; a request that cannot read it
 * (Redis down) reads from the primary. Without REDIS_URL the window is this process's only (one
 * instance, or sticky sessions at the balancer).
 *
 * The window must outlast REPLICA_MAX_LAG_MS plus a lag check interval: a replica that serves is
 * at most that far behind, so after the window it has the write too.
 */
export class ReadRouting implements ReadChoice {
  private readonly recent = new Map<string, number>();
  private readonly redis: Redis | null;
  private readonly prefix: string;

  constructor(
    private readonly database: Pick<DatabaseHandle, 'db' | 'read' | 'replicas'>,
    private readonly options: ReadRoutingOptions,
  ) {
    this.prefix = `${options.keyPrefix ?? ''}recent-write:`;
    const timeout = options.commandTimeoutMs ?? 200;
    this.redis =
      database.replicas && options.redisUrl
        ? new Redis(options.redisUrl, { commandTimeout: timeout, connectTimeout: Math.max(timeout * 5, 1000), enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: (times) => Math.min(100 * times, 1000) })
        : null;
    // Failed commands reject to their callers (who read from the primary); without a listener, ioredis would crash the process.
    this.redis?.on('error', () => {});
  }

  /** A replica's handle, or null for the primary (the request's own handle, which counts its statements). */
  readFor(viewer: Viewer): Db | null | Promise<Db | null> {
    const { read, replicas } = this.database;
    if (!replicas || !replicas.serving) return null;
    if (!viewer.subject) return read;
    const key = actorOf(viewer);
    const until = this.recent.get(key);
    if (until !== undefined && until > Date.now()) return null;
    if (!this.redis) return read;
    return this.redis.exists(this.prefix + key).then(
      (found) => (found ? null : read),
      () => null,
    );
  }

  /** Called after a viewer's write committed, before its answer goes out. */
  async wrote(viewer: Viewer): Promise<void> {
    if (!this.database.replicas || !viewer.subject) return;
    const key = actorOf(viewer);
    const now = Date.now();
    if (this.recent.size >= SWEEP_AT) for (const [k, until] of this.recent) if (until <= now) this.recent.delete(k);
    this.recent.set(key, now + this.options.windowMs);
    if (!this.redis) return;
    await this.redis.set(this.prefix + key, '1', 'PX', this.options.windowMs).catch((error: Error) =>
      (this.options.log.warn ?? this.options.log.info).call(this.options.log, 'Could not share a write with the other instances: their reads for this viewer may lag behind it', { message: error.message }),
    );
  }

  async close(): Promise<void> {
    this.redis?.disconnect();
  }
}
