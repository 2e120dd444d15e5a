import fc from 'fast-check';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolverMaps } from '../../src/resolvers.js';
import { buildExecutableSchema } from '../../src/server/schema.js';
import { ErrorCode } from '../../src/shared/errors.js';
import { NODE_TYPES, toGlobalId, type NodeType } from '../../src/shared/global-id.js';
import { RequestErrorCode } from '../../src/server/request-errors.js';
import { loggedErrors, startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { onRealPostgres } from '../support/database.js';
import { createBookableBusiness, createBooking } from '../support/builders.js';
import { databaseFingerprint, overlappingLiveBookings } from './row-counts.js';

/**
 * Walks the schema and sends every argument of every Query and Mutation field (input objects field
 * by field) hostile values: NUL characters, lone surrogates, huge strings, huge, negative and
 * fractional numbers, wrong types, nulls, deep and long lists, impossible dates, years 0 and 9999,
 * strange and foreign-looking IDs; as variables and as literals; as staff, customer and anonymous.
 * Whatever arrives, the API answers in time with a client error or a result, never
 * INTERNAL_SERVER_ERROR, logs nothing at error level, and a refused mutation changes no row.
 * The seed is fixed: a failure replays the same way.
 */
const SEED = 20261201;
/** Requests per argument (or input field): sized for about 20-40 s per backend on two cores. */
const RUNS_PER_TARGET = 4;
/** A liveness bound, generous for a loaded machine: a request that hangs fails the run. */
const REQUEST_TIMEOUT_MS = 30_000;
const PUBLIC_CODES = new Set<unknown>([...Object.values(ErrorCode), ...Object.values(RequestErrorCode)].filter((c) => c !== ErrorCode.InternalServerError));

/** One place a hostile value goes: an argument of a root field, or a field inside its input object. */
interface Target {
  root: 'Query' | 'Mutation';
  field: GraphQLField<unknown, unknown>;
  /** The argument, then input-object field names (a list of input objects is entered at its item). */
  path: string[];
  type: GraphQLInputType;
}

function targetsOf(schema: GraphQLSchema): Target[] {
  const targets: Target[] = [];
  for (const root of ['Query', 'Mutation'] as const) {
    const type = schema.getType(root);
    if (!isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      for (const arg of field.args) {
        targets.push({ root, field, path: [arg.name], type: arg.type });
        const named = getNamedType(arg.type);
        if (!isInputObjectType(named)) continue;
        for (const inner of Object.values(named.getFields())) {
          targets.push({ root, field, path: [arg.name, inner.name], type: inner.type });
          const innerNamed = getNamedType(inner.type);
          if (isInputObjectType(innerNamed)) {
            for (const leaf of Object.values(innerNamed.getFields())) targets.push({ root, field, path: [arg.name, inner.name, leaf.name], type: leaf.type });
          }
        }
      }
    }
  }
  return targets;
}

/** The IDs of the scene, by the node type an argument's name suggests. */
type SceneIds = Partial<Record<NodeType, string>>;

function idTypeOf(name: string): NodeType {
  const lower = name.toLowerCase();
  const byPrefix: Array<[string, NodeType]> = [
    ['business', 'Business'], ['service', 'Service'], ['partner', 'Partner'], ['customer', 'Customer'], ['slot', 'Slot'],
    ['booking', 'Booking'], ['payment', 'Payment'], ['hold', 'SlotHold'], ['endpoint', 'WebhookEndpoint'], ['delivery', 'WebhookDelivery'],
  ];
  return byPrefix.find(([prefix]) => lower.startsWith(prefix))?.[1] ?? 'Partner';
}

/** A plausible value of a type: what the arguments not under attack get. */
function baseline(type: GraphQLInputType, name: string, ids: SceneIds, tomorrow: Date): unknown {
  if (isNonNullType(type)) return baseline(type.ofType, name, ids, tomorrow);
  if (isListType(type)) return [baseline(type.ofType as GraphQLInputType, name.replace(/s$/, ''), ids, tomorrow)];
  if (isEnumType(type)) return type.getValues()[0].name;
  if (isInputObjectType(type)) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(type.getFields())) {
      if (isNonNullType(field.type)) value[field.name] = baseline(field.type, field.name, ids, tomorrow);
    }
    return value;
  }
  switch (type.name) {
    case 'ID': {
      const nodeType = idTypeOf(name);
      return ids[nodeType] ?? toGlobalId(nodeType, '1');
    }
    case 'Int':
      return name === 'first' ? 10 : 1;
    case 'Float':
      return 1.5;
    case 'Boolean':
      return true;
    case 'DateTime':
      return tomorrow.toISOString();
    case 'Date':
      return tomorrow.toISOString().slice(0, 10);
    case 'LocalTime':
      return name.toLowerCase().includes('end') ? '17:00' : '09:00';
    default:
      return name === 'url' ? 'https://example.com/hooks' : `fuzz ${name}`;
  }
}

