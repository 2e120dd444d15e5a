import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signDevelopmentToken } from '../../src/auth/tokens.js';
import { startTestApi, TEST_JWT_SECRET, type TestApi } from '../support/api.js';
import { bookedScene } from '../support/scenes.js';
import { BOOKING_EVENTS, record, untilSubscribed, wsClient } from '../support/subscriptions.js';

/** A raw graphql-transport-ws socket: what it received, and how it closed. */
interface RawSocket {
  ws: WebSocket;
  messages: any[];
  pings: number;
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  waitForMessage(predicate: (m: any) => boolean, timeoutMs?: number): Promise<any>;
}

async function open(url: string, options: { autoPong?: boolean } = {}): Promise<RawSocket> {
  const ws = new WebSocket(url, 'graphql-transport-ws', options);
  const socket: RawSocket = {
    ws,
    messages: [],
    pings: 0,
    closed: new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))),
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    async waitForMessage(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = socket.messages.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`No such message; got ${JSON.stringify(socket.messages)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
  ws.on('message', (data) => socket.messages.push(JSON.parse(data.toString())));
  ws.on('ping', () => socket.pings++);
  await once(ws, 'open');
  return socket;
}

describe('GraphQL over WebSocket: protocol hygiene', () => {
  let api: TestApi;
  let staffToken: string;
  let businessId: string;
  beforeAll(async () => {
    api = await startTestApi({ config: { websocket: { maxPayloadBytes: 16 * 1024, keepAliveMs: 100, initTimeoutMs: 300, maxSubscriptionsPerConnection: 2 } } });
    const s = await bookedScene(api);
    staffToken = s.tokens.staff;
    businessId = s.business.gid;
  });
  afterAll(() => api.close());

  const init = (token = staffToken) => ({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
  const subscribe = (id: string, query = BOOKING_EVENTS, variables: Record<string, unknown> = { businessId }) => ({ id, type: 'subscribe', payload: { query, variables } });

  async function acked(): Promise<RawSocket> {
    const socket = await open(api.app.wsUrl);
    socket.send(init());
    await socket.waitForMessage((m) => m.type === 'connection_ack');
    return socket;
  }

  it('closes a connection that does not initialise in time with 4408', async () => {
    const socket = await open(api.app.wsUrl);
    expect(await socket.closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
  });

  it('closes with 4403 without a token, with a bad token and with an expired one', async () => {
    const cases: Array<[payload: Record<string, string>, reason: string]> = [
      [{}, 'Forbidden: no token; send {"authorization": "Bearer <token>"} as the connection_init payload'],
      [{ authorization: 'Bearer not-a-token' }, 'Forbidden: the token is invalid or expired'],
      [{ authorization: 'Basic abc' }, 'Forbidden: the token is invalid or expired'],
    ];
    for (const [payload, reason] of cases) {
      const socket = await open(api.app.wsUrl);
      socket.send({ type: 'connection_init', payload });
      expect(await socket.closed).toEqual({ code: 4403, reason });
    }
    const expired = await signDevelopmentToken(TEST_JWT_SECRET, { sub: 's', role: 'staff', business_id: businessId }, '-1s');
    const socket = await open(api.app.wsUrl);
    socket.send(init(expired));
    expect((await socket.closed).code).toBe(4403);
  });

  it('closes the socket with 4403 when its token expires', async () => {
    const shortLived = await signDevelopmentToken(TEST_JWT_SECRET, { sub: 's', role: 'staff', business_id: businessId }, '2s');
    const socket = await open(api.app.wsUrl);
    socket.send(init(shortLived));
    await socket.waitForMessage((m) => m.type === 'connection_ack');
    const started = Date.now();
    expect(await socket.closed).toEqual({ code: 4403, reason: 'Forbidden: the token expired' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('closes with 4401 on a subscribe before the init ack, 4429 on a second init, 4409 on a reused id, 4400 on garbage', async () => {
    const early = await open(api.app.wsUrl);
    early.send(subscribe('1'));
    expect((await early.closed).code).toBe(4401);

    const twice = await acked();
    twice.send(init());
    expect((await twice.closed).code).toBe(4429);

    const reused = await acked();
    reused.send(subscribe('a'));
    reused.send(subscribe('a'));
    expect((await reused.closed).code).toBe(4409);

    const garbage = await acked();
    garbage.send('{"type":"nonsense"}');
    expect((await garbage.closed).code).toBe(4400);
  });

  it('refuses the subscription over the cap with TOO_MANY_SUBSCRIPTIONS and keeps the socket and the others open', async () => {
    const socket = await acked();
    socket.send(subscribe('1'));
    socket.send(subscribe('2'));
    socket.send(subscribe('3'));
    const error = await socket.waitForMessage((m) => m.type === 'error' && m.id === '3');
    expect(error.payload.map((e: any) => e.extensions.code)).toEqual(['TOO_MANY_SUBSCRIPTIONS']);
    await untilSubscribed(api.app, 2);
    // Completing one makes room for another, on the same socket.
    socket.send({ id: '1', type: 'complete' });
    await untilSubscribed(api.app, 1);
    socket.send(subscribe('4'));
    await untilSubscribed(api.app, 2);
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);
    socket.ws.close(1000);
    await socket.closed;
    await untilSubscribed(api.app, 0);
  });

  it('answers queries and mutations sent over the socket with a coded error: they go over HTTP', async () => {
    const socket = await acked();
    socket.send(subscribe('q', '{ viewer { role } }', {}));
    const error = await socket.waitForMessage((m) => m.type === 'error' && m.id === 'q');
    expect(error.payload).toEqual([{ message: 'Only subscriptions run over WebSocket; send queries and mutations with POST /graphql.', extensions: { code: 'BAD_REQUEST', requestId: expect.any(String) } }]);
    socket.send(subscribe('v', 'subscription { nope }', {}));
    const invalid = await socket.waitForMessage((m) => m.type === 'error' && m.id === 'v');
    expect(invalid.payload[0].message).toMatch(/Cannot query field "nope"/);
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);
    socket.ws.close(1000);
  });

  it('closes a connection that sends a message above the payload limit (1009), far below ws’s 100 MiB default', async () => {
    const socket = await acked();
    socket.send(subscribe('big', `subscription { bookingEvents(businessId: "${'x'.repeat(20_000)}") { cursor } }`));
    expect((await socket.closed).code).toBe(1009);
  });

  it('pings idle connections (keep-alive) and drops one that never answers', async () => {
    const socket = await acked();
    const deadline = Date.now() + 3000;
    while (socket.pings < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(socket.pings).toBeGreaterThanOrEqual(3);
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);
    socket.ws.close(1000);
    // A peer that does not answer pings is dropped after one interval.
    const silent = await open(api.app.wsUrl, { autoPong: false });
    silent.send(init());
    await silent.waitForMessage((m) => m.type === 'connection_ack');
    expect((await silent.closed).code).toBe(1006);
    expect(silent.pings).toBeGreaterThanOrEqual(1);
  });

  it('closes every socket with 1001 (going away) on shutdown, and the subscription ends', async () => {
    const own = await startTestApi({ database: api.database });
    const client = wsClient(own.app.wsUrl, staffToken);
    const events = record(client, BOOKING_EVENTS, { businessId });
    await untilSubscribed(own.app, 1);
    const raw = await open(own.app.wsUrl);
    raw.send(init());
    await raw.waitForMessage((m) => m.type === 'connection_ack');
    await own.close();
    expect(await raw.closed).toEqual({ code: 1001, reason: 'Going away' });
    const error = await events.waitForError();
    expect((error as { code?: number }).code).toBe(1001);
    await client.dispose();
  });
});
