import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.js';
import { loggedErrors, startTestApi, TEST_JWT_SECRET, type GraphQLResponse, type TestApi } from '../support/api.js';
import { createBookableBusiness } from '../support/builders.js';

/**
 * Top-level errors: a closed set of codes for what the client got wrong, and a bare
 * INTERNAL_SERVER_ERROR for everything else, whose details go to the log and never to the client.
 */
async function post(url: string, body: string, contentType = 'application/json'): Promise<GraphQLResponse> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { ...((await res.json()) as GraphQLResponse), status: res.status };
}

describe('Read API: an unexpected error is masked and logged', () => {
  let broken: App;
  let database: DatabaseHandle;

  beforeAll(async () => {
    // An app whose database handle is closed: every statement fails with a driver error, not a
    // GraphQLError. Kysely starts its driver on the first statement, and closing a driver that never
    // started does nothing (the next statement would start it afresh), so one statement runs first.
    database = await connectDatabase({ databaseUrl: process.env.DATABASE_URL, poolMax: 1 });
    await sql`SELECT 1`.execute(database.db);
    await database.close();
    broken = await startApp(
      { host: '127.0.0.1', port: 0, auth: { jwtSecret: TEST_JWT_SECRET, jwksUrl: undefined, issuer: undefined, audience: undefined }, slowQueryMs: 60_000 },
      database,
      // The same sink test/support/api.ts gives its apps.
      { log: { info() {}, error: (message, context) => void loggedErrors.push({ message, context }) } },
    );
  });
  afterAll(() => broken?.stop());

  it('answers "Internal server error." with code INTERNAL_SERVER_ERROR and nothing else', async () => {
    const res = await post(broken.url, JSON.stringify({ query: `{ business(slug: "north-end-barbers") { id name } }` }));
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ business: null });
    expect(res.errors).toHaveLength(1);
    const [error] = res.errors!;
    expect(error.message).toBe('Internal server error.');
    expect(error.path).toEqual(['business']);
    // No stack, no driver message, no exception details: only the id that finds it in the log.
    expect(error.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(JSON.stringify(res)).not.toMatch(/destroyed|driver|closed|pool|PGlite|stack|at \w+ \(/i);
  });

  it('logs the error with its path, message and stack', async () => {
    const before = loggedErrors.length;
    const res = await post(broken.url, JSON.stringify({ query: `{ business(slug: "north-end-barbers") { id } }` }));
    const logged = loggedErrors.slice(before);
    expect(logged).toHaveLength(1);
    expect(logged[0].message).toBe('Unexpected error while executing an operation');
    expect(logged[0].context).toMatchObject({ requestId: res.errors![0].extensions!.requestId, path: ['business'], message: expect.any(String), stack: expect.any(String) });
    expect(String(logged[0].context?.message)).not.toBe('');
    expect(String(logged[0].context?.message)).not.toBe('Internal server error.');
  });
});

describe('Read API: malformed requests get a code that says what was wrong', () => {
  let api: TestApi;
  let slug: string;
  let partnerGid: string;

  beforeAll(async () => {
    api = await startTestApi();
    const built = await createBookableBusiness(api.db);
    slug = built.business.slug;
    partnerGid = built.partners[0].gid;
  });
  afterAll(() => api.close());

  function expectOnlyError(res: GraphQLResponse, status: number, code: string, message?: RegExp) {
    expect(res.status, JSON.stringify(res)).toBe(status);
    expect(res.data).toBeUndefined();
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0].extensions?.code).toBe(code);
    expect(res.errors![0].extensions).not.toHaveProperty('stacktrace');
    expect(res.errors![0].extensions?.requestId).toEqual(expect.any(String));
    if (message) expect(res.errors![0].message).toMatch(message);
  }

  // Under `application/json` a well-formed request's GraphQL errors are answered with 200 (the
  // GraphQL-over-HTTP spec); test/server/client-errors.test.ts has the 4xx of graphql-response+json.
  it('refuses a DateTime literal without an offset as a validation error', async () => {
    const before = loggedErrors.length;
    const res = await api.gql(`query($id: ID!) { node(id: $id) { ... on Partner { slots(from: "2026-01-01T00:00:00", to: "2026-01-02T00:00:00Z") { id } } } }`, { id: partnerGid });
    expectOnlyError(res, 200, 'GRAPHQL_VALIDATION_FAILED', /RFC 3339 with an offset.*"2026-01-01T00:00:00"/);
    // A client's mistake is not an incident.
    expect(loggedErrors.length).toBe(before);
  });

  it('refuses a DateTime variable without an offset, or of an impossible date, as bad input', async () => {
    const query = `query($id: ID!, $from: DateTime!) { node(id: $id) { ... on Partner { slots(from: $from, to: "2026-01-02T00:00:00Z") { id } } } }`;
    for (const from of ['2026-01-01T00:00:00', '2026-01-01', '2026-13-01T00:00:00Z', 'tomorrow']) {
      const res = await api.gql(query, { id: partnerGid, from });
      expect(res.status, from).toBe(200);
      expect(res.data, from).toBeUndefined();
      expect(res.errors?.map((e) => e.extensions?.code), from).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('answers a syntax error with GRAPHQL_PARSE_FAILED', async () => {
    expectOnlyError(await api.gql(`{ business(slug: "${slug}") { id `), 200, 'GRAPHQL_PARSE_FAILED', /^Syntax Error/);
  });

  it('answers an unknown field with GRAPHQL_VALIDATION_FAILED and a suggestion', async () => {
    expectOnlyError(await api.gql(`{ business(slug: "${slug}") { nmae } }`), 200, 'GRAPHQL_VALIDATION_FAILED', /Cannot query field "nmae" on type "Business". Did you mean "name"\?/);
  });

  it('answers an unknown argument and a missing required one with GRAPHQL_VALIDATION_FAILED', async () => {
    expectOnlyError(await api.gql(`{ business(slug: "${slug}", id: "1") { id } }`), 200, 'GRAPHQL_VALIDATION_FAILED', /Unknown argument "id"/);
    expectOnlyError(await api.gql(`{ business { id } }`), 200, 'GRAPHQL_VALIDATION_FAILED', /argument "slug" of type "String!" is required/);
  });

  it('answers a body that is not JSON with 400 BAD_REQUEST', async () => {
    expectOnlyError(await post(api.app.url, '{"query": "{ viewer { role } }"'), 400, 'BAD_REQUEST', /JSON/);
  });

  it('answers a request without a query with 400 BAD_REQUEST', async () => {
    expectOnlyError(await post(api.app.url, JSON.stringify({ variables: {} })), 400, 'BAD_REQUEST');
  });
});
