import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './redis.js';

const run = promisify(execFile);

/** Debian's pgbouncer; PGBOUNCER_BIN overrides it. */
const PGBOUNCER_BIN = process.env.PGBOUNCER_BIN ?? '/usr/sbin/pgbouncer';

export interface PgBouncer {
  port: number;
  /** `target` with the bouncer's host and port in place of the server's. */
  url: string;
  /** Stops the bouncer and deletes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * A PgBouncer of a test's own in transaction mode, on a free port, in front of the server of
 * `target` (trust authentication, as the test servers have). Every transaction may run on any of
 * `serverConnections` server connections: what breaks named prepared statements and session state.
 * pgbouncer refuses to run as root; as root it is told to switch to the `postgres` user (-u), who
 * is given its directory. It logs to stderr, which a failed start quotes.
 */
export async function startPgBouncer(target: string, options: { serverConnections?: number } = {}): Promise<PgBouncer> {
  const server = new URL(target);
  const dir = mkdtempSync(join(tmpdir(), 'pgbouncer-'));
  const port = await freePort();
  const users = join(dir, 'users.txt');
  writeFileSync(users, `"${decodeURIComponent(server.username) || 'postgres'}" ""\n`);
  const ini = join(dir, 'pgbouncer.ini');
  writeFileSync(
    ini,
    [
      '[databases]',
      `* = host=${server.hostname} port=${server.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      `unix_socket_dir =`,
      'auth_type = trust',
      `auth_file = ${users}`,
      'pool_mode = transaction',
      `default_pool_size = ${options.serverConnections ?? 10}`,
      'max_client_conn = 500',
      '',
    ].join('\n'),
  );
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    for (const path of [dir, users, ini]) chownSync(path, Number(uid.trim()), Number(gid.trim()));
  }
  const child: ChildProcess = spawn(PGBOUNCER_BIN, [...(asRoot ? ['-u', 'postgres'] : []), ini], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM'); // immediate shutdown (SIGINT would wait for clients to leave)
      await once(child, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return { port, url: url.toString(), stop };
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Expected pgbouncer to listen on port ${port}; it exited with ${child.exitCode}: ${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`Expected pgbouncer to listen on port ${port} within 10 s; it did not: ${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
