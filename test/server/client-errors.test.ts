import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { getNamedType, isInputObjectType } from 'graphql';
import { resolverMaps } from '../../src/resolvers.js';
import { MAX_BODY_BYTES } from '../../src/server/http.js';
import { buildExecutableSchema } from '../../src/server/schema.js';
import { loggedErrors, startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { createBookableBusiness, createBooking } from '../support/builders.js';
import { record, wsClient } from '../support/subscriptions.js';
import { databaseFingerprint } from './row-counts.js';

/**
 * Every kind of client mistake, one row each: the request, the HTTP status, the code and a piece of
 * the message it gets. None is logged at error level (a typo is not an incident), none changes a
 * row, and every error carries the request id the response header names.
 */
type Body = string | { query?: string; variables?: Record<string, unknown>; operationName?: string; extensions?: Record<string, unknown> };
interface Row {
  name: string;
  /** The raw POST body, or an operation to send as JSON (made when the row runs, if a function). */
  body: Body | (() => Body);
  headers?: Record<string, string>;
  token?: 'staff' | 'customer' | 'bad';
  /** Runs before the database fingerprint is taken (what the mistake needs to exist). */
  prepare?: () => Promise<void>;
  status: number;
  code: string;
  message: RegExp;
  /** Rows whose mistake is found while executing have `data` (with nulls); the others none. */
  data?: boolean;
}

const GRAPHQL_RESPONSE = { accept: 'application/graphql-response+json' };
const BUSINESS_BY_SLUG = 'query($slug: String!) { business(slug: $slug) { id } }';
const CANCEL = 'mutation($input: BookingCancelInput!) { bookingCancel(input: $input) { booking { id status } userErrors { code } } }';
const CREATE = 'mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { code } } }';
const SCHEDULE = 'mutation($input: PartnerScheduleSetInput!) { partnerScheduleSet(input: $input) { userErrors { code } } }';

describe('Client mistakes: each gets its code and status, is not logged, and changes nothing', () => {
  let api: TestApi;
  let tokens: Awaited<ReturnType<typeof tokensFor>>;
  let built: Awaited<ReturnType<typeof createBookableBusiness>>;
  let bookingGid: string;

  beforeAll(async () => {
    api = await startTestApi({ isolated: true });
    built = await createBookableBusiness(api.db, { slotCount: 4 });
    tokens = await tokensFor(api, { businessGid: built.business.gid, partnerGid: built.partners[0].gid, customerGid: built.customer.gid });
    bookingGid = (await createBooking(api.db, { business: built.business, service: built.service, partner: built.partners[0], customer: built.customer, slots: built.partners[0].slots.slice(0, 1) })).gid;
  });
  afterAll(() => api?.close());

  const partnerSlots = (from: string) => ({
    query: `query($id: ID!, $from: DateTime!) { node(id: $id) { ... on Partner { slots(from: $from, to: "2026-05-01T00:00:00Z") { id } } } }`,
    variables: { id: built.partners[0].gid, from },
  });

  const rows: Row[] = [
    { name: 'a syntax error', body: { query: '{ viewer { role }' }, status: 200, code: 'GRAPHQL_PARSE_FAILED', message: /^Syntax Error: Expected Name, found <EOF>\.$/ },
    { name: 'a syntax error, asking for application/graphql-response+json', body: { query: '{ viewer { role }' }, headers: GRAPHQL_RESPONSE, status: 400, code: 'GRAPHQL_PARSE_FAILED', message: /^Syntax Error/ },
    { name: 'an unknown field', body: { query: '{ viewer { rol } }' }, status: 200, code: 'GRAPHQL_VALIDATION_FAILED', message: /Cannot query field "rol" on type "Viewer"\. Did you mean "role"\?/ },
    { name: 'an unknown field, asking for application/graphql-response+json', body: { query: '{ viewer { rol } }' }, headers: GRAPHQL_RESPONSE, status: 400, code: 'GRAPHQL_VALIDATION_FAILED', message: /Cannot query field "rol"/ },
    { name: 'a missing required variable', body: { query: BUSINESS_BY_SLUG, variables: {} }, status: 200, code: 'BAD_USER_INPUT', message: /^Variable "\$slug" of required type "String!" was not provided\.$/ },
    { name: 'a null for a non-null variable', body: { query: BUSINESS_BY_SLUG, variables: { slug: null } }, status: 200, code: 'BAD_USER_INPUT', message: /^Variable "\$slug" of non-null type "String!" must not be null\.$/ },
    { name: 'a string for an Int variable', body: { query: 'query($n: Int) { businesses(first: $n) { nodes { id } } }', variables: { n: 'ten' } }, status: 200, code: 'BAD_USER_INPUT', message: /^Variable "\$n" got invalid value "ten"; .*Int cannot represent non-integer value: "ten"/ },
    {
      name: 'an unknown enum value in a variable',
      body: { query: 'query($id: ID!, $s: SlotStatus) { node(id: $id) { ... on Partner { slots(from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", status: $s) { id } } } }', variables: { id: 'UGFydG5lcjox', s: 'FREE' } },
      status: 200, code: 'BAD_USER_INPUT', message: /^Variable "\$s" got invalid value "FREE"/,
    },
    { name: 'an input object missing a required field', body: { query: CANCEL, variables: { input: { reason: 'x' } } }, token: 'staff', status: 200, code: 'BAD_USER_INPUT', message: /^Variable "\$input" got invalid value \{ reason: "x" \}; Field "bookingId" of required type "ID!" was not provided\.$/ },
    { name: 'a variable that does not coerce, asking for application/graphql-response+json', body: { query: BUSINESS_BY_SLUG, variables: {} }, headers: GRAPHQL_RESPONSE, status: 400, code: 'BAD_USER_INPUT', message: /"\$slug"/ },
    { name: 'an unknown operation name', body: { query: 'query A { viewer { role } }', operationName: 'B' }, status: 200, code: 'OPERATION_RESOLUTION_FAILURE', message: /^Unknown operation named "B"; the document has "A"\.$/ },
    { name: 'several operations and no operation name', body: { query: 'query A { viewer { role } } query B { viewer { role } }' }, status: 200, code: 'OPERATION_RESOLUTION_FAILURE', message: /^Must provide operation name if query contains multiple operations\.$/ },
    { name: 'a batch (a JSON array)', body: JSON.stringify([{ query: '{ viewer { role } }' }, { query: '{ viewer { role } }' }]), status: 400, code: 'BAD_REQUEST', message: /^Operation batching disabled\.$/ },
    { name: 'a persisted query hash the server does not know', body: { extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }, status: 200, code: 'PERSISTED_QUERY_NOT_FOUND', message: /^PersistedQueryNotFound$/ },
    { name: 'a persisted query of another protocol version', body: { extensions: { persistedQuery: { version: 2, sha256Hash: 'a'.repeat(64) } } }, status: 400, code: 'PERSISTED_QUERY_NOT_SUPPORTED', message: /version.*1/ },
    { name: 'a persisted query whose hash is not its text', body: { query: '{ viewer { role } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'b'.repeat(64) } } }, status: 400, code: 'BAD_REQUEST', message: /SHA-256 of `query`/ },
    { name: 'a body over the size limit', body: JSON.stringify({ query: '{ viewer { role } }', variables: { padding: 'x'.repeat(MAX_BODY_BYTES) } }), status: 413, code: 'PAYLOAD_TOO_LARGE', message: /at most 1048576 bytes/ },
    { name: 'a body that is not JSON', body: '{"query": "{ viewer { role } }"', status: 400, code: 'BAD_REQUEST', message: /JSON/ },
    { name: 'a body without a query', body: { variables: {} }, status: 400, code: 'BAD_REQUEST', message: /non-empty `query`/ },
    { name: 'a NUL character in a String variable', body: { query: BUSINESS_BY_SLUG, variables: { slug: 'north\u0000end' } }, status: 200, code: 'BAD_USER_INPUT', message: /^Variable "\$slug" got an invalid value at "slug": expected text without NUL characters.*got a NUL character/ },
    { name: 'a NUL character in a String literal', body: { query: '{ business(slug: "north\\u0000end") { id } }' }, status: 200, code: 'BAD_USER_INPUT', message: /^Argument "slug" got an invalid value at "slug".*NUL/ },
    { name: 'a lone surrogate in a String variable', body: { query: 'query($c: String!) { availablePartners(city: $c, date: "2026-05-01") { id } }', variables: { c: 'Berlin\ud800' } }, status: 200, code: 'BAD_USER_INPUT', message: /"\$c".*unpaired UTF-16 surrogate/ },
    { name: 'a NUL character inside an input object', body: { query: CANCEL, variables: { input: { bookingId: 'Qm9va2luZzox', reason: 'x', idempotencyKey: 'k\u0000' } } }, token: 'staff', status: 200, code: 'BAD_USER_INPUT', message: /"\$input" got an invalid value at "input\.idempotencyKey"/ },
    { name: 'a NUL character in a list', body: { query: 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }', variables: { ids: ['UGFydG5lcjox', '\u0000'] } }, status: 200, code: 'BAD_USER_INPUT', message: /at "ids\[1\]"/ },
    { name: 'February 30th', body: () => partnerSlots('2026-02-30T10:00:00Z'), status: 200, code: 'BAD_USER_INPUT', message: /a day from 01 to 28 in 2026-02, got "2026-02-30T10:00:00Z"\.$/ },
    { name: 'April 31st', body: () => partnerSlots('2026-04-31T10:00:00Z'), status: 200, code: 'BAD_USER_INPUT', message: /a day from 01 to 30 in 2026-04/ },
    {
      name: 'a Date in the year 9999',
      body: () => ({ query: SCHEDULE, variables: { input: { partnerId: built.partners[0].gid, weeklyHours: [], effectiveFrom: '2026-05-01', effectiveTo: '9999-12-31' } } }),
      token: 'staff', status: 200, code: 'BAD_USER_INPUT', message: /a year from 1900 to 2200, got "9999-12-31"\.$/,
    },
    {
      name: 'an idempotency key reused with another input',
      body: () => ({ query: CANCEL, variables: { input: { bookingId: bookingGid, reason: 'other reason', idempotencyKey: 'reused-key' } } }),
      prepare: async () => {
        const first = await api.gql(CANCEL, { input: { bookingId: bookingGid, reason: 'first reason', idempotencyKey: 'reused-key' } }, { token: tokens.staff });
        expect(first.data?.bookingCancel.userErrors).toEqual([]);
      },
      token: 'staff', status: 200, code: 'IDEMPOTENCY_KEY_REUSED', message: /key/i, data: true,
    },
    { name: 'an invalid bearer token', body: { query: '{ viewer { role } }' }, token: 'bad', status: 401, code: 'UNAUTHENTICATED', message: /token/i },
  ];

  for (const row of rows) {
    it(`answers ${row.name} with ${row.status} ${row.code}`, async () => {
      await row.prepare?.();
      const before = await databaseFingerprint(api.db);
      const logged = loggedErrors.length;
      const rawBody = typeof row.body === 'function' ? row.body() : row.body;
      const token = row.token === 'bad' ? 'not-a-jwt' : row.token ? tokens[row.token] : undefined;
      const res = await fetch(api.app.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...row.headers },
        body: typeof rawBody === 'string' ? rawBody : JSON.stringify(rawBody),
      });
      const body = (await res.json()) as { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
      expect(res.status, JSON.stringify(body)).toBe(row.status);
      expect(res.headers.get('content-type')).toMatch(row.headers?.accept ?? /^application\/json/);
      expect(body.errors, JSON.stringify(body)).toHaveLength(1);
      const [error] = body.errors!;
      expect(error.extensions?.code, error.message).toBe(row.code);
      expect(error.message).toMatch(row.message);
      expect(error.message).toMatch(/[.!?]$|^PersistedQueryNotFound$/);
      expect(error.extensions).not.toHaveProperty('stacktrace');
      expect(error.extensions?.requestId).toBe(res.headers.get('x-request-id'));
      if (row.data) expect(body.data).toBeDefined();
      else expect(body).not.toHaveProperty('data');
      expect(loggedErrors.slice(logged)).toEqual([]);
      expect(await databaseFingerprint(api.db)).toEqual(before);
    });
  }

  it('refuses a NUL character in the idempotency key of every mutation that takes one, before the database sees it', async () => {
    const schema = buildExecutableSchema(resolverMaps);
    const mutations = Object.values(schema.getMutationType()!.getFields()).filter((field) => {
      const input = getNamedType(field.args[0]?.type);
      return isInputObjectType(input) && 'idempotencyKey' in input.getFields();
    });
    expect(mutations.length).toBeGreaterThanOrEqual(7);
    for (const field of mutations) {
      const before = await databaseFingerprint(api.db);
      const logged = loggedErrors.length;
      const inputType = String(field.args[0].type);
      const res = await api.gql(`mutation($input: ${inputType}) { ${field.name}(input: $input) { __typename } }`, { input: { idempotencyKey: 'key\u0000' } }, { token: tokens.staff });
      expect(res.errors?.map((e) => e.extensions?.code), field.name).toEqual(['BAD_USER_INPUT']);
      expect(res.errors![0].message, field.name).toMatch(/"input\.idempotencyKey".*NUL/);
      expect(loggedErrors.slice(logged)).toEqual([]);
      expect(await databaseFingerprint(api.db)).toEqual(before);
    }
  });

  it('reads the 413 answer on a connection it keeps using', async () => {
    const big = JSON.stringify({ query: '{ viewer { role } }', variables: { padding: 'x'.repeat(4 * MAX_BODY_BYTES) } });
    const refused = await fetch(api.app.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(refused.status).toBe(413);
    expect(((await refused.json()) as any).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    const next = await api.gql('{ viewer { role } }');
    expect(next.data).toEqual({ viewer: { role: 'ANONYMOUS' } });
  });

  it('registers a persisted query and answers it by its hash', async () => {
    const query = '{ viewer { role } }';
    const persistedQuery = { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') };
    const post = (body: object) => fetch(api.app.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<any>);
    const registered = await post({ query, extensions: { persistedQuery } });
    expect(registered.errors).toBeUndefined();
    expect(registered.data).toEqual({ viewer: { role: 'ANONYMOUS' } });
    const byHash = await post({ extensions: { persistedQuery } });
    expect(byHash.errors).toBeUndefined();
    expect(byHash.data).toEqual({ viewer: { role: 'ANONYMOUS' } });
  });
});

describe('Request ids: every error names its request, as the log does', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api?.close());

  const send = (headers: Record<string, string>) =>
    fetch(api.app.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: '{ viewer { rol } }' }) });

  it('echoes a sane X-Request-Id and puts it in every error', async () => {
    const res = await send({ 'x-request-id': 'trace-01HZX.abc:42' });
    expect(res.headers.get('x-request-id')).toBe('trace-01HZX.abc:42');
    expect(((await res.json()) as any).errors[0].extensions.requestId).toBe('trace-01HZX.abc:42');
  });

  it('replaces an X-Request-Id that is not a sane token with a generated one', async () => {
    for (const given of ['has space', 'x'.repeat(200), 'quote"d', '']) {
      const res = await send({ 'x-request-id': given });
      const id = res.headers.get('x-request-id');
      expect(id, given).toMatch(/^[0-9a-f-]{36}$/);
      expect(((await res.json()) as any).errors[0].extensions.requestId).toBe(id);
    }
  });

  it('generates one for a request without the header, also on success', async () => {
    const res = await fetch(api.app.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ viewer { role } }' }) });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const body = (await res.json()) as any;
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ viewer: { role: 'ANONYMOUS' } });
  });
});

