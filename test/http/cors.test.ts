import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/connect.js';
import { PAYMENT_WEBHOOK_PATH } from '../../src/payments/payment-webhooks.http.js';
import { CORS_ALLOWED_HEADERS, CORS_EXPOSED_HEADERS } from '../../src/server/cors.js';
import { openTestDatabase } from '../support/database.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { postGraphQL, rawRequest, type RawResponse } from './http-client.js';

const APP = 'https://app.example.com';
const OTHER = 'https://evil.example.net';
const VIEWER = '{ viewer { role } }';
const BUSINESSES = '{ businesses(first: 1) { nodes { name } } }';

const preflight = (url: string, origin: string, method = 'POST') =>
  rawRequest(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type, authorization' } });

const corsHeaders = (res: RawResponse) => Object.keys(res.headers).filter((name) => name.startsWith('access-control-'));

describe('CORS: pages of listed origins may call /graphql, others may not', () => {
  let database: DatabaseHandle;
  let api: TestApi;
  let closed: TestApi;
  let credentialed: TestApi;
  let wildcard: TestApi;
  let token: string;

  beforeAll(async () => {
    database = await openTestDatabase();
    api = await startTestApi({ database, config: { cors: { origins: [APP], allowCredentials: false, maxAgeSeconds: 600 } } });
    closed = await startTestApi({ database });
    credentialed = await startTestApi({ database, config: { cors: { origins: [APP], allowCredentials: true, maxAgeSeconds: 600 } } });
    wildcard = await startTestApi({ database, config: { cors: { origins: ['*'], allowCredentials: false, maxAgeSeconds: 600 } } });
    token = await api.token({ sub: 'admin-1', role: 'admin' });
  });
  afterAll(async () => {
    for (const each of [api, closed, credentialed, wildcard]) await each?.close();
    await database?.close();
  });

  it('answers a listed origin\'s preflight with 204 and the allowed methods, headers and max age', async () => {
    const res = await preflight(api.app.url, APP);
    expect(res.status).toBe(204);
    expect(res.body.length).toBe(0);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(res.headers['access-control-allow-methods']).toBe('GET, POST');
    expect(res.headers['access-control-allow-headers']).toBe(CORS_ALLOWED_HEADERS);
    expect(CORS_ALLOWED_HEADERS.split(', ')).toEqual(['content-type', 'authorization', 'idempotency-key', 'apollo-require-preflight', 'x-apollo-operation-name', 'x-request-id']);
    expect(res.headers['access-control-max-age']).toBe('600');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(res.headers.vary).toBe('Origin');
  });

  it('refuses an unlisted origin\'s preflight with 403 and no Access-Control-Allow-* header', async () => {
    const res = await preflight(api.app.url, OTHER);
    expect(res.status).toBe(403);
    expect(corsHeaders(res)).toEqual([]);
    expect(res.headers.vary).toBe('Origin');
    expect(res.body.toString()).toBe(`Expected a page from an origin listed in CORS_ORIGINS, got "${OTHER}".`);
  });

  it('refuses every preflight when no origin is listed (the default)', async () => {
    const res = await preflight(closed.app.url, APP);
    expect(res.status).toBe(403);
    expect(corsHeaders(res)).toEqual([]);
  });

  it('lets a listed origin read an answer: Allow-Origin, Expose-Headers and Vary: Origin', async () => {
    const res = await postGraphQL(api.app.url, VIEWER, { origin: APP, authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString()).data).toEqual({ viewer: { role: 'ADMIN' } });
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(res.headers['access-control-expose-headers']).toBe(CORS_EXPOSED_HEADERS);
    expect(CORS_EXPOSED_HEADERS).toContain('retry-after');
    expect(CORS_EXPOSED_HEADERS).toContain('x-request-id');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(res.headers.vary).toBe('Origin');
  });

  it('answers an unlisted origin without any Access-Control-* header, still with Vary: Origin', async () => {
    const res = await postGraphQL(api.app.url, VIEWER, { origin: OTHER });
    expect(res.status).toBe(200);
    expect(corsHeaders(res)).toEqual([]);
    expect(res.headers.vary).toBe('Origin');
  });

  it('sends Vary: Origin on answers to requests without an Origin too', async () => {
    const res = await postGraphQL(api.app.url, VIEWER);
    expect(corsHeaders(res)).toEqual([]);
    expect(res.headers.vary).toBe('Origin');
  });

  it('sends the CORS headers on error answers as well, so the page can read the error', async () => {
    const res = await rawRequest(api.app.url, { method: 'POST', headers: { origin: APP, 'content-type': 'application/json' }, body: '{not json' });
    expect(res.status).toBe(400);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
  });

  it('keeps Apollo\'s CSRF prevention: a simple text/plain POST from a listed origin runs nothing', async () => {
    const { result: res, statements } = await api.countStatements(() =>
      rawRequest(api.app.url, { method: 'POST', headers: { origin: APP, 'content-type': 'text/plain' }, body: JSON.stringify({ query: BUSINESSES }) }),
    );
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body.toString());
    expect(body.errors[0].message).toContain('Cross-Site Request Forgery');
    expect(statements).toBe(0);
  });

  it('keeps Apollo\'s CSRF prevention for GET: without a preflight header it is refused, with one it runs', async () => {
    const url = `${api.app.url}?query=${encodeURIComponent(VIEWER)}`;
    const refused = await rawRequest(url, { headers: { origin: APP } });
    expect(refused.status).toBe(400);
    const admitted = await rawRequest(url, { headers: { origin: APP, 'apollo-require-preflight': 'true' } });
    expect(admitted.status).toBe(200);
    expect(admitted.headers['access-control-allow-origin']).toBe(APP);
  });

  it('adds Allow-Credentials to preflights and answers only when CORS_ALLOW_CREDENTIALS is on', async () => {
    const pre = await preflight(credentialed.app.url, APP);
    expect(pre.headers['access-control-allow-credentials']).toBe('true');
    expect(pre.headers['access-control-allow-origin']).toBe(APP);
    const res = await postGraphQL(credentialed.app.url, VIEWER, { origin: APP });
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    const other = await preflight(credentialed.app.url, OTHER);
    expect(corsHeaders(other)).toEqual([]);
  });

  it('admits every origin with *, answering Allow-Origin: * and never Allow-Credentials', async () => {
    const pre = await preflight(wildcard.app.url, OTHER);
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
    const res = await postGraphQL(wildcard.app.url, VIEWER, { origin: OTHER });
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });

  it('leaves the payment webhooks without CORS: they are called server to server', async () => {
    const webhookUrl = new URL(`${PAYMENT_WEBHOOK_PATH}test`, api.app.url).toString();
    const pre = await preflight(webhookUrl, APP);
    expect(corsHeaders(pre)).toEqual([]);
    const res = await rawRequest(webhookUrl, { method: 'POST', headers: { origin: APP, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(corsHeaders(res)).toEqual([]);
  });

  it('opens a WebSocket from an unlisted origin, which still needs a token in its init payload', async () => {
    const connect = async (payload: Record<string, unknown>) => {
      const ws = new WebSocket(api.app.wsUrl, 'graphql-transport-ws', { origin: OTHER });
      const messages: any[] = [];
      ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      await once(ws, 'open');
      ws.send(JSON.stringify({ type: 'connection_init', payload }));
      return { ws, messages, closed };
    };
    const anonymous = await connect({});
    expect(await anonymous.closed).toBe(4403);
    const signedIn = await connect({ authorization: `Bearer ${token}` });
    await expect.poll(() => signedIn.messages.map((m) => m.type)).toEqual(['connection_ack']);
    signedIn.ws.close();
    await signedIn.closed;
  });
});

describe('CORS settings: CORS_ORIGINS is checked at start', () => {
  const load = (env: Record<string, string>) => loadConfig({ ...env }).cors;

  it('admits no origin by default, without credentials', () => {
    expect(load({})).toEqual({ origins: [], allowCredentials: false, maxAgeSeconds: 7200 });
  });

  it('reads a comma-separated list of exact origins', () => {
    expect(load({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173', CORS_MAX_AGE_SECONDS: '60' })).toEqual({
      origins: ['https://app.example.com', 'http://localhost:5173'],
      allowCredentials: false,
      maxAgeSeconds: 60,
    });
  });

  it.each([
    ['https://app.example.com/', 'https://app.example.com'],
    ['https://app.example.com/path', 'https://app.example.com'],
    ['https://APP.example.com', 'https://app.example.com'],
    ['https://app.example.com:443', 'https://app.example.com'],
  ])('refuses "%s", naming its origin "%s"', (entry, origin) => {
    expect(() => load({ CORS_ORIGINS: entry })).toThrow(`got "${entry}" (its origin is "${origin}").`);
  });

  it.each(['app.example.com', 'null', 'file:///index.html', 'ftp://files.example.com'])('refuses "%s", which is no http(s) origin', (entry) => {
    expect(() => load({ CORS_ORIGINS: entry })).toThrow(`Expected CORS_ORIGINS to be comma-separated origins such as https://app.example.com (http or https, no path, no trailing slash) or *, got "${entry}"`);
  });

  it('takes * alone, and refuses it beside other origins or with credentials', () => {
    expect(load({ CORS_ORIGINS: '*' }).origins).toEqual(['*']);
    expect(() => load({ CORS_ORIGINS: '*, https://app.example.com' })).toThrow('Expected CORS_ORIGINS to be either * alone or a list of origins, got "*, https://app.example.com".');
    expect(() => load({ CORS_ORIGINS: '*', CORS_ALLOW_CREDENTIALS: 'true' })).toThrow('Expected CORS_ORIGINS to list origins when CORS_ALLOW_CREDENTIALS=true, got "*"');
  });
});
