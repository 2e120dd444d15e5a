import type { ChildProcess } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { loadConfig } from '../../src/config.js';
import { clientAddress, CloseCodeTooManyConnections } from '../../src/server/rate-limits.js';
import { createBookableBusiness } from '../support/builders.js';
import { openTestDatabase } from '../support/database.js';
import { freePort, startRedis, stopRedis } from '../support/redis.js';
import type { DatabaseHandle } from '../../src/db/connect.js';
import { startLimitedApi, type Answer, type LimitedApi } from './rate-limit-support.js';

const BUSINESS = `query($slug: String!) { business(slug: $slug) { id } }`;
const CREATE = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { code message } } }`;
const HOLD = `mutation($input: SlotHoldInput!) { slotHold(input: $input) { hold { id } userErrors { code message } } }`;

/** A fresh address for requests without a token (the apps here trust one proxy hop). */
const anonymousFrom = () => ({ 'x-forwarded-for': `203.0.113.${Math.floor(Math.random() * 250) + 1}, 198.51.100.${Math.floor(Math.random() * 250) + 1}` });

function expectRefused(answer: Answer) {
  expect(answer.status).toBe(429);
  expect(answer.body.data).toBeUndefined();
  expect(answer.body.errors).toHaveLength(1);
  const [error] = answer.body.errors;
  expect(error.extensions.code).toBe('RATE_LIMITED');
  expect(error.extensions.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  expect(error.extensions.retryAfterSeconds).toBeLessThanOrEqual(60);
  expect(answer.headers.get('retry-after')).toBe(String(error.extensions.retryAfterSeconds));
  expect(error.message).toMatch(/\.$/);
  return error;
}

// One database for every app of this file: opening one is most of a test's time on PGlite.
let database: DatabaseHandle;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database.close());

describe('Rate limits over HTTP (in-process counters)', () => {
  let api: LimitedApi;
  beforeAll(async () => {
    api = await startLimitedApi({
      database,
      rateLimits: {
        operations: { points: 5, durationSeconds: 60 },
        bookings: { points: 2, durationSeconds: 60 },
        paymentWebhooks: { points: 3, durationSeconds: 60 },
        websocketConnections: { points: 2, durationSeconds: 60 },
        trustProxy: 1,
      },
      // Points from the operation itself: the hook the query-cost estimator plugs into.
      pointsOf: (requestContext) => (requestContext.operationName === 'Expensive' ? 3 : 1),
    });
  });
  afterAll(() => api.close());

  it('counts an account down in extensions.rateLimit, then refuses with 429, RATE_LIMITED and Retry-After, running no SQL', async () => {
    const token = await api.token({ sub: `ops-${randomUUID()}`, role: 'admin' });
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await api.gql(BUSINESS, { slug: 'nowhere' }, { token });
      expect(answer.status).toBe(200);
      expect(answer.body.extensions.rateLimit).toEqual({ limit: 5, remaining: expect.any(Number), resetSeconds: expect.any(Number) });
      remaining.push(answer.body.extensions.rateLimit.remaining);
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    const refused = await api.countStatements(() => api.gql(BUSINESS, { slug: 'nowhere' }, { token }));
    expect(refused.statements).toBe(0);
    const error = expectRefused(refused.result);
    expect(error.message).toContain('at most 5 per 60 s');
    expect(refused.result.body.extensions.rateLimit).toMatchObject({ limit: 5, remaining: 0 });
  });

  it('charges an operation the points its cost function gives', async () => {
    const token = await api.token({ sub: `cost-${randomUUID()}`, role: 'admin' });
    const expensive = await api.gql(`query Expensive { viewer { role } }`, {}, { token });
    expect(expensive.body.extensions.rateLimit.remaining).toBe(2);
    const cheap = await api.gql(`query Cheap { viewer { role } }`, {}, { token });
    expect(cheap.body.extensions.rateLimit.remaining).toBe(1);
    expectRefused(await api.gql(`query Expensive { viewer { role } }`, {}, { token }));
  });

  it('keeps accounts apart: the same subject under another role or business has a budget of its own', async () => {
    const sub = `shared-${randomUUID()}`;
    const admin = await api.token({ sub, role: 'admin' });
    for (let i = 0; i < 5; i++) expect((await api.gql(BUSINESS, { slug: 'x' }, { token: admin })).status).toBe(200);
    expectRefused(await api.gql(BUSINESS, { slug: 'x' }, { token: admin }));
    const { business } = await createBookableBusiness(api.db);
    const staff = await api.token({ sub, role: 'staff', business_id: business.gid });
    const answer = await api.gql(BUSINESS, { slug: 'x' }, { token: staff });
    expect(answer.status).toBe(200);
    expect(answer.body.extensions.rateLimit.remaining).toBe(4);
  });

  it('keys requests without a token by client address, taking the address one trusted hop back in X-Forwarded-For', async () => {
    const spender = '203.0.113.77';
    for (let i = 0; i < 5; i++) {
      // A client-written entry to the left of the trusted hop changes nothing.
      const answer = await api.gql(BUSINESS, { slug: 'x' }, { headers: { 'x-forwarded-for': `10.0.0.${i}, ${spender}` } });
      expect(answer.status).toBe(200);
    }
    expectRefused(await api.gql(BUSINESS, { slug: 'x' }, { headers: { 'x-forwarded-for': spender } }));
    const other = await api.gql(BUSINESS, { slug: 'x' }, { headers: { 'x-forwarded-for': '203.0.113.78' } });
    expect(other.status).toBe(200);
    expect(other.body.extensions.rateLimit.remaining).toBe(4);
  });

  it('charges a request that fails validation one point too, and reports the budget on its answer', async () => {
    const token = await api.token({ sub: `invalid-${randomUUID()}`, role: 'admin' });
    const answer = await api.gql(`{ noSuchField }`, {}, { token });
    expect(answer.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(answer.body.extensions.rateLimit.remaining).toBe(4);
  });

  it('refuses a customer\'s third booking or hold in the window while their operations budget stays open', async () => {
    const { business, service, customer, partners } = await createBookableBusiness(api.db, { slotCount: 8 });
    const token = await api.token({ sub: `customer-${randomUUID()}`, role: 'customer', business_id: business.gid, customer_id: customer.gid });
    const slots = partners[0].slots;
    const first = await api.gql(CREATE, { input: { serviceId: service.gid, startsAt: slots[0].startsAt, partnerId: partners[0].gid } }, { token });
    expect(first.body.data.bookingCreate.userErrors).toEqual([]);
    expect(first.body.extensions.rateLimit).toMatchObject({ limit: 5, remaining: 4, bookings: { limit: 2, remaining: 1 } });
    const hold = await api.gql(HOLD, { input: { serviceId: service.gid, startsAt: slots[2].startsAt, partnerId: partners[0].gid } }, { token });
    expect(hold.body.data.slotHold.userErrors).toEqual([]);

    const third = await api.countStatements(() => api.gql(CREATE, { input: { serviceId: service.gid, startsAt: slots[4].startsAt, partnerId: partners[0].gid } }, { token }));
    expect(third.statements).toBe(0);
    const error = expectRefused(third.result);
    expect(error.message).toContain('bookings and holds');
    expect(third.result.body.extensions.rateLimit).toMatchObject({ remaining: 2, bookings: { limit: 2, remaining: 0 } });
    const bookings = await api.db.selectFrom('bookings').select('id').where('customer_id', '=', customer.id).execute();
    expect(bookings).toHaveLength(1);

    const read = await api.gql(BUSINESS, { slug: business.slug }, { token });
    expect(read.status).toBe(200);
    expect(read.body.data.business.id).toBe(business.gid);
    expect(read.body.extensions.rateLimit).toEqual({ limit: 5, remaining: 1, resetSeconds: expect.any(Number) });
  });

  it('refuses payment webhooks over the provider\'s budget with 429 and Retry-After, unread and with no SQL', async () => {
    const post = () => fetch(`${api.origin}/webhooks/payments/test`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"unsigned":true}' });
    for (let i = 0; i < 3; i++) expect((await post()).status).toBe(400);
    const refused = await api.countStatements(post);
    expect(refused.statements).toBe(0);
    expect(refused.result.status).toBe(429);
    const retryAfter = Number(refused.result.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(await refused.result.json()).toEqual({ error: expect.stringContaining('webhook deliveries'), code: 'RATE_LIMITED', retryAfterSeconds: retryAfter });
    // An unknown provider is not counted against a real one: it is a 404 either way.
    expect((await fetch(`${api.origin}/webhooks/payments/nobody`, { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('closes a WebSocket connection over the per-address budget with 4430 before graphql-ws sees it', async () => {
    const headers = anonymousFrom();
    const open = (): Promise<{ socket: WebSocket; closed: Promise<{ code: number; reason: string }> }> =>
      new Promise((resolve, reject) => {
        const socket = new WebSocket(api.app.wsUrl, 'graphql-transport-ws', { headers });
        const closed = new Promise<{ code: number; reason: string }>((done) => socket.once('close', (code, reason) => done({ code, reason: reason.toString() })));
        socket.once('open', () => resolve({ socket, closed }));
        socket.once('error', reject);
      });
    const first = await open();
    const second = await open();
    const third = await open();
    const refusal = await third.closed;
    expect(refusal.code).toBe(CloseCodeTooManyConnections);
    expect(refusal.reason).toMatch(/^Too many connections: retry after \d+ s$/);
    // The admitted ones work: the init is acknowledged.
    const ack = new Promise((resolve) => first.socket.once('message', (data) => resolve(JSON.parse(data.toString()))));
    first.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${await api.token({ sub: 'ws-1', role: 'admin' })}` } }));
    expect(await ack).toEqual({ type: 'connection_ack' });
    first.socket.close();
    second.socket.close();
    await Promise.all([first.closed, second.closed]);
  });
});

