import { sql } from 'kysely';
import { getNamedType, isNonNullType, isObjectType, type GraphQLField, type GraphQLInterfaceType, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS_CONFIG, DEFAULT_RATE_LIMIT_CONFIG } from '../../src/config.js';
import { resolverMaps } from '../../src/resolvers.js';
import { buildExecutableSchema } from '../../src/server/schema.js';
import { toGlobalId, type NodeType } from '../../src/shared/global-id.js';
import { insertMembership } from '../../src/accounts/accounts.repository.js';
import { signDevelopmentToken } from '../../src/auth/tokens.js';
import { loggedErrors, startTestApi, TEST_JWT_SECRET, type GraphQLResponse, type TestApi } from '../support/api.js';
import { record, untilSubscribed, wsClient } from '../support/subscriptions.js';
import { argumentsWith, argumentText, idSlotsOf, nodeTypeOfIdName, selectionOf, setAt, type IdSlot, type ValueContext } from './operation-generator.js';
import { dayAt, NODE_TABLES, seedTenant, tenantChecksums, tenantIds, type Tenant, type TenantId } from './tenant-world.js';

/**
 * Tenant isolation, generated from the schema rather than listed by hand: every type implementing
 * Node, every read that takes an ID (node, nodes, any Query or nested field with an ID argument) and
 * every mutation that takes one (an argument, or any ID field of its input), for every role of
 * tenant A, with every ID of tenant B. The oracle is the same for all of them: a foreign ID must
 * answer exactly like a well-formed ID of the same type that does not exist, no answer may carry
 * tenant B's data, and nothing of tenant B may change. A new type or mutation is covered the day it
 * is added; a Node type the seed has no row of fails the completeness guard.
 */

/**
 * Tenant A's callers (an admin sees every tenant: it proves tenant B's IDs real instead). `owner` is
 * an account token: owner of business A and, through a second membership, partner in a third
 * business C, so that every rule's OR over memberships is tried against tenant B.
 */
const ROLES = ['anonymous', 'customer', 'partner', 'staff', 'owner'] as const;
type Role = (typeof ROLES)[number];
/**
 * Catalog data is public (src/auth/access.ts): reading another tenant's is allowed, so reads of these are checked for leaks only.
 * Visible reviews are part of it (the seed's are visible; test/reviews/ covers hidden ones).
 */
const PUBLIC_CATALOG = new Set(['Business', 'Service', 'Partner', 'Slot', 'Review']);
/**
 * An account books at any business, registering as its customer there (self-registration): for an
 * account token, booking or holding another tenant's public slots and services is the feature, not
 * a leak, and changes that tenant by design. Those cases are left out here and tried by
 * test/accounts/self-registration.test.ts (the account gets a record there and sees only its own).
 */
const SELF_SERVICE = new Set(['bookingCreate', 'slotHold']);
const selfService = (role: Role, mutation: string, type: string) => role === 'owner' && SELF_SERVICE.has(mutation) && PUBLIC_CATALOG.has(type);
const MISSING_RAW_ID = '999999999';
/**
 * ID arguments that name no Node, with where they are tried instead. A guest's verification is a
 * random bearer handle (128 bits) that the guest holds with the code, not a tenant's object.
 */