function setAt(value: unknown, path: string[], hostile: unknown): unknown {
  if (!path.length) return hostile;
  if (Array.isArray(value)) return [setAt(value[0] ?? {}, path, hostile)];
  const object = typeof value === 'object' && value !== null ? { ...(value as Record<string, unknown>) } : {};
  object[path[0]] = setAt(object[path[0]], path.slice(1), hostile);
  return object;
}

const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** A value as a GraphQL literal; strings of enum-typed places print bare when they can. */
function literal(value: unknown, type: GraphQLInputType | undefined): string {
  const inner = type && isNonNullType(type) ? type.ofType : type;
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map((v) => literal(v, inner && isListType(inner) ? (inner.ofType as GraphQLInputType) : undefined)).join(', ')}]`;
  if (typeof value === 'object') {
    const fields = inner && isInputObjectType(inner) ? inner.getFields() : {};
    return `{${Object.entries(value as Record<string, unknown>).filter(([k]) => NAME.test(k)).map(([k, v]) => `${k}: ${literal(v, fields[k]?.type)}`).join(', ')}}`;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'string' && inner && isEnumType(inner) && NAME.test(value)) return value;
  return JSON.stringify(value);
}

function selectionOf(field: GraphQLField<unknown, unknown>): string {
  const named = getNamedType(field.type);
  if (isScalarType(named) || isEnumType(named)) return '';
  if (isObjectType(named) && named.getFields().userErrors) return '{ __typename userErrors { field message code } }';
  return '{ __typename }';
}

/** The hostile values: each kind the brief names, and random UTF-16 (lone surrogates included). */
function hostileValues(ids: { foreign: string[]; own: string[] }): fc.Arbitrary<unknown> {
  const strings = fc.constantFrom(
    '\u0000', 'a\u0000b', '\ud800', 'x\udfff', '\udc00\ud800', '', ' ', 'x'.repeat(100_000), '\u{1F600}'.repeat(30_000),
    'null', "'; DROP TABLE bookings; --", '%_\\', '2026-02-30', '2026-04-31', '2026-02-30T10:00:00Z', '2026-04-31T10:00:00Z',
    '0000-01-01', '9999-12-31', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '1899-12-31', '2201-01-01', '24:00', '25:61', '-1', '1e400',
  );
  const randomText = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 12 }).map((units) => String.fromCharCode(...units));
  const numbers = fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 53, -1, 0, 1.5, -0.5, 1e308, -1e308, 101, 1_000_000);
  const strangeIds = fc.constantFrom(
    ...ids.foreign, ...ids.own,
    ...NODE_TYPES.map((type) => toGlobalId(type, '999999999999')),
    toGlobalId('Partner', '0'), toGlobalId('Partner', '01'), toGlobalId('Partner', '-1'), toGlobalId('Partner', '1.5'), toGlobalId('Partner', '9223372036854775808'),
    Buffer.from('Nope:1').toString('base64url'), Buffer.from('Partner:1').toString('base64'), 'Partner:1', '%%%', '====', 'a'.repeat(65),
  );
  const wrongTypes = fc.constantFrom<unknown>(null, true, false, {}, [], { a: 1 }, [null], 42, 4.2, 'string');
  const deepList = fc.integer({ min: 5, max: 60 }).map((depth) => {
    let value: unknown = 'x';
    for (let i = 0; i < depth; i++) value = [value];
    return value;
  });
  const longList = fc.constantFrom(...ids.own).map((id) => Array.from({ length: 1000 }, () => id));
  return fc.oneof(strings, randomText, numbers, fc.integer(), fc.double({ noNaN: true }), strangeIds, wrongTypes, deepList, longList);
}

describe('Schema fuzz: hostile arguments never cause an internal error', () => {
  const schema = buildExecutableSchema(resolverMaps);
  const targets = targetsOf(schema);
  let api: TestApi;
  let tokens: Record<'staff' | 'customer' | 'anonymous', string | undefined>;
  let ids: SceneIds;
  let own: string[];
  let foreign: string[];
  const tomorrow = new Date(Date.now() + 86_400_000);
  const stats = { requests: 0, refused: 0, ok: 0 };
  const started = Date.now();

  beforeAll(async () => {
    api = await startTestApi({ isolated: true });
    const built = await createBookableBusiness(api.db, { partners: 2, slotCount: 8 });
    const booking = await createBooking(api.db, { business: built.business, service: built.service, partner: built.partners[0], customer: built.customer, slots: built.partners[0].slots.slice(0, 1) });
    const other = await createBookableBusiness(api.db, { slotCount: 2 });
    const t = await tokensFor(api, { businessGid: built.business.gid, partnerGid: built.partners[0].gid, customerGid: built.customer.gid });
    tokens = { staff: t.staff, customer: t.customer, anonymous: undefined };
    ids = { Business: built.business.gid, Service: built.service.gid, Partner: built.partners[1].gid, Customer: built.customer.gid, Slot: built.partners[1].slots[3].gid, Booking: booking.gid };
    own = Object.values(ids) as string[];
    foreign = [other.business.gid, other.service.gid, other.partners[0].gid, other.customer.gid, other.partners[0].slots[0].gid];
  });

  afterAll(async () => {
    if (api) {
      // Whatever got through, PostgreSQL's constraint and the actions kept it consistent.
      expect(await overlappingLiveBookings(api.db)).toBe(0);
      console.info(`[schema-fuzz:${onRealPostgres ? 'postgres' : 'pglite'}] ${targets.length} targets, ${stats.requests} requests (${stats.refused} refused, ${stats.ok} answered), ${((Date.now() - started) / 1000).toFixed(1)} s`);
      await api.close();
    }
  });

  async function send(target: Target, hostile: unknown, asLiteral: boolean, role: keyof typeof tokens) {
    const args = target.field.args;
    const values = new Map<GraphQLArgument, unknown>(args.map((arg) => [arg, baseline(arg.type, arg.name, ids, tomorrow)]));
    const attacked = args.find((arg) => arg.name === target.path[0])!;
    values.set(attacked, setAt(values.get(attacked), target.path.slice(1), hostile));
    const variables: Record<string, unknown> = {};
    const definitions: string[] = [];
    const written: string[] = [];
    for (const [arg, value] of values) {
      if (arg === attacked && asLiteral) {
        written.push(`${arg.name}: ${literal(value, arg.type)}`);
      } else if (value !== undefined && (isNonNullType(arg.type) || arg === attacked)) {
        definitions.push(`$${arg.name}: ${String(arg.type)}`);
        written.push(`${arg.name}: $${arg.name}`);
        variables[arg.name] = value;
      }
    }
    const operation = `${target.root === 'Query' ? 'query' : 'mutation'} Fuzz${definitions.length ? `(${definitions.join(', ')})` : ''} { ${target.field.name}${written.length ? `(${written.join(', ')})` : ''} ${selectionOf(target.field)} }`;
    const token = tokens[role];
    const res = await fetch(api.app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: operation, variables }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    return { operation, variables, status: res.status, body: (await res.json()) as { data?: Record<string, any> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> } };
  }

  const byField = new Map<string, Target[]>();
  for (const target of targets) byField.set(`${target.root}.${target.field.name}`, [...(byField.get(`${target.root}.${target.field.name}`) ?? []), target]);

  it('covers every argument of every Query and Mutation field', () => {
    expect(byField.size).toBeGreaterThan(20);
    expect(targets.length).toBeGreaterThan(60);
  });

  for (const [name, fieldTargets] of byField) {
    it(`${name}: answers hostile ${fieldTargets.map((t) => t.path.join('.')).join(', ')} with a client error or a result`, async () => {
      let index = 0;
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...fieldTargets), hostileValues({ foreign, own }), fc.boolean(), fc.constantFrom('staff', 'customer', 'anonymous' as const), async (target, hostile, asLiteral, role) => {
          index++;
          const isMutation = target.root === 'Mutation';
          const before = isMutation ? await databaseFingerprint(api.db) : undefined;
          const logged = loggedErrors.length;
          const { operation, variables, status, body } = await send(target, hostile, asLiteral, role as keyof typeof tokens);
          const context = `${operation} ${JSON.stringify(variables).slice(0, 300)} as ${role}`;
          stats.requests++;
          expect(status, context).toBeLessThan(500);
          for (const error of body.errors ?? []) {
            expect(error.extensions?.code, `${context}: ${error.message}`).not.toBe(ErrorCode.InternalServerError);
            expect(PUBLIC_CODES.has(error.extensions?.code), `${context}: ${error.extensions?.code}`).toBe(true);
          }
          expect(loggedErrors.slice(logged), context).toEqual([]);
          const payload = body.data?.[target.field.name];
          const refused = Boolean(body.errors?.length) || (payload && Array.isArray(payload.userErrors) && payload.userErrors.length > 0);
          if (refused) stats.refused++;
          else stats.ok++;
          if (isMutation && refused) {
            const after = await databaseFingerprint(api.db);
            // A mutation refused with user errors records that outcome under its idempotency key
            // (a retry gets the same errors); a top-level refusal writes nothing at all.
            const changed = Object.keys(after).filter((key) => after[key] !== before![key] && !(key === 'idempotency_keys' && !body.errors));
            expect(changed, `${context}: ${JSON.stringify(body).slice(0, 300)}`).toEqual([]);
          }
        }),
        { seed: SEED + name.length, numRuns: Math.max(4, fieldTargets.length * RUNS_PER_TARGET), endOnFailure: true },
      );
      expect(index).toBeGreaterThan(0);
    }, 300_000);
  }
});
