/**
 * Start-up time: from spawning the API to its first answer of `{ __typename }`, for `npm start`
 * (TypeScript through tsx) and for the production build (`node dist/index.js`), on the embedded
 * database (a copy of one already migrated and seeded, so every run is a restart) or on
 * DATABASE_URL. Needs `npm run build` first.
 *   npx tsx bench/startup.ts [runs]
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const runs = Number(process.argv[2] ?? 5);
const PORT = Number(process.env.STARTUP_PORT ?? 4190);
const commands: Record<string, string[]> = {
  'npm start (tsx)': ['--max-semi-space-size=64', '--import', 'tsx', 'src/index.ts'],
  'node dist/index.js': ['--max-semi-space-size=64', 'dist/index.js'],
};

async function firstAnswer(args: string[], dataDir: string): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env: { ...process.env, PORT: String(PORT), DATA_DIR: dataDir }, stdio: 'ignore' });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
      try {
        const res = await fetch(`http://127.0.0.1:${PORT}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
        if (res.ok) return performance.now() - started;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

const root = mkdtempSync(join(tmpdir(), 'startup-'));
const seeded = join(root, 'seeded');
try {
  if (!process.env.DATABASE_URL) {
    console.log('seeding a template database (first start)...');
    console.log(`first start, embedded, tsx: ${((await firstAnswer(commands['npm start (tsx)'], seeded)) / 1000).toFixed(1)} s`);
  }
  for (const [name, args] of Object.entries(commands)) {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const dir = join(root, `run-${name.length}-${i}`);
      if (!process.env.DATABASE_URL) cpSync(seeded, dir, { recursive: true });
      times.push(await firstAnswer(args, dir));
      rmSync(dir, { recursive: true, force: true });
    }
    times.sort((a, b) => a - b);
    console.log(`${name}: restart to first answer, median ${(times[Math.floor(times.length / 2)] / 1000).toFixed(2)} s (min ${(times[0] / 1000).toFixed(2)}, max ${(times[times.length - 1] / 1000).toFixed(2)}) over ${runs} runs`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
