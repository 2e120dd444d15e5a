import { Agent, createServer as createHttpServer, type Server } from 'node:http';
import { createConnection, createServer as createTcpServer, type AddressInfo, type LookupFunction, type Socket } from 'node:net';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookConfig } from '../../src/config.js';
import type { Logger } from '../../src/shared/logger.js';
import { disallowedRangeOf, type ResolvedAddress, type WebhookResolver } from '../../src/webhooks/webhook-address-policy.js';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.js';
import { startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { createBookableBusiness } from '../support/builders.js';
import { bookedScene } from '../support/scenes.js';
import {
  createEndpoint,
  deliveryRows,
  emitEvents,
  endpointRow,
  LOOPBACK_RECEIVERS,
  quietLog,
  Receiver,
  settleDeliveries,
} from './webhook-support.js';

/**
 * Server-side request forgery through webhook endpoints. No test sends anything beyond loopback:
 * the addresses that must be refused are refused before any connection, and a test that needs a
 * public answer from DNS stops the connection in its agent before it is made.
 */

const CREATE = `mutation($input: WebhookEndpointCreateInput!) {
  webhookEndpointCreate(input: $input) { endpoint { id url } userErrors { field message code } }
}`;

/** A public address that no test ever connects to (the agent below stops it first). */
const PUBLIC_ADDRESS = '93.184.215.14';

describe('disallowedRangeOf', () => {
  it.each([
    ['127.0.0.1', 'loopback'], ['127.255.0.9', 'loopback'], ['10.0.0.1', 'private'], ['172.16.0.1', 'private'], ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'], ['100.64.0.1', 'carrierGradeNat'], ['0.0.0.0', 'unspecified'], ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'], ['240.0.0.1', 'reserved'], ['192.0.2.1', 'reserved'], ['198.51.100.7', 'reserved'], ['203.0.113.9', 'reserved'],
    ['198.18.0.1', 'reserved'], ['192.0.0.8', 'reserved'],
    ['::1', 'loopback'], ['::', 'unspecified'], ['fe80::1', 'linkLocal'], ['fc00::1', 'uniqueLocal'], ['fd12:3456::1', 'uniqueLocal'], ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::ffff:10.1.2.3', 'private'], ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:0:127.0.0.1', 'loopback'], ['64:ff9b::7f00:1', 'loopback'], ['64:ff9b::a9fe:a9fe', 'linkLocal'], ['64:ff9b:1::1', 'rfc6052'],
    ['2002:7f00:1::1', '6to4'], ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'], ['2001:db8::1', 'reserved'], ['2001:2::1', 'benchmarking'],
    ['::127.0.0.1', 'outside global unicast'], ['::8.8.8.8', 'outside global unicast'], ['fec0::1', 'deprecatedSiteLocal'], ['100::1', 'discard'],
    ['4000::1', 'outside global unicast'], ['5f00::1', 'segmentRouting'],
  ])('refuses %s (%s)', (address, range) => {
    expect(disallowedRangeOf(address)).toBe(range);
  });

  it.each(['8.8.8.8', '1.1.1.1', PUBLIC_ADDRESS, '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808'])('lets the public address %s through', (address) => {
    expect(disallowedRangeOf(address)).toBeNull();
  });

  it('refuses what is not an IP address at all', () => {
    expect(disallowedRangeOf('localhost')).toBe('not an IP address');
  });
});