describe('Rate limits in Redis', () => {
  let redis: ChildProcess;
  let redisUrl: string;
  beforeAll(async () => {
    const port = await freePort();
    redis = await startRedis(port);
    redisUrl = `redis://127.0.0.1:${port}`;
  });
  afterAll(() => stopRedis(redis));

  it('shares one budget between two API processes on one Redis and key prefix', async () => {
    const keyPrefix = `test:${randomUUID()}:`;
    const limits = { operations: { points: 4, durationSeconds: 60 } };
    const a = await startLimitedApi({ rateLimits: limits, cache: { redisUrl, keyPrefix }, database });
    const b = await startLimitedApi({ rateLimits: limits, cache: { redisUrl, keyPrefix }, database });
    try {
      const token = await a.token({ sub: `two-${randomUUID()}`, role: 'admin' });
      expect((await a.gql(BUSINESS, { slug: 'x' }, { token })).body.extensions.rateLimit.remaining).toBe(3);
      expect((await b.gql(BUSINESS, { slug: 'x' }, { token })).body.extensions.rateLimit.remaining).toBe(2);
      expect((await a.gql(BUSINESS, { slug: 'x' }, { token })).body.extensions.rateLimit.remaining).toBe(1);
      expect((await b.gql(BUSINESS, { slug: 'x' }, { token })).body.extensions.rateLimit.remaining).toBe(0);
      expectRefused(await a.gql(BUSINESS, { slug: 'x' }, { token }));
      expectRefused(await b.gql(BUSINESS, { slug: 'x' }, { token }));
      // Another prefix is another deployment: its budget is untouched.
      const c = await startLimitedApi({ rateLimits: limits, cache: { redisUrl, keyPrefix: `test:${randomUUID()}:` }, database });
      expect((await c.gql(BUSINESS, { slug: 'x' }, { token })).body.extensions.rateLimit.remaining).toBe(3);
      await c.close();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps answering when Redis is stopped or hangs, counting in the process instead, and logs it once', async () => {
    const port = await freePort();
    const own = await startRedis(port);
    const api = await startLimitedApi({
      rateLimits: { operations: { points: 3, durationSeconds: 60 } },
      // Long enough that a healthy Redis on a loaded machine always answers in time (else the first
      // request, counted by the in-process fallback too, would shift the counts below); only the
      // hung request waits this long.
      cache: { redisUrl: `redis://127.0.0.1:${port}`, keyPrefix: `test:${randomUUID()}:`, commandTimeoutMs: 2000 },
      database,
    });
    try {
      const token = await api.token({ sub: `down-${randomUUID()}`, role: 'admin' });
      expect((await api.gql(BUSINESS, { slug: 'x' }, { token })).status).toBe(200);

      // Hanging: commands time out and the in-process limiter answers.
      own.kill('SIGSTOP');
      const hung = await api.gql(BUSINESS, { slug: 'x' }, { token: await api.token({ sub: `hung-${randomUUID()}`, role: 'admin' }) });
      expect(hung.status).toBe(200);
      expect(hung.body.extensions.rateLimit.remaining).toBe(2);
      await stopRedis(own);

      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await api.gql(BUSINESS, { slug: 'x' }, { token }));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(answers.map((a) => a.body.extensions.rateLimit.remaining)).toEqual([2, 1, 0]);
      // The process still limits on its own.
      expectRefused(await api.gql(BUSINESS, { slug: 'x' }, { token }));
      const warnings = api.logged.filter((l) => l.message.startsWith('Rate limits could not reach Redis'));
      expect(warnings).toHaveLength(1);
    } finally {
      await api.close();
      await stopRedis(own);
    }
  });
});

