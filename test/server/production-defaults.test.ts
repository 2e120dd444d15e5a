import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.js';
import { startTestApi, TEST_JWT_SECRET, type TestApi } from '../support/api.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const INTROSPECTION = '{ __schema { queryType { name } } }';
const TYPO = '{ businesss(first: 1) { nodes { id } } }';

describe('Production defaults: the schema is not advertised', () => {
  it('turns introspection off when NODE_ENV=production, unless GRAPHQL_INTROSPECTION=true', () => {
    const production = { NODE_ENV: 'production', AUTH_JWT_SECRET: 'x'.repeat(32) };
    expect(loadConfig(production).introspection).toBe(false);
    expect(loadConfig({ ...production, GRAPHQL_INTROSPECTION: 'true' }).introspection).toBe(true);
    expect(loadConfig({}).introspection).toBe(true);
    expect(() => loadConfig({ GRAPHQL_INTROSPECTION: 'maybe' })).toThrow(/Expected GRAPHQL_INTROSPECTION to be true or false, got "maybe"/);
  });

  describe('with introspection off', () => {
    let api: TestApi;
    beforeAll(async () => {
      api = await startTestApi({ config: { introspection: false } });
    });
    afterAll(() => api.close());

    it('refuses an introspection query over HTTP with GRAPHQL_VALIDATION_FAILED', async () => {
      const res = await api.gql(INTROSPECTION);
      expect(res.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(res.errors?.[0].message).toMatch(/introspection/i);
      expect(res.data).toBeUndefined();
    });

    it('gives no "Did you mean" suggestion for a misspelt field', async () => {
      const res = await api.gql(TYPO);
      expect(res.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(res.errors?.[0].message).toMatch(/Cannot query field "businesss" on type "Query"/);
      expect(res.errors?.[0].message).not.toMatch(/Did you mean/);
    });

    it('does the same over WebSocket', async () => {
      const token = await api.token({ sub: 'admin-1', role: 'admin' });
      const ws = new WebSocket(api.app.wsUrl, 'graphql-transport-ws');
      const messages: any[] = [];
      ws.on('message', (data) => messages.push(JSON.parse(String(data))));
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
      const deadline = Date.now() + 5000;
      while (!messages.some((m) => m.type === 'connection_ack') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { __schema { queryType { name } } }' } }));
      ws.send(JSON.stringify({ id: '2', type: 'subscribe', payload: { query: 'subscription { bookingEventz(businessId: "x") { cursor } }' } }));
      while (messages.filter((m) => m.type === 'error').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      ws.close();
      const errors = Object.fromEntries(messages.filter((m) => m.type === 'error').map((m) => [m.id, m.payload[0]]));
      expect(errors['1'].message).toMatch(/introspection/i);
      expect(errors['2'].message).toMatch(/Cannot query field "bookingEventz"/);
      expect(errors['2'].message).not.toMatch(/Did you mean/);
    });
  });

  describe('with introspection on (development)', () => {
    let api: TestApi;
    beforeAll(async () => {
      api = await startTestApi();
    });
    afterAll(() => api.close());

    it('answers introspection and suggests the field that was meant', async () => {
      expect((await api.gql(INTROSPECTION)).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
      expect((await api.gql(TYPO)).errors?.[0].message).toMatch(/Did you mean "business"/);
    });
  });
});

describe('Start-up: a port in use', () => {
  let blocker: Server;
  let port: number;
  let dataDir: string;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    port = (blocker.address() as { port: number }).port;
    dataDir = join(mkdtempSync(join(tmpdir(), 'busy-port-')), 'pglite');
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('exits non-zero with "port N is in use; set PORT" before it opens the database', async () => {
    const env: Record<string, string | undefined> = { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, AUTH_JWT_SECRET: TEST_JWT_SECRET };
    delete env.DATABASE_URL;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(output).toContain(`The API could not start: port ${port} is in use; set PORT`);
    expect(code).toBe(1);
    // It never got as far as the embedded database: that directory was not even created.
    expect(existsSync(dataDir)).toBe(false);
    expect(output).not.toMatch(/WebSocket|stack|    at /);
  });
});
