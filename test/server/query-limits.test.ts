import { getIntrospectionQuery } from 'graphql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMIT_CONFIG, DEFAULT_LIMITS_CONFIG } from '../../src/config.js';
import { sql } from 'kysely';
import { connectDatabase } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { generateRollingHorizon } from '../../src/schedules/slot-generation.job.js';
import { loggedErrors, startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { createBookableBusiness, createBusiness, createPartner } from '../support/builders.js';
import { onRealPostgres, openIsolatedTestDatabase } from '../support/database.js';
import { record, untilSubscribed, wsClient } from '../support/subscriptions.js';
import { deepQuery } from '../../bench/attack-queries.js';

const limits = DEFAULT_LIMITS_CONFIG;


const aliases = (count: number, field: string) => Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(' ');
const PAGE_100_BY_100 = `businesses(first: 100) { nodes { id name bookings(first: 100) { nodes { id startsAt status } } } }`;
const COST_BOMB = `{ businesses(first: 100) { nodes { partners(first: 100) { nodes { business { partners(first: 100) { nodes { name } } } } } } } }`;
/** The nested-page benchmark's query (bench/run.sh). */
const NESTED_PAGE = `{ businesses(first: 20) { nodes { name bookings(first: 10) { nodes { id startsAt status service { name } partner { name } customer { name } } } } } }`;

/** The attacks measured against the API before these limits, and the limit each one meets first. */
function attacks(slug: string) {
  return [
    { name: 'a query nested 32 levels deep', query: deepQuery(slug, 32), limit: 'depth', measured: 32 },
    { name: '500 aliases of a 100 x 100 bookings page', query: `{ ${aliases(500, PAGE_100_BY_100)} }`, limit: 'tokens', measured: limits.maxTokens + 1 },
    { name: '55,000 aliases of __typename', query: `{ ${aliases(55_000, '__typename')} }`, limit: 'tokens', measured: limits.maxTokens + 1 },
    { name: '10,000 fields with @skip', query: `{ ${aliases(10_000, '__typename @skip(if: false)')} }`, limit: 'tokens', measured: limits.maxTokens + 1 },
    { name: 'nested pages of 100 within the depth and alias limits', query: COST_BOMB, limit: 'cost', measured: 1 + 100 + 100 + 10_000 + 10_000 + 10_000 + 1_000_000 },
    { name: '40 aliases of a small field', query: `{ ${aliases(40, `business(slug: "${slug}") { name }`)} }`, limit: 'aliases', measured: 40 },
    { name: '60 directives on small fields', query: `{ ${Array.from({ length: 60 }, () => '__typename @include(if: true)').join(' ')} }`, limit: 'directives', measured: 60 },
    { name: '1,200 field selections', query: `{ business(slug: "${slug}") { ${Array.from({ length: 1199 }, () => 'name').join(' ')} } }`, limit: 'fields', measured: 1200 },
  ] as const;
}

describe('Query limits: operations that ask for too much are refused before they run', () => {
  let api: TestApi;
  let scene: Awaited<ReturnType<typeof createBookableBusiness>>;
  let tokens: Awaited<ReturnType<typeof tokensFor>>;

  beforeAll(async () => {
    // Every request of this file comes from one address and a few tokens: a budget they never spend,
    // so that the limits under test, not the rate limiter, answer.
    api = await startTestApi({ config: { rateLimits: { ...DEFAULT_RATE_LIMIT_CONFIG, operations: { points: 1_000_000, durationSeconds: 60 } } } });
    scene = await createBookableBusiness(api.db, { partners: 2 });
    tokens = await tokensFor(api, { businessGid: scene.business.gid });
  });
  afterAll(() => api?.close());

  describe('over HTTP', () => {
    it.each([0, 1, 2, 3, 4, 5, 6, 7])('refuses attack %i with QUERY_TOO_COMPLEX, its limit and measure, and sends no SQL', async (index) => {
      const attack = attacks(scene.business.slug)[index];
      const { result: res, statements } = await api.countStatements(() => api.gql(attack.query, undefined, { token: tokens.admin }));
      expect(res.status, attack.name).toBe(400);
      expect(res.data).toBeUndefined();
      expect(res.errors).toHaveLength(1);
      const [error] = res.errors!;
      expect(error.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: attack.limit, measured: attack.measured });
      expect(error.extensions!.maximum).toBe({ depth: limits.maxDepth, aliases: limits.maxAliases, directives: limits.maxDirectives, fields: limits.maxFields, tokens: limits.maxTokens, cost: limits.maxCost }[attack.limit]);
      expect(error.extensions).not.toHaveProperty('http');
      expect(error.message).toContain(String(attack.measured));
      expect(error.message).toMatch(/\.$/);
      expect(statements).toBe(0);
    });

    it('refuses a document over a limit before validating it', async () => {
      // Unknown fields would fail validation: the limit answering first shows it ran before.
      const res = await api.gql(`{ ${aliases(40, 'noSuchField')} }`);
      expect(res.status).toBe(400);
      expect(res.errors![0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'aliases', measured: 40 });
    });

    it('refuses a GET over the token limit as QUERY_TOO_COMPLEX too (Apollo parses it, with the same limit)', async () => {
      // Two characters a token (`+` is a space in a query string): the URL stays within Node's header limit.
      const query = `{a(b:[${'1+'.repeat(limits.maxTokens)}])}`;
      const res = await fetch(`${api.app.url}?query=${query}`, { headers: { 'apollo-require-preflight': 'true' } });
      expect(res.status).toBe(400);
      const body = (await res.json()) as any;
      expect(body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', limit: 'tokens', maximum: limits.maxTokens, measured: limits.maxTokens + 1 }) })]);
    });

    it('prices `first` from the variables: the same document passes with small pages and is refused with large ones', async () => {
      const query = `query($n: Int!) { businesses(first: $n) { nodes { partners(first: $n) { nodes { business { partners(first: $n) { nodes { name } } } } } } } }`;
      const small = await api.gql(query, { n: 2 });
      expect(small.errors).toBeUndefined();
      const { result: large, statements } = await api.countStatements(() => api.gql(query, { n: 100 }));
      expect(large.status).toBe(400);
      expect(large.errors![0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'cost', measured: 1_030_201 });
      expect(statements).toBe(0);
    });

    it('counts a named fragment every time it is spread', async () => {
      const fragment = `fragment Page on Business { bookings(first: 50) { nodes { id customer { name } } } }`;
      const once = await postWithExtensions(api, `{ businesses(first: 20) { nodes { ...Page } } } ${fragment}`, tokens.admin);
      expect(once.extensions.cost.requested).toBe(1 + 20 + 20 + 1000 + 1000);
      const twice = await postWithExtensions(api, `{ businesses(first: 20) { nodes { ...Page } } more: businesses(first: 20) { nodes { ...Page } } } ${fragment}`, tokens.admin);
      expect(twice.status).toBe(200);
      expect(twice.extensions.cost.requested).toBe(2 * (1 + 20 + 20 + 1000 + 1000));
    });

    it('answers a fragment cycle with a validation error, not a crash', async () => {
      const res = await api.gql(`{ business(slug: "${scene.business.slug}") { ...A } } fragment A on Business { partners { nodes { business { ...B } } } } fragment B on Business { ...A }`);
      // A validation error of a well-formed request: 200 under application/json (GraphQL over HTTP).
      expect(res.status).toBe(200);
      expect(res.errors![0].extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
    });
  });

  describe('legitimate heavy operations', () => {
    it('runs the nested-page benchmark query and reports its cost in `extensions.cost`', async () => {
      const res = await postWithExtensions(api, NESTED_PAGE, tokens.admin);
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      // 1 connection + 20 businesses + 20 booking pages + 200 bookings + 3 x 200 (service, partner, customer).
      expect(res.extensions.cost).toEqual({ requested: 841, maximum: limits.maxCost });
    });

    it('runs the full introspection query the sandbox sends', async () => {
      const res = await postWithExtensions(api, getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }), undefined);
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.__schema.types.length).toBeGreaterThan(50);
      expect(res.extensions.cost.requested).toBeLessThan(limits.maxCost);
    });

    it('runs a page of 100 bookings with everything on it', async () => {
      const query = `query($slug: String!) { business(slug: $slug) { bookings(first: 100) { edges { cursor node { id startsAt status totalCents business { name } service { name } partner { name } customer { name } payments { status } slots { startsAt } } } pageInfo { hasNextPage } } } }`;
      const res = await postWithExtensions(api, query, tokens.staff, { slug: scene.business.slug });
      expect(res.body.errors).toBeUndefined();
      expect(res.extensions.cost.requested).toBe(1 + 1 + 100 + 100 + 4 * 100 + 5 * 100 + 32 * 100 + 1);
    });
  });

  describe('over WebSocket', () => {
    const subscriptionAttacks = (businessId: string) => [
      {
        name: 'a subscription nested 32 levels deep',
        query: `subscription { bookingEvents(businessId: "${businessId}") { booking { ${'business { partners(first: 1) { nodes { '.repeat(10)}name${' } } }'.repeat(10)} } } }`,
        limit: 'depth',
        measured: 33,
      },
      {
        name: 'a subscription whose events would each carry nested pages of 100',
        query: `subscription { bookingEvents(businessId: "${businessId}") { booking { business { bookings(first: 100) { nodes { partner { bookings(first: 100) { nodes { id } } } } } } } } }`,
        limit: 'cost',
        measured: 1 + 1 + 1 + 1 + 100 + 100 + 100 + 10_000,
      },
      { name: 'a subscription of 3,000 aliases', query: `subscription { ${aliases(3000, '__typename')} }`, limit: 'tokens', measured: limits.maxTokens + 1 },
      {
        name: 'a subscription with 60 directives',
        query: `subscription { bookingEvents(businessId: "${businessId}") { ${Array.from({ length: 60 }, () => 'cursor @include(if: true)').join(' ')} } }`,
        limit: 'directives',
        measured: 60,
      },
    ];

    it.each([0, 1, 2, 3])('refuses subscription attack %i with QUERY_TOO_COMPLEX before subscribing, and sends no SQL', async (index) => {
      const attack = subscriptionAttacks(scene.business.gid)[index];
      const client = wsClient(api.app.wsUrl, tokens.staff);
      try {
        const { result: errors, statements } = await api.countStatements(async () => record(client, attack.query).waitForError());
        expect(errors, attack.name).toEqual([
          expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', limit: attack.limit, maximum: expect.any(Number), measured: attack.measured }) }),
        ]);
        expect(statements).toBe(0);
        expect(api.app.events.subscriberCount).toBe(0);
      } finally {
        await client.dispose();
      }
    });

    it('still accepts the staff dashboard subscription', async () => {
      const client = wsClient(api.app.wsUrl, tokens.staff);
      try {
        const recorder = record(client, `subscription($b: ID!) { bookingEvents(businessId: $b) { cursor type status booking { id customer { name } service { name } partner { name } } } }`, { b: scene.business.gid });
        await untilSubscribed(api.app, 1);
        expect(recorder.errors).toEqual([]);
        recorder.unsubscribe();
        await untilSubscribed(api.app, 0);
      } finally {
        await client.dispose();
      }
    });
  });
});