const NOT_NODE_IDS = new Map([['Mutation.guestBookingConfirm(input.verificationId)', 'test/messages/guest-booking.test.ts']]);
/** The seed and each pass send hundreds of requests: generous limits for a loaded machine (timings are not asserted). */
const SLOW_MS = 180_000;
/** How many of tenant B's IDs of a type a mutation is tried with: one per status, then the first ones. */
const MUTATION_SAMPLES = 4;
/** Answers that mean the generator, not the API, is at fault: a case must reach the API's own checks. */
const DISHONEST_CODES = new Set(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_REQUEST', 'INTERNAL_SERVER_ERROR']);

interface Case {
  kind: 'node' | 'nodes' | 'query field' | 'nested field' | 'mutation' | 'subscription';
  role: Role;
  what: string;
  type: string;
  foreign: string;
  missing: string;
}

type Answer = { data: unknown; errors: unknown[] };
type ReadCase = Case & { field: (id: string) => string; exact: boolean; nonNullRoot?: boolean };

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

describe('Tenant isolation: the matrix generated from the schema', () => {
  let api: TestApi;
  let a: Tenant;
  let b: Tenant;
  let schema: GraphQLSchema;
  let nodeTypes: string[];
  let aIds: Map<string, TenantId[]>;
  let bIds: Map<string, TenantId[]>;
  let ctx: ValueContext;
  let before: Record<string, string>;
  /** Strings of tenant B that no answer to tenant A may contain, whatever was read. */
  let privateMarkers: string[];
  /** All of tenant B's strings, its public catalog included: for answers that must read like a missing ID. */
  let allMarkers: string[];
  let problems: string[] = [];
  const tally = new Map<string, number>();

  let tokens: Record<Role, string | undefined>;
  /** Tokens that must be refused whatever they ask, each with why. */
  let refusedTokens: Array<[string, string]>;
  const tokenOf = (role: Role) => tokens[role];

  beforeAll(async () => {
    // A database of this file alone: no other file's relay or webhook dispatcher touches tenant B's rows.
    // Reads are batched under aliases, and a few tokens send about 1,100 cases: limits and budgets
    // this file never reaches, so that every answer is the access rules', not a limiter's.
    api = await startTestApi({
      isolated: true,
      config: {
        limits: { ...DEFAULT_LIMITS_CONFIG, maxAliases: 10_000, maxFields: 100_000, maxTokens: 1_000_000, maxCost: 10_000_000 },
        rateLimits: { ...DEFAULT_RATE_LIMIT_CONFIG, operations: { points: 10_000_000, durationSeconds: 60 }, bookings: { points: 1_000_000, durationSeconds: 60 } },
      },
    });
    a = await seedTenant(api, 'A');
    b = await seedTenant(api, 'B');
    const c = await seedTenant(api, 'C');
    await insertMembership(api.db, { accountId: a.ownerAccountId, businessId: c.business.id, role: 'partner', partnerId: c.partner.id });
    tokens = {
      anonymous: undefined,
      customer: a.tokens.customer,
      partner: a.tokens.partner,
      staff: a.tokens.staff,
      owner: a.tokens.owner,
    };
    const header = (alg: string) => Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url');
    const claims = (c: object) => Buffer.from(JSON.stringify({ iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600, ...c })).toString('base64url');
    refusedTokens = [
      ["a customer of business A whose customer_id claim names tenant B's customer", await api.token({ sub: 'customer-1', role: 'customer', business_id: a.business.gid, customer_id: b.customer.gid })],
      ["a partner of business A whose partner_id claim names tenant B's partner", await api.token({ sub: 'partner-1', role: 'partner', business_id: a.business.gid, partner_id: b.partner.gid })],
      ["tenant B's staff, signed with another secret", await signDevelopmentToken('not-the-secret-of-this-api-at-all', { sub: 'staff-1', role: 'staff', business_id: b.business.gid })],
      ["tenant B's staff, unsigned (alg none)", `${header('none')}.${claims({ sub: 'staff-1', role: 'staff', business_id: b.business.gid })}.`],
      ["tenant A's staff token with its business_id claim rewritten to tenant B's", (() => {
        const [h, , sig] = a.tokens.staff.split('.');
        return `${h}.${claims({ sub: 'staff-1', role: 'staff', business_id: b.business.gid })}.${sig}`;
      })()],
      ["tenant B's staff, expired", await signDevelopmentToken(TEST_JWT_SECRET, { sub: 'staff-1', role: 'staff', business_id: b.business.gid }, '-1h')],
    ];
    schema = buildExecutableSchema(resolverMaps);
    nodeTypes = schema.getImplementations(schema.getType('Node') as GraphQLInterfaceType).objects.map((t) => t.name);
    aIds = await tenantIds(api, a.business.id, nodeTypes);
    bIds = await tenantIds(api, b.business.id, nodeTypes);
    ctx = {
      nodeTypes,
      idOf: (type, where) => {
        const id = a.sample[type as NodeType] ?? aIds.get(type)?.[0]?.gid;
        if (!id) throw new Error(`Expected tenant A to have a ${type} for ${where}, got none; grow the seed.`);
        return id;
      },
      instant: a.slots[10].startsAt,
      laterInstant: dayAt(4, 0).toISOString(),
      date: dayAt(1, 0).toISOString().slice(0, 10),
      laterDate: dayAt(4, 0).toISOString().slice(0, 10),
    };
    // The relay must be done with tenant B's events before the snapshot, or its bookkeeping would read as a change.
    for (let tries = 0; ; tries++) {
      const open = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM booking_events WHERE business_id = ${b.business.id}::bigint AND (position IS NULL OR published_at IS NULL)`.execute(api.db);
      if (open.rows[0].n === 0) break;
      if (tries > 500) throw new Error(`Expected the relay to publish tenant B's events within 500 runs, got ${open.rows[0].n} still unpublished.`);
      await api.app.relay.kick();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    before = await tenantChecksums(api, b.business.id);
    const privateGids = [...bIds].filter(([type]) => !PUBLIC_CATALOG.has(type)).flatMap(([, ids]) => ids.map((i) => i.gid));
    const publicGids = [...bIds].filter(([type]) => PUBLIC_CATALOG.has(type)).flatMap(([, ids]) => ids.map((i) => i.gid));
    privateMarkers = [...b.privateMarkers, ...privateGids];
    allMarkers = [...privateMarkers, ...b.publicMarkers, ...publicGids];
  }, SLOW_MS);
  afterAll(() => api?.close());

  const missingOf = (type: string) => toGlobalId(type as NodeType, MISSING_RAW_ID);

  /** The IDs a mutation is tried with: one of each status (every state a rule may branch on), then the first ones. */
  function mutationSamples(type: string): string[] {
    const ids = bIds.get(type) ?? [];
    const byStatus = new Map<string | null, string>();
    for (const id of ids) if (!byStatus.has(id.status)) byStatus.set(id.status, id.gid);
    const picked = [...byStatus.values()];
    for (const id of ids) if (picked.length < MUTATION_SAMPLES && !picked.includes(id.gid)) picked.push(id.gid);
    return picked;
  }

  function normalised(answer: Answer, id: string): string {
    // A request id names the request, not what it found: every answer has its own.
    return JSON.stringify(answer, (key, value) => (key === 'requestId' ? undefined : value)).split(id).join('<ID>');
  }

  function count(key: string) {
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }

  /** Records what is wrong with one case's pair of answers; `exact` when the foreign ID must read like the missing one. */
  function judge(c: Case, foreign: Answer, missing: Answer, exact: boolean, sent = '') {
    const label = `${c.kind} ${c.what} as ${c.role} with ${c.type} ${c.foreign}`;
    count(`${c.kind}`);
    for (const answer of [foreign, missing]) {
      for (const error of answer.errors as Array<{ message: string; path?: unknown; extensions?: { code?: string } }>) {
        const code = error.extensions?.code ?? '(none)';
        if (answer === foreign) count(`  top-level ${code}`);
        if (DISHONEST_CODES.has(code) || !error.path) problems.push(`${label}: the generator must reach the API's checks, got ${code}: ${error.message}`);
      }
    }
    const text = normalised(foreign, c.foreign);
    for (const marker of exact ? allMarkers : privateMarkers) {
      // What the caller sent may be echoed back ("got X."): that tells them nothing new.
      if (marker !== c.foreign && !sent.includes(marker) && text.includes(marker)) problems.push(`${label}: the answer carries tenant B's "${marker}": ${text.slice(0, 400)}`);
    }
    if (exact) {
      const other = normalised(missing, c.missing);
      if (text !== other) problems.push(`${label}: expected it to answer like a missing ${c.type}, got\n    foreign: ${text.slice(0, 600)}\n    missing: ${other.slice(0, 600)}`);
    }
    for (const code of JSON.stringify(foreign.data).match(/"code":"[A-Z_]+"/g) ?? []) count(`  user error ${code.slice(8, -1)}`);
  }

  async function send(query: string, role: Role): Promise<GraphQLResponse> {
    return api.gql(query, {}, { token: tokenOf(role) });
  }

  /** One alias's share of a batched answer: its data and the errors whose path starts at it. */
  function aliasAnswer(res: GraphQLResponse, alias: string): Answer {
    const errors = (res.errors ?? []).filter((e) => e.path?.[0] === alias || !e.path).map(({ locations: _locations, ...e }: any) => e);
    return { data: res.data?.[alias] ?? null, errors };
  }

  /** Runs read cases batched under aliases (an alias's answer depends on its own field only), foreign and missing side by side. */
  async function runReads(role: Role, cases: ReadCase[]) {
    if (!cases.length) return;
    const doc = (pick: 'foreign' | 'missing') => `query { ${cases.map((c, i) => `c${i}: ${c.field(c[pick])}`).join('\n')} }`;
    const [foreign, missing] = await Promise.all([send(doc('foreign'), role), send(doc('missing'), role)]);
    for (const [problem, res] of [['foreign', foreign], ['missing', missing]] as const) {
      // A lone non-null root field nulls `data` when refused; a batch of nullable fields never does.
      if (res.status !== 200 || (!res.data && !(cases.length === 1 && cases[0].nonNullRoot))) problems.push(`read batch as ${role} (${problem}): expected HTTP 200 with data, got ${res.status} ${JSON.stringify(res.errors).slice(0, 600)}`);
    }
    cases.forEach((c, i) => judge(c, aliasAnswer(foreign, `c${i}`), aliasAnswer(missing, `c${i}`), c.exact));
  }

  /**
   * Batches what can share a document: an error in a non-null root field nulls the whole answer, so
   * each such case gets a document of its own.
   */
  async function runReadCases(role: Role, cases: ReadCase[]) {
    await runReads(role, cases.filter((c) => !c.nonNullRoot));
    for (const group of chunks(cases.filter((c) => c.nonNullRoot), 4)) await Promise.all(group.map((c) => runReads(role, [c])));
  }

  it('has a foreign ID of every Node type in the seed', () => {
    const missing = nodeTypes.filter((type) => !NODE_TABLES[type as NodeType] || !bIds.get(type)?.length || !aIds.get(type)?.length);
    expect(missing, `Node types without a row of both tenants: add them to NODE_TABLES (tenant-world.ts) and to seedTenant`).toEqual([]);
  }, SLOW_MS);

  it("lets an admin read every one of tenant B's IDs but the soft-deleted ones, so that the foreign IDs are real", async () => {
    const all = [...bIds].flatMap(([type, ids]) => ids.map((id) => ({ type, ...id })));
    const res = await api.gql(`query { ${all.map((id, i) => `c${i}: node(id: "${id.gid}") { __typename id }`).join(' ')} }`, {}, { token: a.tokens.admin });
    expect(res.errors).toBeUndefined();
    expect(all.map((id, i) => res.data[`c${i}`])).toEqual(all.map((id) => (id.deleted ? null : { __typename: id.type, id: id.gid })));
    expect(all.filter((id) => id.deleted).map((id) => id.type)).toEqual(['WebhookEndpoint']);
  }, SLOW_MS);

  it("reads every foreign ID like a missing one through node, nodes and every field taking an ID, for every role", async () => {
    problems = [];
    const logged = loggedErrors.length;
    const query = schema.getQueryType()!;
    const unreachable: string[] = [];
    for (const role of ROLES) {
      const cases: ReadCase[] = [];
      const privateIds: Array<{ type: string; gid: string }> = [];
      for (const [type, ids] of bIds) {
        const nodeType = schema.getType(type)!;
        for (const { gid } of ids) {
          const base = { role, type, foreign: gid, missing: missingOf(type) };
          if (PUBLIC_CATALOG.has(type) && isObjectType(nodeType)) {
            // Public: the node itself is visible; each field is read on its own, so that one refused
            // field does not hide what the others would carry.
            for (const f of Object.values(nodeType.getFields())) {
              const args = argumentText(f, argumentsWith(f, null, null, ctx));
              const inner = getNamedType(f.type);
              const sel = selectionOf(schema, inner, 2, ctx, [type]);
              cases.push({ ...base, kind: 'node', what: `node(id) { ... on ${type} { ${f.name} } }`, exact: false, field: (id) => `node(id: "${id}") { id ... on ${type} { ${f.name}${args} ${sel} } }` });
            }
          } else {
            privateIds.push({ type, gid });
            const sel = selectionOf(schema, nodeType, 2, ctx);
            cases.push({ ...base, kind: 'node', what: `node(id) { ... on ${type} }`, exact: true, field: (id) => `node(id: "${id}") { id ... on ${type} ${sel} }` });
          }
        }
      }
      // nodes(ids) with every private ID at once, against as many missing ones.
      const foreignList = privateIds.map((i) => i.gid);
      const missingList = privateIds.map((i, n) => toGlobalId(i.type as NodeType, String(Number(MISSING_RAW_ID) + n)));
      cases.push({
        kind: 'nodes', role, what: 'nodes(ids)', type: 'every private type', foreign: '<list>', missing: '<list>', exact: true,
        field: (pick) => `nodes(ids: ${JSON.stringify(pick === '<list>' ? foreignList : missingList)}) { __typename id }`,
      });
      // Query fields with an ID argument (node and nodes done above).
      for (const field of Object.values(query.getFields())) {
        if (field.name === 'node' || field.name === 'nodes') continue;
        for (const slot of idSlotsOf(field.args)) {
          const type = nodeTypeOfIdName(slot.name, nodeTypes);
          if (!type) {
            unreachable.push(`Query.${field.name}(${slot.path.join('.')}): no Node type named by "${slot.name}"`);
            continue;
          }
          const sel = selectionOf(schema, getNamedType(field.type), 2, ctx);
          for (const gid of mutationSamples(type)) {
            cases.push({
              kind: 'query field', role, what: `${field.name}(${slot.path.join('.')})`, type, foreign: gid, missing: missingOf(type), exact: !PUBLIC_CATALOG.has(type), nonNullRoot: isNonNullType(field.type),
              field: (id) => `${field.name}${argumentText(field, argumentsWith(field, slot, id, ctx))} ${sel}`,
            });
          }
        }
      }
      // Nested fields with an ID argument, reached through node(id) of tenant A's object.
      for (const named of Object.values(schema.getTypeMap())) {
        if (!isObjectType(named) || named.name.startsWith('__') || [query.name, schema.getMutationType()?.name, schema.getSubscriptionType()?.name].includes(named.name)) continue;
        for (const field of Object.values(named.getFields())) {
          for (const slot of idSlotsOf(field.args)) {
            const type = nodeTypeOfIdName(slot.name, nodeTypes);
            if (!type || !nodeTypes.includes(named.name)) {
              unreachable.push(`${named.name}.${field.name}(${slot.path.join('.')}): ${type ? `${named.name} is not a Node to reach it through` : `no Node type named by "${slot.name}"`}`);
              continue;
            }
            const parent = ctx.idOf(named.name, `${named.name}.${field.name}`);
            const sel = selectionOf(schema, getNamedType(field.type), 2, ctx);
            for (const gid of mutationSamples(type)) {
              cases.push({
                kind: 'nested field', role, what: `${named.name}.${field.name}(${slot.path.join('.')})`, type, foreign: gid, missing: missingOf(type), exact: !PUBLIC_CATALOG.has(type),
                field: (id) => `node(id: "${parent}") { ... on ${named.name} { ${field.name}${argumentText(field, argumentsWith(field, slot, id, ctx))} ${sel} } }`,
              });
            }
          }
        }
      }
      await runReadCases(role, cases);
    }
    expect(unreachable).toEqual([]);
    report('reads');
    expect(problems).toEqual([]);
    expect(loggedErrors.slice(logged)).toEqual([]);
    expect(await tenantChecksums(api, b.business.id)).toEqual(before);
  }, SLOW_MS);

  it("answers every mutation given a foreign ID like one given a missing ID, for every role, and changes nothing of tenant B", async () => {
    problems = [];
    const logged = loggedErrors.length;
    const mutation = schema.getMutationType()!;
    const unreachable: string[] = [];
    const cases: Array<Case & { field: GraphQLField<unknown, unknown>; slot: IdSlot; sel: string }> = [];
    for (const field of Object.values(mutation.getFields())) {
      const sel = selectionOf(schema, getNamedType(field.type), 2, ctx);
      for (const slot of idSlotsOf(field.args)) {
        const type = nodeTypeOfIdName(slot.name, nodeTypes);
        if (!type) {
          if (NOT_NODE_IDS.has(`Mutation.${field.name}(${slot.path.join('.')})`)) continue;
          unreachable.push(`Mutation.${field.name}(${slot.path.join('.')}): no Node type named by "${slot.name}"`);
          continue;
        }
        for (const gid of mutationSamples(type)) {
          for (const role of ROLES) {
            if (!selfService(role, field.name, type)) cases.push({ kind: 'mutation', role, what: `${field.name}(${slot.path.join('.')})`, type, foreign: gid, missing: missingOf(type), field, slot, sel });
          }
        }
      }
    }
    for (const c of cases) {
      // Required fields alone may not get past the input checks (bookingCreate with a serviceId
      // wants a startsAt): each field an INVALID_INPUT names is filled in and the pair sent again.
      const companions: string[][] = [];
      for (let round = 0; ; round++) {
        const doc = (id: string) => `mutation { ${c.field.name}${argumentText(c.field, argumentsWith(c.field, c.slot, id, ctx, companions))} ${c.sel} }`;
        const foreign = answerOf(await send(doc(c.foreign), c.role));
        const missing = answerOf(await send(doc(c.missing), c.role));
        const wanted = invalidInputFields(missing).filter((path) => path.join('.') !== c.slot.path.join('.') && !companions.some((p) => p.join('.') === path.join('.')));
        if (round < 3 && wanted.length && wanted.every((path) => setAt(c.field, {}, path, () => null, ctx))) {
          companions.push(...wanted);
          continue;
        }
        judge({ ...c, what: companions.length ? `${c.what} with ${companions.map((p) => p.join('.')).join(', ')}` : c.what }, foreign, missing, true);
        break;
      }
    }
    expect(unreachable).toEqual([]);
    report('mutations');
    expect(problems).toEqual([]);
    expect(loggedErrors.slice(logged)).toEqual([]);
    expect(await tenantChecksums(api, b.business.id)).toEqual(before);
  }, SLOW_MS);

  it('refuses forged, expired and crossed tokens with UNAUTHENTICATED before reading or changing anything', async () => {
    const bookingId = bIds.get('Booking')![0].gid;
    const operations = [
      `query { node(id: "${bookingId}") { id } }`,
      `query { business(slug: "${b.business.slug}") { customers { nodes { email } } } }`,
      `mutation { bookingCancel(input: { bookingId: "${bookingId}" }) { booking { id } userErrors { code } } }`,
    ];
    const answers: string[] = [];
    for (const [who, token] of refusedTokens) {
      for (const operation of operations) {
        const res = await api.gql(operation, {}, { token });
        answers.push(`${who}: ${res.status} ${res.data === undefined ? 'no data' : 'data'} ${res.errors?.map((e) => e.extensions?.code).join(',')}`);
      }
    }
    expect(answers).toEqual(refusedTokens.flatMap(([who]) => operations.map(() => `${who}: 401 no data UNAUTHENTICATED`)));
    expect(await tenantChecksums(api, b.business.id)).toEqual(before);
  }, SLOW_MS);

  it("answers a mutation sent with one of tenant B's idempotency keys like one sent with a fresh key, for every role", async () => {
    problems = [];
    const logged = loggedErrors.length;
    expect(b.keyed.length).toBeGreaterThan(0);
    let fresh = 0;
    for (const keyed of b.keyed) {
      const operation = /\{\s*(\w+)\(/.exec(keyed.query)?.[1] ?? keyed.query;
      for (const role of ROLES) {
        // B's own bookings and holds name B's public slots: an account would register there (see SELF_SERVICE).
        if (selfService(role, operation, 'Slot')) continue;
        // B's own mutation, word for word, as A's caller with the same subject: B's key must mean nothing to A.
        const sendWith = async (key: string) => answerOf(await api.gql(keyed.query, { input: keyed.input }, { token: tokenOf(role), headers: { 'idempotency-key': key } }));
        const freshKey = `fresh-${++fresh}`;
        judge({ kind: 'mutation', role, what: `${operation} with tenant B's key (${keyed.role}'s)`, type: 'idempotency key', foreign: keyed.key, missing: freshKey }, await sendWith(keyed.key), await sendWith(freshKey), true, JSON.stringify(keyed.input));
      }
    }
    report('idempotency keys');
    expect(problems).toEqual([]);
    expect(loggedErrors.slice(logged)).toEqual([]);
    expect(await tenantChecksums(api, b.business.id)).toEqual(before);
  }, SLOW_MS);

  it("refuses or starts every subscription given a foreign ID exactly as it does one given a missing ID", async () => {
    problems = [];
    const subscription = schema.getSubscriptionType()!;
    const unreachable: string[] = [];
    /** What a subscription came to: refused (the errors, or the close of the connection), or live. */
    const outcome = async (role: Role, query: string): Promise<Answer> => {
      // The previous case's subscriber is gone first, so that a new one shows in the count.
      await untilSubscribed(api.app, 0);
      const client = wsClient(api.app.wsUrl, tokenOf(role));
      const recorder = record(client, query);
      try {
        const deadline = Date.now() + 5000;
        const live = () => api.app.events.subscriberCount > 0;
        while (!recorder.errors.length && !recorder.completed && !live() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        // In the shape of an HTTP answer's errors, for judge(): a GraphQL refusal, or the socket closed by the server.
        const refused = recorder.errors.flatMap((e: any) =>
          Array.isArray(e)
            ? e.map(({ message, extensions }: any) => ({ message, path: ['subscription'], extensions: { code: extensions?.code } }))
            : [{ message: `closed: ${e?.reason ?? ''}`, path: ['connection'], extensions: { code: `CLOSE_${e?.code}` } }],
        );
        return { data: refused.length ? null : recorder.completed ? 'completed' : live() ? 'live' : 'neither refused nor live within 5 s', errors: refused };
      } finally {
        recorder.unsubscribe();
        await client.dispose();
      }
    };
    for (const field of Object.values(subscription.getFields())) {
      const sel = selectionOf(schema, getNamedType(field.type), 2, ctx);
      for (const slot of idSlotsOf(field.args)) {
        const type = nodeTypeOfIdName(slot.name, nodeTypes);
        if (!type) {
          unreachable.push(`Subscription.${field.name}(${slot.path.join('.')}): no Node type named by "${slot.name}"`);
          continue;
        }
        for (const gid of mutationSamples(type)) {
          for (const role of ROLES) {
            const doc = (id: string) => `subscription { ${field.name}${argumentText(field, argumentsWith(field, slot, id, ctx))} ${sel} }`;
            const c: Case = { kind: 'subscription', role, what: `${field.name}(${slot.path.join('.')})`, type, foreign: gid, missing: missingOf(type) };
            judge(c, await outcome(role, doc(gid)), await outcome(role, doc(c.missing)), true);
          }
        }
      }
    }
    expect(unreachable).toEqual([]);
    report('subscriptions');
    expect(problems).toEqual([]);
    expect(await tenantChecksums(api, b.business.id)).toEqual(before);
  }, SLOW_MS);

  function answerOf(res: GraphQLResponse): Answer {
    return { data: res.data ?? null, errors: (res.errors ?? []).map(({ locations: _locations, ...e }: any) => e) };
  }

  /** The input fields a payload's INVALID_INPUT user errors name. */
  function invalidInputFields(answer: Answer): string[][] {
    const payload = Object.values((answer.data ?? {}) as Record<string, { userErrors?: Array<{ field: string[] | null; code: string }> } | null>)[0];
    return (payload?.userErrors ?? []).filter((e) => e.code === 'INVALID_INPUT' && e.field?.length).map((e) => e.field!);
  }

  function report(pass: string) {
    const lines = [...tally].map(([key, n]) => `  ${key}: ${n}`);
    console.log(`Tenant isolation matrix, ${pass}: ${problems.length} problem(s)\n${lines.join('\n')}`);
    tally.clear();
  }
});