describe('clientAddress', () => {
  const request = (remoteAddress: string, forwarded?: string) => ({ socket: { remoteAddress }, headers: forwarded ? { 'x-forwarded-for': forwarded } : {} }) as unknown as IncomingMessage;

  it('takes the peer and ignores X-Forwarded-For when no proxy is trusted', () => {
    expect(clientAddress(request('192.0.2.1', '203.0.113.9'), 0)).toBe('192.0.2.1');
  });

  it('takes the entry as many hops back as there are trusted proxies, and never more than the header holds', () => {
    expect(clientAddress(request('10.0.0.1', '1.1.1.1, 203.0.113.9'), 1)).toBe('203.0.113.9');
    expect(clientAddress(request('10.0.0.1', '1.1.1.1, 203.0.113.9, 10.0.0.2'), 2)).toBe('203.0.113.9');
    expect(clientAddress(request('10.0.0.1', '203.0.113.9'), 5)).toBe('203.0.113.9');
    expect(clientAddress(request('10.0.0.1'), 1)).toBe('10.0.0.1');
  });

  it('unwraps IPv4-mapped IPv6 and counts other IPv6 per /64', () => {
    expect(clientAddress(request('::ffff:127.0.0.1'), 0)).toBe('127.0.0.1');
    expect(clientAddress(request('2001:db8:1:2:aaaa::1'), 0)).toBe(clientAddress(request('2001:db8:1:2:bbbb::2'), 0));
    expect(clientAddress(request('2001:db8:1:2::1'), 0)).not.toBe(clientAddress(request('2001:db8:1:3::1'), 0));
    expect(clientAddress(request('10.0.0.1', 'not-an-address'), 1)).toMatch(/^invalid:/);
  });
});

