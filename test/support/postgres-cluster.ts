import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './redis.js';

const run = promisify(execFile);

/** Where Debian puts PostgreSQL 15's server binaries; PG_BIN overrides it. */
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PostgresCluster {
  port: number;
  /** A URL of the `postgres` database; `urlOf(name)` for another one. */
  url: string;
  urlOf(database: string): string;
  /** `pg_ctl restart -m immediate`: every backend is killed at once, as in a crash, then the server comes back. */
  restartImmediate(): Promise<void>;
  /** `pg_ctl stop -m immediate`: the server goes away at once, as in a crash (`start()` brings it back). */
  stopImmediate(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server (immediate) and deletes its directory. Safe to call twice. */
  destroy(): Promise<void>;
}

type PgRunner = (binary: string, args: string[]) => Promise<unknown>;

/**
 * A directory for a server of a test's own. initdb and the server refuse to run as root, so when the
 * tests run as root (CI), the directory is given to the `postgres` user and the binaries run as it
 * (runuser); otherwise they run as the current user.
 */
async function clusterDirectory(prefix: string): Promise<{ dir: string; data: string; pg: PgRunner }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const pg: PgRunner = (binary, args) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(PG_BIN, binary), ...args]) : run(join(PG_BIN, binary), args);
  return { dir, data: join(dir, 'data'), pg };
}

/** Starts the server of an initialized (or base-backed-up) data directory and returns its handle. */
async function startServer(where: { dir: string; data: string; pg: PgRunner }, port: number): Promise<PostgresCluster> {
  const { dir, data, pg } = where;
  let running = false;
  let destroyed = false;
  // The socket lives in the cluster's directory (not /var/run/postgresql, which is the shared server's).
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=off -c full_page_writes=off`;
  const start = async () => {
    await pg('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start']);
    running = true;
  };
  const stopImmediate = async () => {
    running = false;
    await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
  };
  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    if (running) await stopImmediate().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await start();
  } catch (error) {
    await destroy();
    throw error;
  }
  const urlOf = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    url: urlOf('postgres'),
    urlOf,
    async restartImmediate() {
      await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-l', join(dir, 'server.log'), '-w', '-t', '30', 'restart']);
    },
    stopImmediate,
    start,
    destroy,
  };
}

/** A PostgreSQL server of a test's own, in a temporary directory, on a free port: a test may kill and restart it without touching the shared server. */
export async function startPostgresCluster(): Promise<PostgresCluster> {
  const where = await clusterDirectory('pg-fault-');
  try {
    await where.pg('initdb', ['-D', where.data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  } catch (error) {
    rmSync(where.dir, { recursive: true, force: true });
    throw error;
  }
  return startServer(where, await freePort());
}

/**
 * A hot standby streaming from `primary`, on a free port of its own: `pg_basebackup -R` (which
 * writes standby.signal and primary_conninfo) over the primary's TCP port, then started. initdb's
 * trust rules admit replication connections from 127.0.0.1, and PostgreSQL 15's defaults
 * (wal_level=replica, max_wal_senders=10, hot_standby=on) need nothing more. A fast checkpoint: the
 * default (spread) one would keep the backup waiting for minutes.
 */
export async function startStreamingReplica(primary: PostgresCluster): Promise<PostgresCluster> {
  const where = await clusterDirectory('pg-replica-');
  try {
    await where.pg('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', where.data, '-R', '-X', 'stream', '--checkpoint=fast', '--no-sync']);
  } catch (error) {
    rmSync(where.dir, { recursive: true, force: true });
    throw error;
  }
  return startServer(where, await freePort());
}
