import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs the fixture in a process of its own; its exit code and everything it printed. */
async function runFixture(...args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/faults/fixtures/guarded-process.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = await once(child, 'exit');
  return { code: code as number | null, output };
}

const logLines = (output: string) =>
  output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: string; msg: string; error?: string; stack?: string });

describe('Process guards: what an unhandled error does to the API process', () => {
  it('keeps serving after a promise rejection nobody handles, and logs it with its stack', async () => {
    const { code, output } = await runFixture('rejection');
    expect(code, output).toBe(0);
    expect(output).toContain('still serving');
    const [logged] = logLines(output);
    expect(logged).toMatchObject({ level: 'error', msg: 'A promise was rejected and nobody handled it; the process keeps serving', error: 'Nobody awaits this.' });
    expect(logged.stack).toContain('guarded-process.ts');
  });

  it("keeps serving after a pg client nobody listens to loses its connection, and logs it once as a warning", async () => {
    const { code, output } = await runFixture('pg-error');
    expect(code, output).toBe(0);
    expect(output).toContain('connected');
    expect(output).toContain('still serving');
    expect(logLines(output)).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'A network client failed with nobody listening; it is discarded and the process keeps serving', error: 'Connection terminated unexpectedly' }),
    ]);
  });

  it("dies of that same pg client error without the guards: Node's default the guards replace", async () => {
    const { code, output } = await runFixture('pg-error', 'unguarded');
    expect(code).not.toBe(0);
    expect(output).not.toContain('still serving');
    expect(output).toContain("Unhandled 'error' event");
  });

  it('exits with code 1 on an uncaught exception that is not a network failure, after logging it', async () => {
    const { code, output } = await runFixture('bug');
    expect(code, output).toBe(1);
    expect(output).not.toContain('still serving');
    expect(logLines(output)).toEqual([
      expect.objectContaining({ level: 'error', msg: 'Uncaught exception; the process exits, its state may be unsafe', error: 'A bug: undefined is not a function.' }),
    ]);
  });
});