describe('Rate limit settings', () => {
  it('reads every bucket and TRUST_PROXY from the environment, with generous defaults', () => {
    const defaults = loadConfig({}).rateLimits;
    expect(defaults).toEqual({
      operations: { points: 1200, durationSeconds: 60 },
      bookings: { points: 30, durationSeconds: 60 },
      paymentWebhooks: { points: 1200, durationSeconds: 60 },
      websocketConnections: { points: 120, durationSeconds: 60 },
      messages: { points: 30, durationSeconds: 60 },
      guestCodes: { points: 5, durationSeconds: 3600 },
      guestCodesByIp: { points: 20, durationSeconds: 3600 },
      trustProxy: 0,
    });
    const set = loadConfig({ RATE_LIMIT_POINTS: '10', RATE_LIMIT_DURATION_SECONDS: '5', RATE_LIMIT_BOOKING_POINTS: '2', RATE_LIMIT_WEBHOOK_DURATION_SECONDS: '30', RATE_LIMIT_WS_CONNECTIONS_POINTS: '7', TRUST_PROXY: '2' }).rateLimits;
    expect(set).toMatchObject({ operations: { points: 10, durationSeconds: 5 }, bookings: { points: 2 }, paymentWebhooks: { durationSeconds: 30 }, websocketConnections: { points: 7 }, trustProxy: 2 });
  });

  it('refuses a budget of zero and a negative TRUST_PROXY, naming the variable', () => {
    expect(() => loadConfig({ RATE_LIMIT_BOOKING_POINTS: '0' })).toThrow('Expected RATE_LIMIT_BOOKING_POINTS to be an integer from 1 to 100000000, got "0".');
    expect(() => loadConfig({ TRUST_PROXY: '-1' })).toThrow('Expected TRUST_PROXY to be an integer from 0 to 10, got "-1".');
  });
});