describe('Mutation: webhookEndpointCreate refuses URLs that point into our network', () => {
  let api: TestApi;
  let loopbackApi: TestApi;
  let productionApi: TestApi;
  beforeAll(async () => {
    // The defaults (no webhook settings at all), the opt-in, and production: three apps, one database.
    api = await startTestApi();
    loopbackApi = await startTestApi({ database: api.database, config: { webhooks: LOOPBACK_RECEIVERS } });
    productionApi = await startTestApi({ database: api.database, config: { webhooks: { ...LOOPBACK_RECEIVERS, allowPrivateNetworks: false, httpsOnly: true } } });
  });
  afterAll(async () => {
    await productionApi.close();
    await loopbackApi.close();
    await api.close();
  });

  async function scene() {
    const built = await createBookableBusiness(api.db, { partners: 1, slotCount: 1 });
    const tokens = await tokensFor(api, { businessGid: built.business.gid });
    return { ...built, tokens };
  }
  const endpointCount = async (businessId: string) =>
    Number((await api.db.selectFrom('webhook_endpoints').select((eb) => eb.fn.countAll<string>().as('n')).where('business_id', '=', businessId).executeTakeFirstOrThrow()).n);

  it.each([
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['http://10.0.0.1/', '10.0.0.1'],
    ['http://[::1]/', '[::1]'],
    ['http://localhost:6379/', 'localhost'],
    ['http://0x7f000001/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://[::ffff:127.0.0.1]/', '[::ffff:7f00:1]'],
    ['http://[::ffff:7f00:1]/', '[::ffff:7f00:1]'],
    ['https://100.64.0.1/', '100.64.0.1'],
    ['https://0.0.0.0/', '0.0.0.0'],
    ['https://[fe80::1]/', '[fe80::1]'],
    ['https://[fd00::1]:8443/', '[fd00::1]'],
    ['https://app.localhost/hook', 'app.localhost'],
    ['https://LOCALHOST./hook', 'localhost.'],
  ])('refuses %s with URL_NOT_ALLOWED and stores nothing', async (url, shownHost) => {
    const s = await scene();
    const res = await api.gql(CREATE, { input: { businessId: s.business.gid, url, eventTypes: ['BOOKING_CREATED'] } }, { token: s.tokens.staff });
    expect(res.errors).toBeUndefined();
    expect(res.data.webhookEndpointCreate).toEqual({
      endpoint: null,
      userErrors: [{
        field: ['input', 'url'],
        code: 'URL_NOT_ALLOWED',
        message: `Expected a URL whose host is public, got "${shownHost}": webhooks are never sent to loopback, private, link-local or other special-purpose addresses.`,
      }],
    });
    expect(await endpointCount(s.business.id)).toBe(0);
  });

  it('accepts a host name whatever it resolves to: that is checked at every attempt, as DNS can change', async () => {
    const s = await scene();
    const res = await api.gql(CREATE, { input: { businessId: s.business.gid, url: 'http://hooks.example.test/in', eventTypes: ['BOOKING_CREATED'] } }, { token: s.tokens.staff });
    expect(res.data.webhookEndpointCreate.userErrors).toEqual([]);
    expect(await endpointCount(s.business.id)).toBe(1);
  });

  it('accepts loopback and private addresses with WEBHOOK_ALLOW_PRIVATE_NETWORKS', async () => {
    const s = await scene();
    for (const url of ['http://127.0.0.1:8080/hook', 'http://localhost:3000/hook', 'http://10.0.0.1/']) {
      const res = await loopbackApi.gql(CREATE, { input: { businessId: s.business.gid, url, eventTypes: ['BOOKING_CREATED'] } }, { token: s.tokens.staff });
      expect(res.data.webhookEndpointCreate.userErrors).toEqual([]);
    }
    expect(await endpointCount(s.business.id)).toBe(3);
  });

  it('refuses plain http in production and accepts https', async () => {
    const s = await scene();
    const refused = await productionApi.gql(CREATE, { input: { businessId: s.business.gid, url: 'http://hooks.example.com/in', eventTypes: ['BOOKING_CREATED'] } }, { token: s.tokens.staff });
    expect(refused.data.webhookEndpointCreate.userErrors).toEqual([{
      field: ['input', 'url'], code: 'URL_NOT_ALLOWED', message: 'Expected an https:// URL (plain http is refused in production), got "http://hooks.example.com/in".',
    }]);
    const accepted = await productionApi.gql(CREATE, { input: { businessId: s.business.gid, url: 'https://hooks.example.com/in', eventTypes: ['BOOKING_CREATED'] } }, { token: s.tokens.staff });
    expect(accepted.data.webhookEndpointCreate.userErrors).toEqual([]);
    expect(await endpointCount(s.business.id)).toBe(1);
  });
});

