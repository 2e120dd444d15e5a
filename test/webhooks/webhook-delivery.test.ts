import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/shared/webhook-signature.js';
import { toGlobalId } from '../../src/shared/global-id.js';
import type { Trx } from '../../src/shared/transaction.js';
import { createWebhookDeliveries } from '../../src/webhooks/webhook-fan-out.js';
import { claimDueWebhookDeliveries, unparkWebhookDeliveries } from '../../src/webhooks/webhook-deliveries.repository.js';
import { activateWebhookEndpoint, lockWebhookEndpointById } from '../../src/webhooks/webhook-endpoints.repository.js';
import { onRealPostgres } from '../support/database.js';
import { startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { createBookableBusiness, createBusiness } from '../support/builders.js';
import { bookedScene } from '../support/scenes.js';
import {
  createEndpoint,
  deliveryRows,
  dispatcherFor,
  drain,
  emitEvents,
  endpointRow,
  LOOPBACK_RECEIVERS,
  Receiver,
  settleDeliveries,
  until,
} from './webhook-support.js';

/**
 * Everything that sends webhooks is in this one file: its tests run one after the other, so no
 * dispatcher of one test sends another test's deliveries (on real PostgreSQL the test files share a
 * database, and a dispatcher sends whatever is due). Each test settles what it left pending.
 */

const ENDPOINT_LOG = `query($id: ID!, $first: Int, $after: String, $status: WebhookDeliveryStatus) {
  node(id: $id) {
    ... on WebhookEndpoint {
      id status consecutiveFailures pausedAt pauseReason
      deliveries(first: $first, after: $after, status: $status) {
        nodes { id status attempts webhookId lastResponseStatus lastError nextAttemptAt redeliveryOf { id } event { cursor type } endpoint { id } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}`;
const RESUME = `mutation($input: WebhookEndpointResumeInput!) {
  webhookEndpointResume(input: $input) { endpoint { id status consecutiveFailures pausedAt pauseReason } userErrors { field message code } }
}`;
const REDELIVER = `mutation($input: WebhookDeliveryRedeliverInput!) {
  webhookDeliveryRedeliver(input: $input) { delivery { id status attempts webhookId nextAttemptAt redeliveryOf { id } event { cursor } } userErrors { field message code } }
}`;

describe('Outbound webhooks: delivery', () => {
  let api: TestApi;
  let receiver: Receiver;
  const businessIds = new Set<string>();

  beforeAll(async () => {
    // The relay runs only when kicked: each test decides when its events are positioned. A database
    // of this file alone: no other file's relay creates (or its dispatcher sends) these deliveries.
    api = await startTestApi({ isolated: true, config: { events: { relayIntervalMs: 600_000, republishAfterMs: 600_000, checkIntervalMs: 600_000, maxQueuedPerSubscriber: 1000 }, webhooks: LOOPBACK_RECEIVERS } });
    receiver = await new Receiver().start();
  });
  afterEach(() => settleDeliveries(api, businessIds));
  afterAll(async () => {
    await receiver.close();
    await api.close();
  });

  async function scene() {
    const s = await bookedScene(api);
    businessIds.add(s.business.id);
    return s;
  }

  it('POSTs an event once, signed with the endpoint secret, with the exact body and headers', async () => {
    const s = await scene();
    const { path, url } = receiver.endpoint();
    const endpoint = await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url, eventTypes: ['BOOKING_CREATED'] });
    const [event] = await emitEvents(api, [{ businessId: s.business.id, bookingId: s.booking.id, type: 'BOOKING_CREATED', partnerIds: [s.partner.id] }]);

    const dispatcher = dispatcherFor(api);
    expect(await dispatcher.runOnce()).toBe(1);
    expect(await dispatcher.runOnce()).toBe(0);

    const [request] = receiver.at(path);
    expect(receiver.at(path)).toHaveLength(1);
    expect(JSON.parse(request.body.toString('utf8'))).toEqual({
      id: event.position,
      type: 'BOOKING_CREATED',
      cursor: event.position,
      occurredAt: event.occurredAt,
      businessId: s.business.gid,
      bookingId: s.booking.gid,
      paymentId: null,
      partnerIds: [s.partner.gid],
      data: { booking: { status: 'PENDING', partnerId: s.partner.gid, startsAt: '2030-01-01T10:00:00Z', endsAt: '2030-01-01T11:00:00Z' } },
    });
    expect(request.headers).toMatchObject({
      'content-type': 'application/json',
      'webhook-id': `${endpoint.gid}.${event.position}`,
      'webhook-event': 'BOOKING_CREATED',
    });
    const check = verifySignature(endpoint.secret, request.headers['webhook-signature'] as string, request.body, { nowSeconds: Math.floor(Date.now() / 1000), toleranceSeconds: 60 });
    expect(check.ok).toBe(true);
    expect(verifySignature('another-secret-of-enough-length-000000', request.headers['webhook-signature'] as string, request.body, { nowSeconds: Math.floor(Date.now() / 1000), toleranceSeconds: 60 }).ok).toBe(false);

    expect(await deliveryRows(api, endpoint.id)).toMatchObject([
      { eventPosition: event.position, status: 'succeeded', attempts: 1, lastStatusCode: 200, lastError: null, delivered: true },
    ]);
    expect((await endpointRow(api, endpoint.id)).consecutive_failures).toBe(0);
  });

  it('sends an endpoint only the event types it asked for', async () => {
    const s = await scene();
    const { path, url } = receiver.endpoint();
    const endpoint = await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url, eventTypes: ['BOOKING_CANCELLED', 'BOOKING_NO_SHOW'] });
    const events = await emitEvents(api, (['BOOKING_CREATED', 'BOOKING_CANCELLED', 'BOOKING_CONFIRMED', 'PAYMENT_STATUS_CHANGED'] as const).map((type) => ({
      businessId: s.business.id, bookingId: s.booking.id, type, partnerIds: [s.partner.id],
    })));

    expect((await deliveryRows(api, endpoint.id)).map((d) => d.eventPosition)).toEqual([events[1].position]);
    await drain(dispatcherFor(api));
    expect(receiver.at(path).map((r) => r.headers['webhook-event'])).toEqual(['BOOKING_CANCELLED']);
  });

  it("sends a partner's endpoint only the events of that partner's bookings, including a booking moved to or from them", async () => {
    const s = await scene();
    const [p0, p1] = s.partners;
    const tokens = await tokensFor(api, { businessGid: s.business.gid, partnerGid: p1.gid });
    const targets = [receiver.endpoint(), receiver.endpoint(), receiver.endpoint()];
    const types = ['BOOKING_CREATED', 'BOOKING_RESCHEDULED'] as ('BOOKING_CREATED' | 'BOOKING_RESCHEDULED')[];
    // Staff register one for p0; p1 registers their own; staff one for the whole business.
    const forP0 = await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, partnerId: p0.gid, url: targets[0].url, eventTypes: types });
    const forP1 = await createEndpoint(api, tokens.partner, { businessId: s.business.gid, url: targets[1].url, eventTypes: types });
    const wide = await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url: targets[2].url, eventTypes: types });
    const [ofP0, ofP1, moved] = await emitEvents(api, [
      { businessId: s.business.id, bookingId: s.booking.id, type: 'BOOKING_CREATED', partnerIds: [p0.id] },
      { businessId: s.business.id, bookingId: s.booking.id, type: 'BOOKING_CREATED', partnerIds: [p1.id] },
      // Moved from p0 to p1: the current partner first, the previous second.
      { businessId: s.business.id, bookingId: s.booking.id, type: 'BOOKING_RESCHEDULED', partnerIds: [p1.id, p0.id] },
    ]);

    const positions = async (endpointId: string) => (await deliveryRows(api, endpointId)).map((d) => d.eventPosition);
    expect(await positions(forP0.id)).toEqual([ofP0.position, moved.position]);
    expect(await positions(forP1.id)).toEqual([ofP1.position, moved.position]);
    expect(await positions(wide.id)).toEqual([ofP0.position, ofP1.position, moved.position]);

    await drain(dispatcherFor(api));
    expect(targets.map((t) => receiver.at(t.path).length)).toEqual([2, 2, 3]);
    expect(JSON.parse(receiver.at(targets[1].path)[1].body.toString()).partnerIds).toEqual([p1.gid, p0.gid]);
  });

  it('retries after 500s with growing delays, then records the success', async () => {
    const s = await scene();
    const { path, url } = receiver.endpoint((n) => (n < 2 ? 500 : 200));
    const endpoint = await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url, eventTypes: ['BOOKING_CREATED'] });
    await emitEvents(api, [{ businessId: s.business.id, bookingId: s.booking.id, type: 'BOOKING_CREATED', partnerIds: [s.partner.id] }]);
    const dispatcher = dispatcherFor(api, { retryBaseMs: 200 });

    expect(await dispatcher.runOnce()).toBe(1);
    const [first] = await deliveryRows(api, endpoint.id);
    expect(first).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 500, lastError: 'Expected a 2xx answer, got HTTP 500.', delivered: false, dueNow: false });
    // The first retry waits half to all of the base delay.
    expect(first.delayMs).toBeGreaterThanOrEqual(100);
    expect(first.delayMs).toBeLessThanOrEqual(200);
    expect((await endpointRow(api, endpoint.id)).consecutive_failures).toBe(1);

    await until(async () => (await dispatcher.runOnce()) === 1, 'the first retry');
    const [second] = await deliveryRows(api, endpoint.id);
    expect(second).toMatchObject({ status: 'pending', attempts: 2, lastStatusCode: 500 });
    expect(second.delayMs).toBeGreaterThanOrEqual(200);
    expect(second.delayMs).toBeLessThanOrEqual(400);
    expect(second.delayMs!).toBeGreaterThan(first.delayMs!);
    expect((await endpointRow(api, endpoint.id)).consecutive_failures).toBe(2);

    await until(async () => (await dispatcher.runOnce()) === 1, 'the second retry');
    expect(await deliveryRows(api, endpoint.id)).toMatchObject([{ status: 'succeeded', attempts: 3, lastStatusCode: 200, lastError: null, delivered: true }]);
    expect((await endpointRow(api, endpoint.id)).consecutive_failures).toBe(0);
    // Every attempt carried the same event, body and Webhook-Id.
    const requests = receiver.at(path);
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(new Set(requests.map((r) => r.body.toString())).size).toBe(1);
  });

  it('counts an endpoint that does not answer in time as a failed attempt', async () => {
    const s = await scene();
    const { path, url } = receiver.endpoint(() => 'hang');
    const endpoint = await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url, eventTypes: ['BOOKING_CREATED'] });
    await emitEvents(api, [{ businessId: s.business.id, bookingId: s.booking.id, type: 'BOOKING_CREATED', partnerIds: [s.partner.id] }]);

    const startedAt = Date.now();
    expect(await dispatcherFor(api, { timeoutMs: 200 }).runOnce()).toBe(1);
    const elapsed = Date.now() - startedAt;
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(5000);
    expect(receiver.at(path)).toHaveLength(1);
    expect(await deliveryRows(api, endpoint.id)).toMatchObject([{ status: 'pending', attempts: 1, lastStatusCode: null, lastError: 'connection failed: no HTTP answer within 200 ms (refused, unreachable, TLS error or too slow)', dueNow: false }]);
    expect((await endpointRow(api, endpoint.id)).consecutive_failures).toBe(1);
  });

  it('records a refused connection as a failed attempt', async () => {
    const s = await scene();
    const closed = await new Receiver().start();
    await closed.close();
    // Nothing listens there any more.
    const endpoint = await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url: `${closed.base}/hook`, eventTypes: ['BOOKING_CREATED'] });
    await emitEvents(api, [{ businessId: s.business.id, bookingId: s.booking.id, type: 'BOOKING_CREATED', partnerIds: [s.partner.id] }]);
    expect(await dispatcherFor(api).runOnce()).toBe(1);
    expect(await deliveryRows(api, endpoint.id)).toMatchObject([{ status: 'pending', attempts: 1, lastStatusCode: null, lastError: 'connection failed: no HTTP answer within 10000 ms (refused, unreachable, TLS error or too slow)' }]);
  });

  it('gives a delivery up once it is as old as the retry window, the last attempt at the end of the window', async () => {
    const s = await scene();
    const { path, url } = receiver.endpoint(() => 503);
    const endpoint = await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url, eventTypes: ['BOOKING_CREATED'] });
    await emitEvents(api, [{ businessId: s.business.id, bookingId: s.booking.id, type: 'BOOKING_CREATED', partnerIds: [s.partner.id] }]);
    const dispatcher = dispatcherFor(api, { retryBaseMs: 60_000, retryWindowMs: 400 });

    expect(await dispatcher.runOnce()).toBe(1);
    // The backoff (30 to 60 s) would end after the window: the retry is at the window's end instead.
    const [first] = await deliveryRows(api, endpoint.id);
    expect(first).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 503 });
    expect(first.dueAfterCreationMs).toBe(400);

    await until(async () => (await dispatcher.runOnce()) === 1, 'the last attempt');
    expect(await deliveryRows(api, endpoint.id)).toMatchObject([{ status: 'failed', attempts: 2, lastStatusCode: 503, lastError: 'Expected a 2xx answer, got HTTP 503.', delivered: false }]);
    expect(await dispatcher.runOnce()).toBe(0);
    expect(receiver.at(path)).toHaveLength(2);
    expect(dispatcher.stats.gaveUp).toBe(1);
  });

  it('pauses an endpoint after N failures in a row, sends nothing while paused, and sends the backlog on resume', async () => {
    const s = await scene();
    let failing = true;
    const { path, url } = receiver.endpoint(() => (failing ? 500 : 204));
    const endpoint = await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url, eventTypes: ['BOOKING_CREATED'] });
    const draft = { businessId: s.business.id, bookingId: s.booking.id, type: 'BOOKING_CREATED' as const, partnerIds: [s.partner.id] };
    await emitEvents(api, [draft, draft, draft, draft, draft]);
    // One at a time, so that exactly N requests go out before the pause.
    const dispatcher = dispatcherFor(api, { pauseAfterFailures: 3, retryBaseMs: 10 }, 1);

    await until(async () => {
      if ((await endpointRow(api, endpoint.id)).status === 'paused') return true;
      await dispatcher.runOnce();
      return false;
    }, 'the pause');
    expect(receiver.at(path)).toHaveLength(3);
    const log = await api.gql(ENDPOINT_LOG, { id: endpoint.gid }, { token: s.tokens.staff });
    expect(log.errors).toBeUndefined();
    expect(log.data.node).toMatchObject({
      status: 'PAUSED',
      consecutiveFailures: 3,
      pauseReason: 'Paused after 3 failed attempts in a row; the last one: Expected a 2xx answer, got HTTP 500.',
    });
    expect(log.data.node.pausedAt).toEqual(expect.any(String));
    // Every pending delivery waits for the resume: none is due, whatever time passes.
    expect((await deliveryRows(api, endpoint.id)).map((d) => [d.status, d.parked])).toEqual(Array(5).fill(['pending', true]));
    expect(log.data.node.deliveries.nodes.map((d: any) => d.nextAttemptAt)).toEqual(Array(5).fill(null));
    expect(await dispatcher.runOnce()).toBe(0);

    // New events still make deliveries, which wait too.
    await emitEvents(api, [draft]);
    expect((await deliveryRows(api, endpoint.id)).map((d) => [d.status, d.parked])).toEqual(Array(6).fill(['pending', true]));
    expect(await dispatcher.runOnce()).toBe(0);
    expect(receiver.at(path)).toHaveLength(3);

    failing = false;
    const resumed = await api.gql(RESUME, { input: { endpointId: endpoint.gid } }, { token: s.tokens.staff });
    expect(resumed.data.webhookEndpointResume).toEqual({
      endpoint: { id: endpoint.gid, status: 'ACTIVE', consecutiveFailures: 0, pausedAt: null, pauseReason: null },
      userErrors: [],
    });
    expect(await drain(dispatcher)).toBe(6);
    expect((await deliveryRows(api, endpoint.id)).map((d) => d.status)).toEqual(Array(6).fill('succeeded'));
    const requests = receiver.at(path);
    expect(requests).toHaveLength(9);
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(6);
    expect(await endpointRow(api, endpoint.id)).toMatchObject({ status: 'active', consecutive_failures: 0, paused_at: null, pause_reason: null });
  });

  it('redelivers a delivery as a new log entry for the same event, sent with the same Webhook-Id and body', async () => {
    const s = await scene();
    const { path, url } = receiver.endpoint();
    const endpoint = await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url, eventTypes: ['BOOKING_CREATED'] });
    const [event] = await emitEvents(api, [{ businessId: s.business.id, bookingId: s.booking.id, type: 'BOOKING_CREATED', partnerIds: [s.partner.id] }]);
    const dispatcher = dispatcherFor(api);
    await drain(dispatcher);
    const [original] = await deliveryRows(api, endpoint.id);
    const originalGid = toGlobalId('WebhookDelivery', original.id);
    const webhookId = `${endpoint.gid}.${event.position}`;

    const res = await api.gql(REDELIVER, { input: { deliveryId: originalGid } }, { token: s.tokens.partner });
    // The booking's partner may not touch the business-wide endpoint: it reads as missing.
    expect(res.data.webhookDeliveryRedeliver).toEqual({ delivery: null, userErrors: [{ field: ['input', 'deliveryId'], message: `Expected the ID of a webhook delivery you may see, got "${originalGid}".`, code: 'NOT_FOUND' }] });

    const again = await api.gql(REDELIVER, { input: { deliveryId: originalGid } }, { token: s.tokens.staff });
    const delivery = again.data.webhookDeliveryRedeliver.delivery;
    expect(again.data.webhookDeliveryRedeliver.userErrors).toEqual([]);
    expect(delivery).toMatchObject({ status: 'PENDING', attempts: 0, webhookId, redeliveryOf: { id: originalGid }, event: { cursor: event.position } });
    expect(delivery.id).not.toBe(originalGid);

    expect(await dispatcher.runOnce()).toBe(1);
    const requests = receiver.at(path);
    expect(requests).toHaveLength(2);
    expect(requests.map((r) => r.headers['webhook-id'])).toEqual([webhookId, webhookId]);
    expect(requests[1].body.toString()).toBe(requests[0].body.toString());

    const log = await api.gql(ENDPOINT_LOG, { id: endpoint.gid }, { token: s.tokens.staff });
    expect(log.data.node.deliveries.nodes.map((d: any) => [d.id, d.status, d.attempts, d.redeliveryOf?.id ?? null])).toEqual([
      [delivery.id, 'SUCCEEDED', 1, originalGid],
      [originalGid, 'SUCCEEDED', 1, null],
    ]);
  });

  it('shows the delivery log to staff, admins and the endpoint\'s partner only, newest first, by page and by status', async () => {
    const s = await scene();
    const [p0] = s.partners;
    const other = await createBookableBusiness(api.db, { partners: 1 });
    const otherTokens = await tokensFor(api, { businessGid: other.business.gid, partnerGid: other.partners[0].gid, customerGid: other.customer.gid });
    const p1Token = (await tokensFor(api, { businessGid: s.business.gid, partnerGid: s.partners[1].gid })).partner;
    const wideTarget = receiver.endpoint((n) => (n === 0 ? 200 : 500));
    const wide = await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url: wideTarget.url, eventTypes: ['BOOKING_CREATED'] });
    const own = await createEndpoint(api, s.tokens.partner, { businessId: s.business.gid, url: receiver.endpoint().url, eventTypes: ['BOOKING_CREATED'] });
    const events = await emitEvents(api, [1, 2, 3].map(() => ({ businessId: s.business.id, bookingId: s.booking.id, type: 'BOOKING_CREATED' as const, partnerIds: [p0.id] })));
    // One at a time, oldest first: the business-wide endpoint acknowledges the first event only.
    const dispatcher = dispatcherFor(api, { retryBaseMs: 3_600_000 }, 1);
    await drain(dispatcher);

    const staffLog = await api.gql(ENDPOINT_LOG, { id: wide.gid, first: 2 }, { token: s.tokens.staff });
    const firstPage = staffLog.data.node.deliveries;
    expect(firstPage.nodes.map((d: any) => [d.event.cursor, d.status, d.lastResponseStatus, d.endpoint.id])).toEqual([
      [events[2].position, 'PENDING', 500, wide.gid],
      [events[1].position, 'PENDING', 500, wide.gid],
    ]);
    expect(firstPage.pageInfo.hasNextPage).toBe(true);
    const secondPage = (await api.gql(ENDPOINT_LOG, { id: wide.gid, first: 2, after: firstPage.pageInfo.endCursor }, { token: s.tokens.staff })).data.node.deliveries;
    expect(secondPage.nodes.map((d: any) => [d.event.cursor, d.status, d.lastResponseStatus, d.lastError])).toEqual([[events[0].position, 'SUCCEEDED', 200, null]]);
    expect(secondPage.pageInfo.hasNextPage).toBe(false);
    const succeeded = (await api.gql(ENDPOINT_LOG, { id: wide.gid, status: 'SUCCEEDED' }, { token: s.tokens.staff })).data.node.deliveries.nodes;
    expect(succeeded.map((d: any) => d.event.cursor)).toEqual([events[0].position]);

    const LIST = `query($slug: String!) { business(slug: $slug) { webhookEndpoints { id partner { id } deliveries(first: 5) { nodes { id event { cursor } } } } } }`;
    const listAs = async (token: string | undefined) => (await api.gql(LIST, { slug: s.business.slug }, { token })).data.business.webhookEndpoints.map((e: any) => [e.id, e.deliveries.nodes.length]);
    expect(await listAs(s.tokens.staff)).toEqual([[wide.gid, 3], [own.gid, 3]]);
    expect(await listAs(await api.token({ sub: 'admin-1', role: 'admin' }))).toEqual([[wide.gid, 3], [own.gid, 3]]);
    expect(await listAs(s.tokens.partner)).toEqual([[own.gid, 3]]);
    expect(await listAs(p1Token)).toEqual([]);
    expect(await listAs(s.tokens.customer)).toEqual([]);
    expect(await listAs(undefined)).toEqual([]);
    expect(await listAs(otherTokens.staff)).toEqual([]);

    // Another business's staff, and a partner looking at the business-wide endpoint, get null.
    const deliveryGid = firstPage.nodes[0].id;
    const NODE = `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`;
    expect((await api.gql(NODE, { ids: [wide.gid, deliveryGid, own.gid] }, { token: otherTokens.staff })).data.nodes).toEqual([null, null, null]);
    expect((await api.gql(NODE, { ids: [wide.gid, deliveryGid, own.gid] }, { token: s.tokens.partner })).data.nodes).toEqual([null, null, { id: own.gid }]);
    expect((await api.gql(NODE, { ids: [wide.gid, deliveryGid] }, { token: s.tokens.staff })).data.nodes).toEqual([{ id: wide.gid }, { id: deliveryGid }]);

    // And their mutations find nothing, and change nothing.
    const before = await deliveryRows(api, wide.id);
    const redeliver = await api.gql(REDELIVER, { input: { deliveryId: deliveryGid } }, { token: otherTokens.staff });
    expect(redeliver.data.webhookDeliveryRedeliver.userErrors.map((e: any) => e.code)).toEqual(['NOT_FOUND']);
    const resume = await api.gql(RESUME, { input: { endpointId: wide.gid } }, { token: otherTokens.staff });
    expect(resume.data.webhookEndpointResume.userErrors.map((e: any) => e.code)).toEqual(['NOT_FOUND']);
    expect(await deliveryRows(api, wide.id)).toEqual(before);
    const customer = await api.gql(REDELIVER, { input: { deliveryId: deliveryGid } }, { token: s.tokens.customer });
    expect(customer.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });

  it('reads the delivery logs of many endpoints in a fixed number of statements', async () => {
    const s = await scene();
    for (let i = 0; i < 4; i++) await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url: receiver.endpoint().url, eventTypes: ['BOOKING_CREATED'] });
    await emitEvents(api, [1, 2].map(() => ({ businessId: s.business.id, bookingId: s.booking.id, type: 'BOOKING_CREATED' as const, partnerIds: [s.partner.id] })));
    const LIST = `query($slug: String!) { business(slug: $slug) { webhookEndpoints { id partner { id } business { id }
      deliveries(first: 5) { nodes { id endpoint { id } event { cursor booking { id } } redeliveryOf { id } } } } } }`;
    const { result, statements } = await api.countStatements(() => api.gql(LIST, { slug: s.business.slug }, { token: s.tokens.staff }));
    expect(result.data.business.webhookEndpoints).toHaveLength(4);
    expect(result.data.business.webhookEndpoints.every((e: any) => e.deliveries.nodes.length === 2)).toBe(true);
    // business, endpoints, delivery pages, bookings: one statement each, whatever the number of endpoints.
    expect(statements).toBe(4);
  });

  it('never lets two dispatchers send the same attempt, however they race', async () => {
    const s = await scene();
    const { path, url } = receiver.endpoint();
    const endpoint = await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url, eventTypes: ['BOOKING_CREATED'] });
    await emitEvents(api, Array.from({ length: 60 }, () => ({ businessId: s.business.id, bookingId: s.booking.id, type: 'BOOKING_CREATED' as const, partnerIds: [s.partner.id] })));
    const dispatchers = Array.from({ length: 4 }, () => dispatcherFor(api, {}, 5));
    // Each dispatcher runs two claims at a time, as two processes would.
    await Promise.all(dispatchers.flatMap((d) => [drain(d), drain(d)]));

    const requests = receiver.at(path);
    expect(requests).toHaveLength(60);
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(60);
    expect((await deliveryRows(api, endpoint.id)).map((d) => [d.status, d.attempts])).toEqual(Array(60).fill(['succeeded', 1]));
    expect(dispatchers.reduce((sum, d) => sum + d.stats.attempts, 0)).toBe(60);
  });

  it('leaves a claimed delivery alone until its lease ends, then sends it again (a process that died mid-request)', async () => {
    const s = await scene();
    const { path, url } = receiver.endpoint();
    const endpoint = await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url, eventTypes: ['BOOKING_CREATED'] });
    await emitEvents(api, [{ businessId: s.business.id, bookingId: s.booking.id, type: 'BOOKING_CREATED', partnerIds: [s.partner.id] }]);

    // A process claims it and dies before sending or recording anything.
    const [claimed] = await claimDueWebhookDeliveries(api.db, 10, 60_000);
    expect(claimed).toMatchObject({ endpointId: endpoint.id, attempt: 1, url });
    const dispatcher = dispatcherFor(api);
    expect(await dispatcher.runOnce()).toBe(0);
    expect(receiver.at(path)).toHaveLength(0);

    // Its lease runs out.
    await sql`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE id = ${claimed.id}::bigint`.execute(api.db);
    expect(await dispatcher.runOnce()).toBe(1);
    expect(await deliveryRows(api, endpoint.id)).toMatchObject([{ status: 'succeeded', attempts: 2 }]);
    expect(receiver.at(path)).toHaveLength(1);
  });

  it('hands the requests in flight back when stopped: due again at once, not counted as failures', async () => {
    const s = await scene();
    let hang = true;
    const { path, url } = receiver.endpoint(() => (hang ? 'hang' : 200));
    const endpoint = await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url, eventTypes: ['BOOKING_CREATED'] });
    await emitEvents(api, [{ businessId: s.business.id, bookingId: s.booking.id, type: 'BOOKING_CREATED', partnerIds: [s.partner.id] }]);
    const stopping = dispatcherFor(api, { timeoutMs: 30_000 });

    const run = stopping.runOnce();
    await until(() => receiver.at(path).length === 1, 'the request to arrive');
    const startedStop = Date.now();
    await stopping.stop();
    expect(Date.now() - startedStop).toBeLessThan(5000);
    expect(await run).toBe(1);
    expect(await deliveryRows(api, endpoint.id)).toMatchObject([
      { status: 'pending', attempts: 1, lastStatusCode: null, lastError: 'Interrupted: the sending process stopped; sent again.', dueNow: true },
    ]);
    expect((await endpointRow(api, endpoint.id)).consecutive_failures).toBe(0);
    expect(await stopping.runOnce()).toBe(0);

    hang = false;
    expect(await dispatcherFor(api).runOnce()).toBe(1);
    expect(await deliveryRows(api, endpoint.id)).toMatchObject([{ status: 'succeeded', attempts: 2 }]);
  });

  it('gives up the pending deliveries of a deleted endpoint and makes none for it any more', async () => {
    const s = await scene();
    const { path, url } = receiver.endpoint();
    const endpoint = await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url, eventTypes: ['BOOKING_CREATED'] });
    const draft = { businessId: s.business.id, bookingId: s.booking.id, type: 'BOOKING_CREATED' as const, partnerIds: [s.partner.id] };
    await emitEvents(api, [draft, draft]);

    const res = await api.gql(`mutation($input: WebhookEndpointDeleteInput!) { webhookEndpointDelete(input: $input) { deletedEndpointId userErrors { code } } }`, { input: { endpointId: endpoint.gid } }, { token: s.tokens.staff });
    expect(res.data.webhookEndpointDelete).toEqual({ deletedEndpointId: endpoint.gid, userErrors: [] });
    expect((await deliveryRows(api, endpoint.id)).map((d) => [d.status, d.attempts, d.lastError])).toEqual(Array(2).fill(['failed', 0, 'Given up: the endpoint was deleted.']));
    await emitEvents(api, [draft]);
    expect(await deliveryRows(api, endpoint.id)).toHaveLength(2);
    expect(await dispatcherFor(api).runOnce()).toBe(0);
    expect(receiver.at(path)).toHaveLength(0);
  });

  it('fans many events out to their endpoints in one statement', async () => {
    const s = await scene();
    const target = receiver.endpoint();
    const a = await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url: target.url, eventTypes: ['BOOKING_CREATED'] });
    const b = await createEndpoint(api, s.tokens.partner, { businessId: s.business.gid, url: target.url, eventTypes: ['BOOKING_CREATED', 'BOOKING_CANCELLED'] });
    const unrelated = await createBusiness(api.db);
    businessIds.add(unrelated.id);
    const drafts = Array.from({ length: 40 }, (_, i) => ({
      businessId: s.business.id,
      bookingId: s.booking.id,
      type: (i % 2 ? 'BOOKING_CANCELLED' : 'BOOKING_CREATED') as 'BOOKING_CANCELLED' | 'BOOKING_CREATED',
      partnerIds: [i % 4 < 2 ? s.partner.id : s.partners[1].id],
    }));
    const emitted = await emitEvents(api, drafts);
    // The relay ran the hook: a gets the 20 created events, b (the first partner's) the 20 of its partner.
    expect(await deliveryRows(api, a.id)).toHaveLength(20);
    expect(await deliveryRows(api, b.id)).toHaveLength(20);

    // The hook again on the same 40 events, counting its statements, then rolled back.
    const events = (await sql<any>`
      SELECT id, position, type, business_id AS "businessId", booking_id AS "bookingId", payment_id AS "paymentId", partner_ids::text[] AS "partnerIds", occurred_at AS "occurredAt", data
      FROM booking_events WHERE id = ANY(${emitted.map((e) => e.id)}::bigint[]) ORDER BY position`.execute(api.db)).rows;
    let statements = 0;
    let inserted = 0;
    const rollback = new Error('rollback');
    await expect(
      api.db.transaction().execute(async (trx) => {
        const counting = trx.withPlugin({ transformQuery: (args) => args.node, transformResult: async (args) => (statements++, args.result) }) as Trx;
        await createWebhookDeliveries(counting, events);
        inserted = Number((await sql<{ n: string }>`SELECT count(*) AS n FROM webhook_deliveries WHERE endpoint_id IN (${a.id}::bigint, ${b.id}::bigint)`.execute(trx)).rows[0].n);
        throw rollback;
      }),
    ).rejects.toBe(rollback);
    expect(statements).toBe(1);
    expect(inserted).toBe(80);
  });
});

