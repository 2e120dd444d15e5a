import { BoundedMap } from './bounded-map.js';
import type { ReadThroughCache } from './keyed-cache.js';

/** The one scope whose generation guards every kept catalog row (see CatalogCache); braced, a hash tag like the other scopes'. */
export const CATALOG_SCOPE = '{catalog}';

/** The tables whose rows by id are kept across requests. */
export type CatalogFamily = 'business' | 'service' | 'partner';

export interface CatalogCacheOptions {
  /** How long a row is kept at most (CATALOG_CACHE_TTL_SECONDS): a bound for a write made outside the API (SQL by hand). */
  ttlMs: number;
  maxEntries: number;
  /** Summed size of the kept rows (UTF-16 characters of their JSON, 2 bytes each). */
  maxBytes: number;
}

export const DEFAULT_CATALOG_LIMITS = { maxEntries: 50_000, maxBytes: 32 * 1024 * 1024 };

interface Kept {
  generation: string;
  row: object;
  expiresAt: number;
}

/**
 * Businesses, services and partners by id, kept in this process across requests: on a page of
 * bookings, their service's and partner's rows are the same few rows request after request, and
 * reading them is two of the page's five statements.
 *
 * Fresh like the availability cache, by generation: every kept row carries the generation of the
 * catalog scope it was read under, and a request serves a row only when that is the generation the
 * shared store (Redis, or in-process without it) holds when the request first needs one. A committed
 * write to a business, service or partner bumps the generation before its mutation returns (see
 * shared/mutation.ts: a step that audits one of those entities announces a catalog change), so no
 * request that starts after a write returned, on any instance, is answered from a row read before it.
 * The generation is read before the rows: a row read from the database while a write commits is
 * kept under the older generation, which no later request uses.
 *
 * - One Redis round trip per request that reads catalog rows, instead of a statement per table.
 * - When the store does not answer (or owes a bump it could not make), nothing is served from here
 *   and rows are read from the database, as without the cache.
 * - Misses are read from the primary, never from a replica that could still be behind the write
 *   whose bump this request saw.
 * - Mutations bypass it (their checks and payloads read the primary, as before), and so does what
 *   is computed to be kept in the availability cache (the ...FromPrimary loaders): a change is
 *   announced availability first, so an availability entry kept under the new generation must not
 *   be computed from a catalog row the catalog bump has not reached yet.
 * - Like the availability cache's, a bump the writing process could not make (its store down) is
 *   owed and paid by that process; the others see the write once it is paid, or after the TTL.
 * - Kept rows are frozen: every request shares them.
 * - `partners.active_booking_count` changes with every booking: it is not part of a kept partner
 *   (Partner.activeBookingCount loads it on its own when asked).
 *
 * One scope for the whole catalog: a write anywhere makes every instance read its rows once more.
 * Catalog writes are rare next to reads; per-business scopes would keep the rest warm, at the price
 * of one generation per business a request touches.
 */
export class CatalogCache {
  private readonly kept: BoundedMap<string, Kept>;

  constructor(
    private readonly cache: ReadThroughCache,
    private readonly options: CatalogCacheOptions,
  ) {
    this.kept = new BoundedMap(options.maxEntries, options.maxBytes);
  }

  /** The catalog's generation now; null when the store cannot say, and then nothing is served from here. */
  generation(): Promise<string | null> {
    return this.cache.generationOf(CATALOG_SCOPE);
  }

  /**
   * The rows of `ids` that exist, those kept under `generation` without a statement, the others by
   * one `read` of the missing ids, whose rows are kept under `generation`.
   */
  async rows<T extends { id: string }>(family: CatalogFamily, ids: readonly string[], generation: string, read: (ids: readonly string[]) => Promise<T[]>): Promise<T[]> {
    const now = Date.now();
    const found: T[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const kept = this.kept.get(`${family}:${id}`);
      if (kept !== undefined && kept.generation === generation && kept.expiresAt > now) found.push(kept.row as T);
      else missing.push(id);
    }
    // One read per batch, counted as the availability cache counts its reads (GET /metrics).
    const counted = `catalog_${family}`;
    if (!missing.length) {
      this.cache.metrics.count('hits', counted);
      return found;
    }
    this.cache.metrics.count('misses', counted);
    this.cache.metrics.count('computations', counted);
    const fresh = await read(missing);
    const expiresAt = Date.now() + this.options.ttlMs;
    for (const row of fresh) {
      const key = `${family}:${row.id}`;
      this.kept.set(key, { generation, row: Object.freeze(row), expiresAt }, (key.length + JSON.stringify(row).length) * 2);
      found.push(row);
    }
    return found;
  }

  /** Makes every kept row unreachable, on every instance (a bump of the shared generation; never throws). */
  invalidate(): Promise<void> {
    return this.cache.invalidate([CATALOG_SCOPE]);
  }

  /** How many rows are kept (tests, operators). */
  get size(): number {
    return this.kept.size;
  }
}
