import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';
import { isConnectionError } from './connection-errors.js';

/** See REPLICA_MAX_LAG_MS: a replica further behind than this serves no reads until it catches up. */
export const DEFAULT_REPLICA_MAX_LAG_MS = 1000;
/** See REPLICA_CHECK_INTERVAL_MS: how often each replica's lag is measured. */
export const DEFAULT_REPLICA_CHECK_INTERVAL_MS = 500;

/** What /readyz and the logs say about one read replica. */
export interface ReplicaStatus {
  /** host:port/database, without credentials. */
  name: string;
  /** The last check (or read) reached it. */
  up: boolean;
  /** How far behind the primary it was at the last check, in ms; null while down or before the first check. */
  lagMs: number | null;
  /** Reads go to it: up, and no further behind than the bound. */
  serving: boolean;
  checkedAt: string | null;
  /** Why it is down, or how far behind, when it is not serving. */
  reason: string | null;
}

/** One replica: its pool for reads (the preparing wrapper, connect.ts) and a raw pool of one connection for the lag check. */
export interface ReplicaMember {
  name: string;
  pool: PostgresPool;
  probe: pg.Pool;
}

export interface ReadReplicasOptions {
  maxLagMs: number;
  checkIntervalMs: number;
  /** Told when a replica starts or stops serving reads (app.ts logs it). */
  onChange?: (status: ReplicaStatus) => void;
}

/**
 * SQLSTATE 40001 with this message: the replica cancelled a read that conflicted with WAL it had to
 * replay (a vacuum on the primary removed rows the read still saw). The same read on the primary is
 * fine, so it is sent there rather than failed.
 */
const RECOVERY_CONFLICT = /conflict with recovery/;

function sendToPrimaryInstead(error: unknown): boolean {
  return isConnectionError(error) || ((error as { code?: unknown }).code === '40001' && RECOVERY_CONFLICT.test(String((error as Error).message)));
}

/**
 * Routes reads to streaming replicas, and back to the primary whenever none can serve them.
 *
 * Lag is measured on a timer, never per request: each round reads the primary's WAL position
 * (`pg_current_wal_lsn()`) and asks every replica whether it has replayed past it; one that has is
 * 0 ms behind, one that has not is as far behind as its last replayed transaction is old
 * (`now() - pg_last_xact_replay_timestamp()`). After an idle spell the primary's first write makes
 * that look large for one round: the error is on the safe side (reads go to the primary meanwhile).
 *
 * A replica is taken out at once, without waiting for the timer, when a checkout or a statement on
 * it fails for a connection reason: that statement runs again on the primary and its caller never
 * sees the failure. Only single statements are sent here (loaders' reads, never a transaction), so
 * sending one again is safe. The timer's next successful check puts it back.
 */
export class ReadReplicas {
  private readonly states: ReplicaStatus[];
  private next = 0;
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<void> | null = null;

  /** The pool behind the `read` handle (connect.ts). Ending it ends nothing: `close()` does. */
  readonly pool: PostgresPool = { connect: () => this.checkout(), end: async () => {} };

  constructor(
    private readonly members: ReplicaMember[],
    private readonly primary: { pool: PostgresPool; probe: pg.Pool },
    private readonly options: ReadReplicasOptions,
  ) {
    this.states = members.map((m) => ({ name: m.name, up: false, lagMs: null, serving: false, checkedAt: null, reason: 'not checked yet' }));
  }

  /** Each replica as last seen; what /readyz reports. */
  status(): ReplicaStatus[] {
    return this.states.map((s) => ({ ...s }));
  }

  /** Whether any replica serves reads now. */
  get serving(): boolean {
    return this.states.some((s) => s.serving);
  }

  /** Checks once now (the first answer decides where the first reads go), then every interval. */
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.options.checkIntervalMs);
    this.timer.unref();
  }

  /** One round of lag checks (rounds never overlap). */
  check(): Promise<void> {
    this.checking ??= this.checkAll().finally(() => (this.checking = null));
    return this.checking;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.checking;
    await Promise.all(this.members.flatMap((m) => [m.pool.end(), m.probe.end()]));
  }

  private async checkAll(): Promise<void> {
    // Without the primary's position (it is down), a replica that answers counts as caught up: it
    // has everything the primary got to send, and is the only place reads can go.
    const primaryLsn = await this.primary.probe
      .query<{ lsn: string }>('/* primaryWalPosition */ SELECT pg_current_wal_lsn()::text AS lsn')
      .then((r) => r.rows[0].lsn, () => null);
    await Promise.all(
      this.members.map(async (member, i) => {
        try {
          const { rows } = await member.probe.query<{ caught_up: boolean; since_replay_ms: number | null }>(
            `/* replicaLag */ SELECT $1::pg_lsn IS NULL OR pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught_up,
               (EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000)::float8 AS since_replay_ms`,
            [primaryLsn],
          );
          const lagMs = rows[0].caught_up ? 0 : Math.round(rows[0].since_replay_ms ?? Number.POSITIVE_INFINITY);
          const serving = lagMs <= this.options.maxLagMs;
          this.set(i, { up: true, lagMs, serving, reason: serving ? null : `${lagMs} ms behind the primary (REPLICA_MAX_LAG_MS is ${this.options.maxLagMs})` });
        } catch (error) {
          this.set(i, { up: false, lagMs: null, serving: false, reason: (error as Error).message });
        }
      }),
    );
  }

  private set(i: number, change: Pick<ReplicaStatus, 'up' | 'lagMs' | 'serving' | 'reason'>): void {
    const previous = this.states[i];
    const next = { ...previous, ...change, checkedAt: new Date().toISOString() };
    this.states[i] = next;
    if (previous.serving !== next.serving) this.options.onChange?.({ ...next });
  }

  private down(member: ReplicaMember, error: Error): void {
    const i = this.members.indexOf(member);
    this.set(i, { up: false, lagMs: null, serving: false, reason: error.message });
  }

  /** The next serving replica, in turn; null when none serves. */
  private pick(): ReplicaMember | null {
    for (let tried = 0; tried < this.members.length; tried++) {
      const i = this.next++ % this.members.length;
      if (this.states[i].serving) return this.members[i];
    }
    return null;
  }

  private async checkout(): Promise<PostgresPoolClient> {
    const member = this.pick();
    if (!member) return this.primary.pool.connect();
    let client: PostgresPoolClient;
    try {
      client = await member.pool.connect();
    } catch (error) {
      if (!sendToPrimaryInstead(error)) throw error;
      this.down(member, error as Error);
      return this.primary.pool.connect();
    }
    let onPrimary = false;
    return {
      query: async (text: string, values: unknown[]) => {
        try {
          return await client.query(text, values);
        } catch (error) {
          if (onPrimary || !sendToPrimaryInstead(error)) throw error;
          if (isConnectionError(error)) this.down(member, error as Error);
          // The preparing wrapper releases a broken client with its error: the pool discards it.
          client.release();
          client = await this.primary.pool.connect();
          onPrimary = true;
          return client.query(text, values);
        }
      },
      release: () => client.release(),
    } as PostgresPoolClient;
  }
}