describe.skipIf(!onRealPostgres)('Outbound webhooks: a resume racing the relay (PostgreSQL: two sessions at once)', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ isolated: true, config: { events: { relayIntervalMs: 600_000, republishAfterMs: 600_000, checkIntervalMs: 600_000, maxQueuedPerSubscriber: 1000 }, webhooks: LOOPBACK_RECEIVERS } });
  });
  afterAll(() => api.close());

  it('parks no delivery on an endpoint resumed while the relay creates its deliveries', async () => {
    const s = await bookedScene(api);
    const endpoint = await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url: 'http://127.0.0.1:9/never-called', eventTypes: ['BOOKING_CONFIRMED'] });
    await sql`UPDATE webhook_endpoints SET status = 'paused', paused_at = now() WHERE id = ${endpoint.id}::bigint`.execute(api.db);
    await api.db.insertInto('booking_events').values({
      business_id: s.business.id, booking_id: s.booking.id, partner_ids: [s.partner.id], type: 'BOOKING_CONFIRMED',
      data: JSON.stringify({ booking: { status: 'CONFIRMED', partnerId: s.partner.id, startsAt: '2030-01-01T10:00:00Z', endsAt: '2030-01-01T11:00:00Z' } }),
    }).execute();

    // A resume holds the endpoint's lock, not committed yet, while the relay runs its fan-out.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => (locked = resolve));
    const resume = api.db.transaction().execute(async (trx) => {
      await lockWebhookEndpointById(trx, endpoint.id);
      await activateWebhookEndpoint(trx, endpoint.id);
      await unparkWebhookDeliveries(trx, endpoint.id);
      locked();
      await gate;
    });
    await holding;
    const relaying = api.app.relay.kick();
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    await resume;
    await relaying;
    // The fan-out waited for the resume and saw the endpoint active: the delivery is due, not parked.
    const rows = await deliveryRows(api, endpoint.id);
    expect(rows.map((r) => ({ parked: r.parked, dueNow: r.dueNow }))).toEqual([{ parked: false, dueNow: true }]);
  });
});