/** A resolver that answers from a script, one answer per call (the last one again when the script runs out), and counts its calls. */
function scriptedResolver(...answers: ResolvedAddress[][]): WebhookResolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    return answers[Math.min(calls.length - 1, answers.length - 1)];
  };
  return Object.assign(resolve, { calls });
}
const v4 = (address: string): ResolvedAddress[] => [{ address, family: 4 }];

/**
 * An agent that opens connections as node:http's does, but sees the address each would go to and
 * stops any that would leave loopback (failing it as an unreachable network would).
 */
class LoopbackOnlyAgent extends Agent {
  readonly addresses: string[] = [];
  override createConnection(options: Record<string, any>, callback?: (error: Error | null, socket: Socket) => void): Socket {
    const lookup = options.lookup as LookupFunction;
    const watched: LookupFunction = (hostname, lookupOptions, done) =>
      lookup(hostname, lookupOptions, (error, address, family) => {
        if (error) return done(error, address, family);
        const chosen = typeof address === 'string' ? [address] : address.map((a) => a.address);
        this.addresses.push(...chosen);
        if (chosen.some((a) => a !== '127.0.0.1')) return done(Object.assign(new Error('Stopped: the test never connects beyond loopback.'), { code: 'ENETUNREACH' }), address, family);
        done(null, address, family);
      });
    return createConnection({ ...options, lookup: watched } as any, callback as any);
  }
}