describe('Response size cap: an answer over RESPONSE_MAX_BYTES is replaced by a coded error', () => {
  let api: TestApi;
  let slug: string;

  beforeAll(async () => {
    api = await startTestApi({ config: { limits: { ...DEFAULT_LIMITS_CONFIG, maxResponseBytes: 2048 } } });
    slug = (await createBookableBusiness(api.db, { partners: 3 })).business.slug;
  });
  afterAll(() => api?.close());

  it('answers RESPONSE_TOO_LARGE with the size it would have had, and a small answer as usual', async () => {
    const small = await api.gql(`query($slug: String!) { business(slug: $slug) { name } }`, { slug });
    expect(small.errors).toBeUndefined();
    // About 60 partner objects' worth of text: past 2 KiB, far within every other limit.
    const large = await api.gql(`query($slug: String!) { business(slug: $slug) { ${aliases(20, 'partners { nodes { id name city isActive } }')} } }`, { slug });
    expect(large.status).toBe(400);
    expect(large.data).toBeUndefined();
    expect(large.errors).toEqual([
      { message: expect.stringMatching(/^Expected an answer of at most 2048 bytes \(RESPONSE_MAX_BYTES\), got \d+ bytes; .*\.$/), extensions: { code: 'RESPONSE_TOO_LARGE', maximum: 2048, measured: expect.any(Number) } },
    ]);
    expect((large.errors![0].extensions as { measured: number }).measured).toBeGreaterThan(2048);
  });
});