describe('Outbound webhooks: end to end', () => {
  let api: TestApi;
  let receiver: Receiver;
  beforeAll(async () => {
    api = await startTestApi({ isolated: true, config: { webhooks: { timeoutMs: 5000, retryBaseMs: 1000, retryWindowMs: 3_600_000, pauseAfterFailures: 20, pollIntervalMs: 50, allowPrivateNetworks: true, httpsOnly: false } } });
    receiver = await new Receiver().start();
  });
  afterAll(async () => {
    await api.close();
    await receiver.close();
  });

  it('POSTs a signed BOOKING_CREATED soon after a bookingCreate mutation commits', async () => {
    const s = await bookedScene(api);
    const { path, url } = receiver.endpoint();
    const endpoint = await createEndpoint(api, s.tokens.partner, { businessId: s.business.gid, url, eventTypes: ['BOOKING_CREATED', 'BOOKING_CONFIRMED'] });
    const res = await api.gql(
      `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id startsAt endsAt } userErrors { code } } }`,
      { input: { customerId: s.customer.gid, slotIds: s.partner.slots.slice(4, 6).map((x) => x.gid) } },
      { token: s.tokens.staff },
    );
    expect(res.data.bookingCreate.userErrors).toEqual([]);
    const booking = res.data.bookingCreate.booking;

    await until(() => receiver.at(path).length === 1, 'the webhook');
    const [request] = receiver.at(path);
    const body = JSON.parse(request.body.toString());
    expect(body).toMatchObject({
      type: 'BOOKING_CREATED',
      businessId: s.business.gid,
      bookingId: booking.id,
      paymentId: null,
      partnerIds: [s.partner.gid],
      data: { booking: { status: 'PENDING', partnerId: s.partner.gid, startsAt: booking.startsAt, endsAt: booking.endsAt } },
    });
    expect(request.headers['webhook-id']).toBe(`${endpoint.gid}.${body.cursor}`);
    expect(verifySignature(endpoint.secret, request.headers['webhook-signature'] as string, request.body, { nowSeconds: Math.floor(Date.now() / 1000), toleranceSeconds: 60 }).ok).toBe(true);
    await until(async () => (await deliveryRows(api, endpoint.id))[0]?.status === 'succeeded', 'the success to be recorded');
    expect(api.app.webhooks?.stats.succeeded).toBe(1);
  });

  it('keeps sending while one endpoint hangs: a slow endpoint holds one slot, not the batch', async () => {
    const s = await bookedScene(api);
    const slow = receiver.endpoint(() => 'hang');
    const fast = receiver.endpoint();
    await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url: slow.url, eventTypes: ['BOOKING_CREATED'] });
    await createEndpoint(api, s.tokens.staff, { businessId: s.business.gid, url: fast.url, eventTypes: ['BOOKING_CONFIRMED'] });
    const res = await api.gql(
      `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { code } } }`,
      { input: { customerId: s.customer.gid, slotIds: s.partner.slots.slice(4, 6).map((x) => x.gid) } },
      { token: s.tokens.staff },
    );
    await until(() => receiver.at(slow.path).length === 1, 'the slow endpoint to be called');
    const confirmed = Date.now();
    await api.gql(`mutation($input: BookingConfirmInput!) { bookingConfirm(input: $input) { userErrors { code } } }`, { input: { bookingId: res.data.bookingCreate.booking.id } }, { token: s.tokens.staff });
    // The slow one hangs until its 5 s timeout; the confirmation's delivery does not wait for it.
    await until(() => receiver.at(fast.path).length === 1, 'the fast endpoint', 3000);
    expect(Date.now() - confirmed).toBeLessThan(3000);
    expect(receiver.at(slow.path)).toHaveLength(1);
  });
});
