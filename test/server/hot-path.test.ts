import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBookableBusiness, createBooking } from '../support/builders.js';
import { openTestDatabase } from '../support/database.js';
import type { DatabaseHandle } from '../../src/db/connect.js';
import { startLimitedApi, type LimitedApi } from './rate-limit-support.js';

/**
 * A query text seen before skips Apollo's pipeline (src/server/hot-path.ts). Each case sends the
 * same request twice, first through Apollo and then down the hot path, and expects the second answer
 * to be the first one: status, content type, body byte for byte (but for the budget left and the
 * request id), and the same statements sent.
 */
interface Exchange {
  status: number;
  contentType: string | null;
  retryAfter: string | null;
  text: string;
  statements: number;
}

const PAGE = `query($slug: String!) { business(slug: $slug) { name bookings(first: 5) { nodes { id status service { name } partner { name } customer { name } } } } }`;
const SLOTS = `query($businessId: ID!, $serviceId: ID!) { availableSlots(businessId: $businessId, serviceId: $serviceId, date: "2030-01-07") { startsAt } }`;

/** What differs between two equal answers: the budget left after each (and its refill time), and each one's request id. */
const comparable = (text: string) =>
  text.replace(/"(remaining|resetSeconds)":\d+/g, '"$1":_').replace(/"requestId":"[^"]*"/g, '"requestId":_');

let database: DatabaseHandle;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database.close());

describe('The hot path: a query sent again is answered as Apollo answered it', () => {
  let api: LimitedApi;
  let token: string;
  let built: Awaited<ReturnType<typeof createBookableBusiness>>;

  async function send(query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Exchange> {
    const before = database.statementCount();
    const res = await fetch(api.app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const text = await res.text();
    return { status: res.status, contentType: res.headers.get('content-type'), retryAfter: res.headers.get('retry-after'), text, statements: database.statementCount() - before };
  }

  async function sentTwice(query: string, variables: Record<string, unknown>, headers?: Record<string, string>): Promise<[Exchange, Exchange]> {
    const first = await send(query, variables, headers);
    const second = await send(query, variables, headers);
    expect({ ...second, text: comparable(second.text) }).toEqual({ ...first, text: comparable(first.text) });
    return [first, second];
  }

  beforeAll(async () => {
    api = await startLimitedApi({ database, rateLimits: { operations: { points: 1000, durationSeconds: 60 } } });
    token = await api.token({ sub: `hot-${randomUUID()}`, role: 'admin' });
    built = await createBookableBusiness(database.db, { slotCount: 4 });
    await createBooking(database.db, { business: built.business, service: built.service, partner: built.partners[0]!, customer: built.customer, slots: built.partners[0]!.slots.slice(0, 1) });
  });
  afterAll(() => api.close());

  it('answers a nested page with the same bytes, the same statements, and charges each request once', async () => {
    // Another text of the same page (through Apollo) warms the catalog cache: both requests below are warm.
    await send(`${PAGE} `, { slug: built.business.slug });
    const [first, second] = await sentTwice(PAGE, { slug: built.business.slug });
    expect(first.status).toBe(200);
    expect(first.contentType).toBe('application/json; charset=utf-8');
    const answers = [JSON.parse(first.text), JSON.parse(second.text)];
    expect(answers[0].data.business.bookings.nodes).toHaveLength(1);
    expect(answers[0].extensions.cost.requested).toBeGreaterThan(0);
    expect(answers[1].extensions.rateLimit.remaining).toBe(answers[0].extensions.rateLimit.remaining - 1);
    expect(first.statements).toBeGreaterThan(0);
  });

  it('hands an error raised while executing to Apollo: the same coded error, its statements sent once', async () => {
    const [first] = await sentTwice(SLOTS, { businessId: 'not-an-id', serviceId: built.service.gid });
    const answer = JSON.parse(first.text);
    expect(answer.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(answer.errors[0].extensions.requestId).toEqual(expect.any(String));
  });

  it('hands a variable the string guard refuses to Apollo: the same refusal, no statement sent', async () => {
    const [first] = await sentTwice(PAGE, { slug: 'nul\u0000byte' });
    expect(first.status).toBe(200);
    expect(JSON.parse(first.text).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(first.statements).toBe(0);
  });

  it('hands variables of the wrong type to Apollo: the same explained refusal', async () => {
    const [first] = await sentTwice(PAGE, { slug: 42 });
    expect(JSON.parse(first.text).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('hands a text whose variables push its cost over the limit to Apollo: QUERY_TOO_COMPLEX with 400, nothing run', async () => {
    const page = `query($first: Int!) { businesses(first: $first) { nodes { bookings(first: 100) { nodes { id customer { name } } } } } }`;
    expect((await send(page, { first: 1 })).status).toBe(200);
    const refused = await send(page, { first: 100 });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.text).errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'cost' });
    expect(refused.statements).toBe(0);
  });

  it('leaves a client that asks for application/graphql-response+json to Apollo, which answers in that type', async () => {
    const [first] = await sentTwice(PAGE, { slug: built.business.slug }, { accept: 'application/graphql-response+json' });
    expect(first.contentType).toBe('application/graphql-response+json; charset=utf-8');
  });

  it('runs a repeated mutation through Apollo every time', async () => {
    const mutation = `mutation($input: BookingCancelInput!) { bookingCancel(input: $input) { userErrors { code } } }`;
    await sentTwice(mutation, { input: { bookingId: 'not-an-id' } });
  });
});

describe('The hot path and the rate limit', () => {
  let api: LimitedApi;
  afterAll(() => api?.close());

  it('refuses a repeated query past its budget with 429 and Retry-After, as Apollo does, running no SQL', async () => {
    api = await startLimitedApi({ database, rateLimits: { operations: { points: 2, durationSeconds: 60 } } });
    const token = await api.token({ sub: `hot-limit-${randomUUID()}`, role: 'admin' });
    const query = `query { businesses(first: 1) { nodes { name } } }`;
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await api.countStatements(() => api.gql(query, undefined, { token })));
    expect(answers.map((a) => a.result.status)).toEqual([200, 200, 429]);
    expect(answers.map((a) => a.result.body.extensions.rateLimit.remaining)).toEqual([1, 0, 0]);
    expect(answers[2]!.result.headers.get('retry-after')).toBe(String(answers[2]!.result.body.errors[0].extensions.retryAfterSeconds));
    expect(answers[2]!.result.body.errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(answers[2]!.statements).toBe(0);
  });
});
