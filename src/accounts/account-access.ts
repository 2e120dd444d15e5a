import DataLoader from 'dataloader';
import { withGrants, type Viewer } from '../auth/viewer.js';
import type { ReadThroughCache } from '../cache/keyed-cache.js';
import type { Db } from '../db/sql-helpers.js';
import type { ChangeFeed } from '../shared/change-feed.js';
import { findGrantsByAccountIds, type AccountGrants } from './accounts.repository.js';

/** The cache scope of one account's grants: bumping it drops them on every instance. */
export const accountScope = (accountId: string) => `account:{${accountId}}`;

/**
 * An account token's grants (memberships and customer records), added to its viewer per request,
 * before anything of the request runs: a mutation's `who` decides from them without SQL.
 *
 * They are read through the shared cache (the same generation-guarded cache as availability): in
 * process without Redis (bounded, see MemoryGenerationStore), in Redis with it. A warm request costs
 * no statement (with Redis, the one round trip that reads the scope's generation and the value
 * together). Every change that touches an account's grants names it in `Change.accountIds`; the
 * listener bumps the account's scope before the mutation returns, so the next request on any
 * instance, which reads the generation first, computes the grants again: a revoked membership stops
 * working within one request everywhere. Cold reads of concurrent requests of several accounts go
 * to the database in one statement; of one account, in one flight (the cache's single flight).
 */
export class AccountAccess {
  private readonly batch: DataLoader<string, AccountGrants>;

  constructor(
    db: Db,
    private readonly cache: ReadThroughCache,
  ) {
    this.batch = new DataLoader(async (ids) => {
      const grants = await findGrantsByAccountIds(db, ids);
      return ids.map((id) => grants.get(id)!);
    }, { cache: false, maxBatchSize: 500 });
  }

  /** The viewer with its account's grants; a service token's or an anonymous viewer as it is. */
  async viewerOf(viewer: Viewer): Promise<Viewer> {
    const accountId = viewer.accountId;
    if (!accountId) return viewer;
    const grants = await this.cache.get<AccountGrants>({ family: 'account_grants', scope: accountScope(accountId), key: 'grants', compute: () => this.batch.load(accountId) });
    return withGrants(viewer, grants);
  }

  /** Drops the grants of every account a committed change names (on every instance, through the store). */
  listen(changes: ChangeFeed): () => void {
    return changes.subscribe(async (change) => {
      if (change.accountIds?.length) await this.cache.invalidate(change.accountIds.map(accountScope));
    });
  }
}
