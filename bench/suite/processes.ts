/**
 * The processes the suite starts and stops: the API (exactly as `npm start` runs it, its JSON log
 * read line by line for the statements each request ran) and the raw baseline server. Nothing of
 * the log is kept but per-operation sums, so a long soak does not grow this process.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { OperationTally } from './report.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Every child still running, killed if this process exits or is interrupted before it stopped them. */
const children = new Set<ChildProcess>();
let guarded = false;
function track(child: ChildProcess): ChildProcess {
  if (!guarded) {
    guarded = true;
    process.once('exit', () => {
      for (const c of children) c.kill('SIGKILL');
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        for (const c of children) c.kill('SIGTERM');
        process.exit(130);
      });
    }
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** VmRSS of a process in MB, from /proc/<pid>/status; 0 once it has gone. */
export function rssMb(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line ? Math.round(Number(line.replace(/\D/g, '')) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** CPU time (user + system) a process has used so far, in milliseconds, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
/** USER_HZ: 100 on every Linux build that matters here. */
const CLOCK_TICKS = 100;

export interface Started {
  child: ChildProcess;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
}

export interface ApiProcess extends Started {
  wsUrl: string;
  /** Sums of the request log since the last call, per operation name; resets them. */
  takeTallies(): Record<string, OperationTally>;
  metric(name: string): Promise<number>;
}

/**
 * How the API is started: the production build by default, as a deployment runs it (`npm run
 * build`, then `npm run start:prod`'s command), or the development start (`npm start`: TypeScript
 * through tsx, which costs CPU per request and about 90 MB of memory) with BENCH_START=tsx.
 */
function apiEntry(): string[] {
  if (process.env.BENCH_START === 'tsx') return ['--import', 'tsx', 'src/index.ts'];
  if (!builtOnce) {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
    builtOnce = true;
  }
  return ['--enable-source-maps', 'dist/index.js'];
}
let builtOnce = false;

/**
 * Starts the API (see `apiEntry`, with `--max-semi-space-size=64` as package.json does) on a free
 * port with `env`, and resolves once it prints its endpoint. Its stdout and stderr also go to `logFile`.
 */
export async function startApi(env: Record<string, string>, logFile: string): Promise<ApiProcess> {
  const child = track(spawn(process.execPath, ['--max-semi-space-size=64', ...apiEntry()], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_FORMAT: 'json', DEMO_DATA: 'false', SHUTDOWN_DRAIN_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  const log: WriteStream = createWriteStream(logFile);
  child.stderr!.pipe(log, { end: false });
  let sums = new Map<string, { count: number; statements: number; hits: number; misses: number }>();
  let listening = false;
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The API did not start in 60 s; see ${logFile}`)), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The API exited with ${code} before it listened; see ${logFile}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) {
        // Only the request lines are parsed: `"msg":"GraphQL operation"` or `"Slow operation"`.
        if (line.includes('operation"') && line.includes('"statements"')) {
          try {
            const entry = JSON.parse(line) as { operationName?: string | null; statements?: number; cacheHits?: number; cacheMisses?: number };
            const name = entry.operationName ?? '(anonymous)';
            let sum = sums.get(name);
            if (!sum) sums.set(name, (sum = { count: 0, statements: 0, hits: 0, misses: 0 }));
            sum.count++;
            sum.statements += entry.statements ?? 0;
            sum.hits += entry.cacheHits ?? 0;
            sum.misses += entry.cacheMisses ?? 0;
          } catch {
            // not a request line after all
          }
          return;
        }
      }
      if (!listening) {
        const match = /GraphQL endpoint: (http:\/\/[^\s"\\]+)/.exec(line);
        if (match) {
          listening = true;
          clearTimeout(timer);
          resolve(match[1]);
        }
      }
      log.write(line + '\n');
    });
  });
  const endpoint = await url;
  return {
    child,
    pid: child.pid!,
    url: endpoint,
    wsUrl: endpoint.replace(/^http/, 'ws'),
    takeTallies() {
      const out: Record<string, OperationTally> = {};
      for (const [name, s] of sums) out[name] = { count: s.count, statementsPerOp: s.statements / s.count, cacheHits: s.hits, cacheMisses: s.misses };
      sums = new Map();
      return out;
    },
    async metric(name) {
      const text = await (await fetch(endpoint.replace(/\/graphql$/, '/metrics'))).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
      if (!line) throw new Error(`Expected a metric ${name} at /metrics, found none.`);
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    },
    async stop() {
      await stopChild(child);
      log.end();
    },
  };
}

/** bench/raw-server.ts on a free port over `databaseUrl`, once it answers. */
export async function startRawBaseline(databaseUrl: string, poolMax: string): Promise<Started> {
  const port = await freePort();
  const child = track(spawn(process.execPath, ['--import', 'tsx', 'bench/raw-server.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), PG_POOL_MAX: poolMax },
    stdio: ['ignore', 'ignore', 'inherit'],
  }));
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`The raw baseline exited with ${child.exitCode}.`);
    try {
      await fetch(url, { method: 'POST', body: '{}', signal: AbortSignal.timeout(5000) });
      break;
    } catch {
      // tsx compiles on start: on a loaded machine that alone can take tens of seconds.
      if (i > 360) throw new Error('The raw baseline did not answer in 90 s.');
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return { child, pid: child.pid!, url, stop: () => stopChild(child) };
}
