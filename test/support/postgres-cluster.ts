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
  /** Stops the server (immediate) and deletes its directory. Safe to call twice. */
  destroy(): Promise<void>;
}

/**
 * A PostgreSQL server of a test's own, in a temporary directory, on a free port: a test may kill and
 * restart it without touching the shared server. initdb and the server refuse to run as root, so
 * when the tests run as root (CI), the directory is given to the `postgres` user and the binaries
 * run as it (runuser); otherwise they run as the current user.
 */
export async function startPostgresCluster(): Promise<PostgresCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'pg-fault-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const pg = (binary: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(PG_BIN, binary), ...args]) : run(join(PG_BIN, binary), args);
  const port = await freePort();
  let started = false;
  let destroyed = false;
  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    if (started) await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    // The socket lives in the cluster's directory (not /var/run/postgresql, which is the shared server's).
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=off -c full_page_writes=off`;
    await pg('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start']);
    started = true;
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
    destroy,
  };
}