// PGlite cannot cancel a running statement (no timer signal in WebAssembly): there the limits
// before execution are what bounds a request. On PostgreSQL the timeout is real and is tested here.
describe.runIf(onRealPostgres)('Statement timeout: a statement running past PG_STATEMENT_TIMEOUT_MS is cancelled', () => {
  let api: TestApi;
  let blocker: pg.Client;

  beforeAll(async () => {
    const database = await connectDatabase({ databaseUrl: process.env.DATABASE_URL, poolMax: 5, statementTimeoutMs: 500 });
    api = await startTestApi({ database });
    blocker = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await blocker.connect();
  });
  afterAll(async () => {
    await blocker?.end();
    await api?.close();
    await api?.database.close();
  });

  it('answers QUERY_TIMEOUT, changes nothing and logs it once, when a mutation waits too long for a lock', async () => {
    const scene = await createBookableBusiness(api.db);
    const { staff } = await tokensFor(api, { businessGid: scene.business.gid });
    const partner = scene.partners[0];
    // Another session holds the partner's row: the mutation's lock waits, a real slow statement.
    await blocker.query('BEGIN');
    await blocker.query('SELECT id FROM partners WHERE id = $1 FOR UPDATE', [partner.id]);
    const logged = loggedErrors.length;
    let res;
    try {
      res = await api.gql(
        `mutation($input: PartnerSetActiveInput!) { partnerSetActive(input: $input) { partner { isActive } userErrors { code } } }`,
        { input: { partnerId: partner.gid, isActive: false } },
        { token: staff },
      );
    } finally {
      await blocker.query('ROLLBACK');
    }
    expect(res.errors).toEqual([expect.objectContaining({ path: ['partnerSetActive'], extensions: expect.objectContaining({ code: 'QUERY_TIMEOUT', requestId: expect.any(String) }) })]);
    expect(res.errors![0].message).toMatch(/PG_STATEMENT_TIMEOUT_MS.*\.$/);
    const after = await api.gql(`query($id: ID!) { node(id: $id) { ... on Partner { isActive } } }`, { id: partner.gid });
    expect(after.data.node).toEqual({ isActive: true });
    expect(loggedErrors.slice(logged).map((e) => e.message)).toEqual(['A statement ran longer than PG_STATEMENT_TIMEOUT_MS and was cancelled']);
  });

  it('lets the slot generation job wait past the timeout, where a request statement is cancelled', async () => {
    // A database of its own: the job generates for every active partner it finds.
    const iso = await openIsolatedTestDatabase();
    const strict = await connectDatabase({ databaseUrl: iso.url, poolMax: 3, statementTimeoutMs: 150 });
    const holder = new pg.Client({ connectionString: iso.url });
    await holder.connect();
    try {
      await expect(sql`SELECT pg_sleep(1)`.execute(strict.db)).rejects.toMatchObject({ code: '57014' });
      const business = await createBusiness(iso.db);
      const partner = await createPartner(iso.db, business);
      for (let day = 1; day <= 7; day++) {
        await sql`INSERT INTO partner_weekly_hours (business_id, partner_id, day_of_week, start_time, end_time, effective_from)
          VALUES (${business.id}::bigint, ${partner.id}::bigint, ${day}, '09:00', '17:00', current_date - 1)`.execute(iso.db);
      }
      // The job's inserts check the partner row; holding it makes them wait, a real slow statement.
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM partners WHERE id = $1 FOR UPDATE', [partner.id]);
      const pass = generateRollingHorizon(strict.db, new Date(), { horizonDays: 7 });
      for (let i = 0; i < 500; i++) {
        const waiting = await holder.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
        if (waiting.rows[0].n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // Well past the 150 ms a request statement gets, then let the insert through.
      await new Promise((resolve) => setTimeout(resolve, 600));
      await holder.query('ROLLBACK');
      const summary = await pass;
      expect(summary.partners).toBe(1);
      expect(summary.slotsCreated).toBeGreaterThan(0);
    } finally {
      await holder.end();
      await strict.close();
      await iso.close();
    }
  });

  it('runs migrations without the timeout and gives their connection back with it', async () => {
    // One connection: the one the migrations ran on is the one asked afterwards.
    const single = await connectDatabase({ databaseUrl: process.env.DATABASE_URL, poolMax: 1, statementTimeoutMs: 500 });
    try {
      await migrateToLatest(single.db);
      const { rows } = await sql<{ statement_timeout: string }>`SHOW statement_timeout`.execute(single.db);
      expect(rows[0].statement_timeout).toBe('500ms');
    } finally {
      await single.close();
    }
  });
});

/** A POST that keeps the whole body, `extensions` included (the test client keeps data and errors). */
async function postWithExtensions(api: TestApi, query: string, token: string | undefined, variables?: Record<string, unknown>) {
  const res = await fetch(api.app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as any;
  return { status: res.status, body, extensions: body.extensions };
}