describe('Outbound webhooks: sending refuses private addresses on the address connected to', () => {
  let api: TestApi;
  let receiver: Receiver;
  const businessIds = new Set<string>();
  const logged: Array<{ message: string; context?: Record<string, unknown> }> = [];
  const log: Logger = { info: (message, context) => void logged.push({ message, context }), error: (message, context) => void logged.push({ message, context }) };

  beforeAll(async () => {
    // Its own database, the relay only when kicked, registration of loopback URLs allowed: each
    // test then sends with the dispatcher settings it is about.
    api = await startTestApi({ isolated: true, config: { events: { relayIntervalMs: 600_000, republishAfterMs: 600_000, checkIntervalMs: 600_000, maxQueuedPerSubscriber: 1000 }, webhooks: LOOPBACK_RECEIVERS } });
    receiver = await new Receiver().start();
  });
  afterEach(async () => {
    await settleDeliveries(api, businessIds);
    receiver.connections = 0;
    logged.length = 0;
  });
  afterAll(async () => {
    await receiver.close();
    await api.close();
  });

  function dispatcher(config: Partial<WebhookConfig>, extra: { resolve?: WebhookResolver; agent?: Agent } = {}) {
    return new WebhookDispatcher({ db: api.database.background, log, config: { ...LOOPBACK_RECEIVERS, allowPrivateNetworks: false, retryBaseMs: 60_000, ...config }, ...extra });
  }

  const dueNow = (endpointId: string) => sql`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE endpoint_id = ${endpointId}::bigint`.execute(api.db);

  /** An endpoint at `url` with one delivery due. */
  async function endpointWithDelivery(url: string) {
    const s = await bookedScene(api);
    businessIds.add(s.business.id);
    const endpoint = await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url, eventTypes: ['BOOKING_CREATED'] });
    await emitEvents(api, [{ businessId: s.business.id, bookingId: s.booking.id, type: 'BOOKING_CREATED', partnerIds: [s.partner.id] }]);
    return endpoint;
  }

  it('never connects to a listener on 127.0.0.1 with the default settings, and records the refusal as a failed attempt', async () => {
    const { path, url } = receiver.endpoint();
    const endpoint = await endpointWithDelivery(url);
    expect(await dispatcher({}).runOnce()).toBe(1);
    expect(receiver.connections).toBe(0);
    expect(receiver.at(path)).toHaveLength(0);
    const [row] = await deliveryRows(api, endpoint.id);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: null, lastError: 'refused: private address', dueNow: false });
    // Backed off like any failure (30 to 60 s with a 60 s base), and counted towards the pause.
    expect(row.delayMs).toBeGreaterThanOrEqual(30_000);
    expect((await endpointRow(api, endpoint.id)).consecutive_failures).toBe(1);
    expect(logged.map((l) => l.message)).toEqual(['Refused a webhook attempt before connecting']);
  });

  it('pauses an endpoint that is refused again and again, as it would one that fails', async () => {
    const { url } = receiver.endpoint();
    const endpoint = await endpointWithDelivery(url);
    expect(await dispatcher({ pauseAfterFailures: 1 }).runOnce()).toBe(1);
    expect(await endpointRow(api, endpoint.id)).toMatchObject({ status: 'paused', pause_reason: 'Paused after 1 failed attempts in a row; the last one: refused: private address' });
    expect(receiver.connections).toBe(0);
  });

  it('refuses a host name that resolves to 127.0.0.1, and connects to what the resolver answered when private networks are allowed', async () => {
    const { path } = receiver.endpoint();
    const port = new URL(receiver.base).port;
    const endpoint = await endpointWithDelivery(`http://hooks.example.test:${port}${path}`);
    const resolve = scriptedResolver(v4('127.0.0.1'));

    expect(await dispatcher({}, { resolve }).runOnce()).toBe(1);
    expect(resolve.calls).toEqual(['hooks.example.test']);
    expect(receiver.connections).toBe(0);
    expect((await deliveryRows(api, endpoint.id))[0]).toMatchObject({ attempts: 1, lastError: 'refused: private address' });
    // The operator's log has the address and its range; the delivery log does not.
    expect(logged[0].context?.reason).toBe('Refused to connect to 127.0.0.1 (loopback) for hooks.example.test: webhooks are sent to public addresses only.');

    // The same resolver, private networks allowed: the request goes where it said.
    await dueNow(endpoint.id);
    expect(await dispatcher({ allowPrivateNetworks: true }, { resolve }).runOnce()).toBe(1);
    expect(receiver.at(path)).toHaveLength(1);
    expect(receiver.at(path)[0].headers.host).toBe(`hooks.example.test:${port}`);
    expect((await deliveryRows(api, endpoint.id))[0]).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  it('connects to the address it checked: a rebinding resolver (public, then 127.0.0.1) never gets a connection to 127.0.0.1', async () => {
    const { path } = receiver.endpoint();
    const port = new URL(receiver.base).port;
    const endpoint = await endpointWithDelivery(`http://rebind.example.test:${port}${path}`);
    const resolve = scriptedResolver(v4(PUBLIC_ADDRESS), v4('127.0.0.1'));
    const agent = new LoopbackOnlyAgent();
    const sender = dispatcher({}, { resolve, agent });

    expect(await sender.runOnce()).toBe(1);
    // One resolution for the attempt, and the connection was to go to its (checked) answer.
    expect(resolve.calls).toHaveLength(1);
    expect(agent.addresses).toEqual([PUBLIC_ADDRESS]);
    expect((await deliveryRows(api, endpoint.id))[0].lastError).toMatch(/^connection failed/);

    // The next attempt resolves again; the private answer is refused before node:net sees it.
    await dueNow(endpoint.id);
    expect(await sender.runOnce()).toBe(1);
    expect(resolve.calls).toHaveLength(2);
    expect(agent.addresses).toEqual([PUBLIC_ADDRESS]);
    expect((await deliveryRows(api, endpoint.id))[0]).toMatchObject({ attempts: 2, lastError: 'refused: private address' });
    expect(receiver.connections).toBe(0);
  });

  it.each([
    ['an IPv4-mapped IPv6 answer', [{ address: '::ffff:127.0.0.1', family: 6 }]],
    ['an IPv6 loopback answer', [{ address: '::1', family: 6 }]],
    ['a NAT64 form of 169.254.169.254', [{ address: '64:ff9b::a9fe:a9fe', family: 6 }]],
    ['one private answer among public ones', [{ address: PUBLIC_ADDRESS, family: 4 }, { address: '127.0.0.1', family: 4 }]],
  ])('refuses %s without opening any connection', async (_, answer) => {
    const { path } = receiver.endpoint();
    const endpoint = await endpointWithDelivery(`http://mapped.example.test:${new URL(receiver.base).port}${path}`);
    const agent = new LoopbackOnlyAgent();
    expect(await dispatcher({}, { resolve: scriptedResolver(answer), agent }).runOnce()).toBe(1);
    expect(agent.addresses).toEqual([]);
    expect(receiver.connections).toBe(0);
    expect((await deliveryRows(api, endpoint.id))[0].lastError).toBe('refused: private address');
  });

  it('refuses plain http in production before connecting, even to an allowed address', async () => {
    const { path, url } = receiver.endpoint();
    const endpoint = await endpointWithDelivery(url);
    expect(await dispatcher({ allowPrivateNetworks: true, httpsOnly: true }).runOnce()).toBe(1);
    expect(receiver.connections).toBe(0);
    expect(receiver.at(path)).toHaveLength(0);
    expect((await deliveryRows(api, endpoint.id))[0]).toMatchObject({ attempts: 1, lastStatusCode: null, lastError: 'refused: https required' });
  });

  it('does not follow a redirect: a 3xx is a failed attempt', async () => {
    const { path, url } = receiver.endpoint(() => 200);
    const redirecting = createHttpServer((_, res) => res.writeHead(307, { location: url }).end());
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = await endpointWithDelivery(`http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/hook`);
      expect(await dispatcher({ allowPrivateNetworks: true }).runOnce()).toBe(1);
      expect((await deliveryRows(api, endpoint.id))[0]).toMatchObject({ lastStatusCode: 307, lastError: 'Expected a 2xx answer, got HTTP 307.' });
      expect(receiver.at(path)).toHaveLength(0);
    } finally {
      await close(redirecting);
    }
  });

  it('records the same lastError for a closed port, an open one that hangs and one that resets', async () => {
    // Private networks allowed here, so that loopback ports stand for a public host's.
    const closedPort = await freePort();
    const accepted = new Set<Socket>();
    const hanging = createTcpServer((socket) => void accepted.add(socket));
    const resetting = createTcpServer((socket) => socket.resetAndDestroy());
    const open = [hanging, resetting];
    for (const server of open) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const ports = [closedPort, ...open.map((server) => (server.address() as AddressInfo).port)];
      const endpoints = [];
      for (const port of ports) endpoints.push(await endpointWithDelivery(`http://127.0.0.1:${port}/hook`));
      const sender = dispatcher({ allowPrivateNetworks: true, timeoutMs: 300 });
      expect(await sender.runOnce()).toBe(3);
      const errors = await Promise.all(endpoints.map(async (e) => (await deliveryRows(api, e.id))[0]));
      expect(errors.map((r) => [r.lastStatusCode, r.lastError])).toEqual(Array(3).fill([null, 'connection failed: no HTTP answer within 300 ms (refused, unreachable, TLS error or too slow)']));
      // The operator's log keeps the difference.
      expect(new Set(logged.map((l) => l.context?.error))).toEqual(new Set(['ECONNREFUSED', 'timeout', 'ECONNRESET']));
    } finally {
      for (const socket of accepted) socket.destroy();
      for (const server of open) await close(server);
    }
  });
});

async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await close(server);
  return port;
}

function close(server: Server | ReturnType<typeof createTcpServer>): Promise<void> {
  (server as Server).closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}
