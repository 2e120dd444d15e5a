import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findMissingPrerequisites } from './support/prerequisites.js';
import { freePort } from './support/redis.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Runs `npx vitest run <file>` as a developer would, and what it printed. */
function runVitest(file: string, env: Record<string, string>): Promise<{ code: number | null; output: string; ms: number }> {
  const started = Date.now();
  const environment: NodeJS.ProcessEnv = { ...process.env, ...env, CI: 'true' };
  // Never the shared PostgreSQL database: the global setup would reset it under the running suite.
  delete environment.DATABASE_URL;
  // The file it runs is one CI's second pass skips (vitest.config.ts): the child must not skip it.
  delete environment.TEST_SKIP_BACKEND_AGNOSTIC;
  const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', file], { cwd: ROOT, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output, ms: Date.now() - started })));
}

describe('Test prerequisites: a machine without Redis is told so at once', () => {
  it('finds nothing missing on a machine with Redis and redis-server', async () => {
    expect(await findMissingPrerequisites()).toEqual([]);
  });

  it('names the unreachable Redis and TEST_REDIS_URL in one sentence', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const missing = await findMissingPrerequisites({ TEST_REDIS_URL: url });
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatch(new RegExp(`^Expected a Redis at ${url} \\(TEST_REDIS_URL\\) for the cache tests, got no answer \\(.*ECONNREFUSED.*\\): start one .* or point TEST_REDIS_URL at one\\.$`));
  });

  it('stops `vitest run` before any test with that one line and exit code 1, within seconds', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const { code, output, ms } = await runVitest('test/sandbox.test.ts', { TEST_REDIS_URL: url });
    expect(code).toBe(1);
    const lines = output.split('\n').filter((line) => line.includes(url));
    expect(lines).toEqual([expect.stringMatching(/^Expected a Redis at .* \(TEST_REDIS_URL\)/)]);
    expect(output).not.toContain('Sandbox:'); // no test file ran
    expect(output.match(/ECONNREFUSED/g)).toHaveLength(1); // no flood of connection errors
    expect(ms).toBeLessThan(20_000); // vitest's own start-up on a loaded machine; the check itself is one connect attempt
  }, 60_000);
});
