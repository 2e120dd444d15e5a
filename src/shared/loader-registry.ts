import DataLoader from 'dataloader';
import type { Viewer } from '../auth/viewer.js';
import type { CatalogCache, CatalogFamily } from '../cache/catalog-cache.js';
import type { Db } from '../db/sql-helpers.js';
import type { RequestTelemetry } from './request-telemetry.js';

/** Picks the handle of a viewer's replica-eligible reads (server/read-routing.ts). */
export interface ReadChoice {
  /** A replica's handle for this viewer's reads, or null for the primary. */
  readFor(viewer: Viewer): Db | null | Promise<Db | null>;
}

/**
 * The DataLoaders of one request (or of one subscription event): one per (table, key), plus one
 * per (relation, arguments) for pages, since children of different parents can share a statement
 * only when they are asked for with the same arguments. Loaders are made on first use.
 *
 * A loader's cache lives as long as the request: it deduplicates and batches, it is not a shared
 * cache, and writes made by the request itself go through `clearAll()` after a mutation.
 */
export class LoaderRegistry {
  private readonly loaders = new Map<string, DataLoader<any, any>>();
  private reading: Db | Promise<Db> | null = null;
  private primaryOnly = false;
  private catalogGeneration: Promise<string | null> | null = null;

  constructor(
    readonly db: Db,
    readonly viewer: Viewer,
    private readonly reads: ReadChoice | null = null,
    /** The request's metrics (batch sizes); absent outside an HTTP request (subscription events, tests). */
    readonly telemetry?: RequestTelemetry,
    /** Businesses, services and partners by id across requests (cache/catalog-cache.ts); without it, every request reads them. */
    private readonly catalog: CatalogCache | null = null,
  ) {}

  /**
   * Catalog rows by id: from the cross-request catalog cache when the request may use it (the
   * catalog's generation is read once per request, on first use), with `read` on the primary for
   * the rows it lacks; else all of them by `read` on the request's read handle. Mutations never use it.
   */
  async catalogRows<T extends { id: string }>(family: CatalogFamily, ids: readonly string[], read: (db: Db, ids: readonly string[]) => Promise<T[]>): Promise<T[]> {
    const catalog = this.primaryOnly ? null : this.catalog;
    if (catalog !== null) {
      this.catalogGeneration ??= catalog.generation();
      const generation = await this.catalogGeneration;
      // Still not in a mutation: the generation read may have spanned stayOnPrimary().
      if (generation !== null && !this.primaryOnly) return catalog.rows(family, ids, generation, (missing) => read(this.db, missing));
    }
    return read(await this.read(), ids);
  }

  /**
   * The handle for reads a replica may serve (catalog, availability): chosen once per request, on
   * first use. `db` (the primary) without replicas, in a mutation, and for a viewer who just wrote.
   */
  read(): Db | Promise<Db> {
    if (this.primaryOnly || this.reads === null) return this.db;
    if (this.reading === null) {
      const chosen = this.reads.readFor(this.viewer);
      this.reading = chosen instanceof Promise ? chosen.then((db) => db ?? this.db) : (chosen ?? this.db);
    }
    return this.reading;
  }

  /** From now on every read of this request goes to the primary (a mutation: see mutation.ts). */
  stayOnPrimary(): void {
    this.primaryOnly = true;
  }

  get<K, V>(name: string, batch: (keys: readonly K[]) => Promise<ArrayLike<V | Error>>): DataLoader<K, V> {
    let loader = this.loaders.get(name);
    if (!loader) {
      // Batch sizes go to the request's metrics under the loader's name without its arguments
      // ("BookingPageByBusinessId:{...}" counts as BookingPageByBusinessId): a bounded set of names.
      const telemetry = this.telemetry;
      const family = name.split(':', 1)[0];
      const measured = telemetry
        ? (keys: readonly K[]) => {
            telemetry.loaderBatch(family, keys.length);
            return batch(keys);
          }
        : batch;
      loader = new DataLoader<K, V>(measured, { maxBatchSize: 1000 });
      this.loaders.set(name, loader);
    }
    return loader;
  }

  /** Forgets everything loaded so far, so that a mutation's payload reads the committed state. */
  clearAll(): void {
    for (const loader of this.loaders.values()) loader.clearAll();
  }
}

/** Answers keys in order from rows indexed by id; a row the viewer may not see reads as missing. */
export function inKeyOrder<T extends { id: string }>(
  keys: readonly string[],
  rows: readonly T[],
  visible: (row: T) => boolean = () => true,
): (T | null)[] {
  const byId = new Map<string, T>();
  for (const row of rows) byId.set(row.id, row);
  return keys.map((key) => {
    const row = byId.get(key);
    return row !== undefined && visible(row) ? row : null;
  });
}

/** The stable part of a loader name for a page's arguments. */
export function argsKey(args: unknown): string {
  return JSON.stringify(args);
}