describe('Client mistakes over WebSocket: the same codes for subscriptions', () => {
  let api: TestApi;
  let staff: string;
  let businessGid: string;
  beforeAll(async () => {
    api = await startTestApi();
    const built = await createBookableBusiness(api.db, { slotCount: 1 });
    businessGid = built.business.gid;
    staff = (await tokensFor(api, { businessGid })).staff;
  });
  afterAll(() => api?.close());

  const EVENTS = 'subscription($businessId: ID!) { bookingEvents(businessId: $businessId) { cursor } }';
  const cases: Array<{ name: string; query: string; variables: Record<string, unknown>; code: string; message: RegExp }> = [
    { name: 'a missing required variable', query: EVENTS, variables: {}, code: 'BAD_USER_INPUT', message: /^Variable "\$businessId" of required type "ID!" was not provided\.$/ },
    { name: 'a fraction for an ID', query: EVENTS, variables: { businessId: 1.5 }, code: 'BAD_USER_INPUT', message: /^Variable "\$businessId" got invalid value 1\.5/ },
    { name: 'a NUL character in a variable', query: EVENTS, variables: { businessId: 'QnVzaW5lc3M6MQ\u0000' }, code: 'BAD_USER_INPUT', message: /"\$businessId" got an invalid value.*NUL/ },
    { name: 'a lone surrogate in a variable', query: EVENTS, variables: { businessId: '\udc00' }, code: 'BAD_USER_INPUT', message: /unpaired UTF-16 surrogate/ },
    { name: 'a NUL character in a literal', query: 'subscription { bookingEvents(businessId: "x\\u0000") { cursor } }', variables: {}, code: 'BAD_USER_INPUT', message: /^Argument "businessId"/ },
    { name: 'a syntax error', query: 'subscription { bookingEvents(', variables: {}, code: 'GRAPHQL_PARSE_FAILED', message: /^Syntax Error/ },
    { name: 'an unknown field', query: 'subscription { bookingEvent(businessId: "x") { cursor } }', variables: {}, code: 'GRAPHQL_VALIDATION_FAILED', message: /Cannot query field "bookingEvent"/ },
  ];

  for (const c of cases) {
    it(`answers ${c.name} with ${c.code}`, async () => {
      const logged = loggedErrors.length;
      const client = wsClient(api.app.wsUrl, staff);
      try {
        const recorder = record(client, c.query, c.variables);
        const received = await recorder.waitForError();
        const errors = (Array.isArray(received) ? received : [received]) as Array<{ message: string; extensions?: Record<string, unknown> }>;
        expect(errors).toHaveLength(1);
        expect(errors[0].extensions?.code, errors[0].message).toBe(c.code);
        expect(errors[0].message).toMatch(c.message);
        expect(errors[0].extensions?.requestId).toEqual(expect.any(String));
        expect(loggedErrors.slice(logged)).toEqual([]);
      } finally {
        await client.dispose();
      }
    });
  }
});
