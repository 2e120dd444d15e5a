import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CACHE_CONFIG } from '../../src/cache/create-cache.js';
import { startApp, type App } from '../../src/app.js';
import { signDevelopmentToken } from '../../src/auth/tokens.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { TEST_JWT_SECRET, type GraphQLResponse } from '../support/api.js';
import {
  createBooking,
  createBusiness,
  createCustomer,
  createPartner,
  createPayment,
  createService,
  createSlots,
  uniqueSuffix,
  type BuiltBusiness,
  type BuiltCustomer,
  type BuiltPartner,
  type BuiltService,
  type BuiltSlot,
} from '../support/builders.js';
import type { BookingStatusColumn } from '../../src/db/tables.js';
import { parseGlobalId } from '../../src/shared/global-id.js';

/**
 * The guard against N+1: a page of bookings with every reference resolved must cost the same
 * number of SQL statements whatever its size. Each statement is tagged with the repository function
 * that built it (`/* findServicesByIds *\/`), so besides the count, the tests name the statements.
 *
 * The API here is started like test/support/api.ts starts it, on a database handle of its own that
 * records the text of every statement (the shared helper only counts them).
 */
interface RecordingApi {
  app: App;
  database: DatabaseHandle;
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  /** The statements sent while `work` ran: how many, and their tags in the order they were sent. */
  countStatements<T>(work: () => Promise<T>): Promise<{ result: T; statements: number; tags: string[] }>;
  close(): Promise<void>;
}

async function startRecordingApi(): Promise<RecordingApi> {
  const sent: string[] = [];
  // Requests' statements only: the relay's timer may position other test files' events meanwhile.
  const database = await connectDatabase({ databaseUrl: process.env.DATABASE_URL, poolMax: 20, onStatement: (event, background) => void (background || sent.push(event.query.sql)) });
  if (!process.env.DATABASE_URL) await migrateToLatest(database.db);
  const app = await startApp(
    // Without the catalog cache: these tests count what the loaders batch, for cold requests every time.
    { host: '127.0.0.1', port: 0, auth: { jwtSecret: TEST_JWT_SECRET, jwksUrl: undefined, issuer: undefined, audience: undefined }, slowQueryMs: 60_000, cache: { ...DEFAULT_CACHE_CONFIG, catalogTtlSeconds: 0 } },
    database,
    { log: { info() {}, error() {} } },
  );
  return {
    app,
    database,
    async gql(query, variables, token, headers) {
      const res = await fetch(app.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { ...((await res.json()) as GraphQLResponse), status: res.status };
    },
    async countStatements(work) {
      const before = database.statementCount();
      const firstSent = sent.length;
      const result = await work();
      const tags = sent.slice(firstSent).map((text) => /\/\* (\w+) \*\//.exec(text)?.[1] ?? `untagged: ${text.slice(0, 60)}`);
      return { result, statements: database.statementCount() - before, tags };
    },
    async close() {
      await app.stop();
      await database.close();
    },
  };
}

interface SeededBooking {
  id: string;
  gid: string;
  startsAt: string;
  partner: BuiltPartner;
  customer: BuiltCustomer;
  service: BuiltService & { name: string };
  status: BookingStatusColumn;
  payments: number;
  slots: number;
}

const STATUSES: BookingStatusColumn[] = ['confirmed', 'pending', 'completed', 'cancelled', 'no_show'];

/** By (startsAt, id), the order of `Business.bookings` and `Partner.bookings`; ids compare as numbers. */
function byStartThenId(a: SeededBooking, b: SeededBooking): number {
  if (a.startsAt !== b.startsAt) return Date.parse(a.startsAt) - Date.parse(b.startsAt);
  return Number(BigInt(a.id) - BigInt(b.id));
}

/**
 * A business with 3 services (30, 60 and 30 minutes), 3 partners and 4 customers, and 145
 * bookings: the first partner has 105 (so a page of 100 is full for them too), the others 20 each.
 * The first customer holds three quarters of them. Partners' slot runs start at the same instant,
 * so bookings of different partners share start times and the id breaks the tie.
 * Statuses rotate through all five; each booking has 1 or 2 payments; a cancelled one holds no slot.
 */
async function seedBusyBusiness(db: RecordingApi['database']['db']) {
  const business = await createBusiness(db, { name: `Busy ${uniqueSuffix()}` });
  const services = [] as Array<BuiltService & { name: string }>;
  for (const [i, durationMinutes] of [30, 60, 30].entries()) {
    const name = `Service ${i} ${uniqueSuffix()}`;
    services.push({ ...(await createService(db, business, { name, durationMinutes, priceCents: 1000 + i })), name });
  }
  const partners: BuiltPartner[] = [];
  for (let i = 0; i < 3; i++) partners.push(await createPartner(db, business, { name: `Partner ${i} ${uniqueSuffix()}` }));
  const customers: BuiltCustomer[] = [];
  for (let i = 0; i < 4; i++) customers.push(await createCustomer(db, business));

  const start = new Date();
  start.setUTCDate(start.getUTCDate() + 2);
  start.setUTCHours(8, 0, 0, 0);
  const bookingsPerPartner = [105, 20, 20];
  const bookings: SeededBooking[] = [];
  let k = 0;
  for (const [p, partner] of partners.entries()) {
    const run: BuiltSlot[] = await createSlots(db, business, partner, start, 2 * bookingsPerPartner[p]);
    let next = 0;
    for (let j = 0; j < bookingsPerPartner[p]; j++, k++) {
      const service = services[(j + p) % 3];
      const slots = run.slice(next, next + service.durationMinutes / 30);
      next += slots.length;
      const customer = k % 4 === 3 ? customers[1 + (k % 3)] : customers[0];
      const status = STATUSES[k % STATUSES.length];
      const booking = await createBooking(db, { business, service, partner, customer, slots, status });
      const payments = k % 2 === 0 ? 1 : 2;
      for (let n = 0; n < payments; n++) await createPayment(db, { business, booking, amountCents: 500 + n });
      bookings.push({ ...booking, startsAt: slots[0].startsAt, partner, customer, service, status, payments, slots: status === 'cancelled' ? 0 : slots.length });
    }
  }
  return { business, services, partners, customers, bookings: bookings.sort(byStartThenId) };
}

const BOOKING_FIELDS = `
  edges { cursor node {
    id startsAt status totalCents
    business { name } service { name } partner { name } customer { email }
    payments { amountCents status } slots { startsAt }
  } }
  pageInfo { endCursor hasNextPage }`;

const BUSINESS_BOOKINGS = `query BusinessBookings($slug: String!, $first: Int!, $after: String) {
  business(slug: $slug) { bookings(first: $first, after: $after) { ${BOOKING_FIELDS} } }
}`;
const PARTNER_BOOKINGS = `query PartnerBookings($id: ID!, $first: Int!) {
  node(id: $id) { ... on Partner { bookings(first: $first) { ${BOOKING_FIELDS} } } }
}`;
const CUSTOMER_BOOKINGS = `query CustomerBookings($id: ID!, $first: Int!) {
  node(id: $id) { ... on Customer { bookings(first: $first) { ${BOOKING_FIELDS} } } }
}`;

// One API (and one embedded database, whose migration is the slow part) for the whole file.
let api: RecordingApi;
beforeAll(async () => {
  api = await startRecordingApi();
});
afterAll(() => api.close());

describe('Read API: the cost of a page does not grow with its size', () => {
  let seeded: Awaited<ReturnType<typeof seedBusyBusiness>>;
  let staff: string;

  beforeAll(async () => {
    seeded = await seedBusyBusiness(api.database.db);
    staff = await signDevelopmentToken(TEST_JWT_SECRET, { sub: 'staff-n1', role: 'staff', business_id: seeded.business.gid });
  });

  /** Every node of a page carries the references seeded for it, resolved from the right rows. */
  function expectResolvedReferences(edges: any[]) {
    const byGid = new Map(seeded.bookings.map((b) => [b.gid, b]));
    for (const { node } of edges) {
      const expected = byGid.get(node.id)!;
      expect(expected, `booking ${node.id} was seeded`).toBeDefined();
      expect(node).toMatchObject({
        startsAt: expected.startsAt,
        status: expected.status.toUpperCase(),
        totalCents: expected.service.priceCents,
        business: { name: expect.stringMatching(/^Busy /) },
        service: { name: expected.service.name },
        partner: { name: expected.partner.name },
        customer: { email: expected.customer.email },
      });
      expect(node.payments).toEqual(Array.from({ length: expected.payments }, (_, n) => ({ amountCents: 500 + n, status: 'SUCCEEDED' })));
      expect(node.slots).toHaveLength(expected.slots);
      if (expected.slots) expect(node.slots[0].startsAt).toBe(expected.startsAt);
    }
  }

  it('serves Business.bookings with every reference in 7 statements, for 10 bookings as for 100', async () => {
    const ten = await api.countStatements(() => api.gql(BUSINESS_BOOKINGS, { slug: seeded.business.slug, first: 10 }, staff));
    const hundred = await api.countStatements(() => api.gql(BUSINESS_BOOKINGS, { slug: seeded.business.slug, first: 100 }, staff));

    expect(ten.result.errors).toBeUndefined();
    expect(hundred.result.errors).toBeUndefined();
    expect(ten.result.data.business.bookings.edges.map((e: any) => e.node.id)).toEqual(seeded.bookings.slice(0, 10).map((b) => b.gid));
    expect(hundred.result.data.business.bookings.edges.map((e: any) => e.node.id)).toEqual(seeded.bookings.slice(0, 100).map((b) => b.gid));
    expect(hundred.result.data.business.bookings.pageInfo.hasNextPage).toBe(true);
    expectResolvedReferences(hundred.result.data.business.bookings.edges);

    // 1 business by slug, 1 page of bookings, then one batch per reference: service, partner,
    // customer, payments, slots. `Booking.business` costs nothing: the business-by-slug loader primed
    // the business-by-id cache with the very row every booking points to.
    const expectedTags = [
      'findBusinessesBySlugs',
      'findBookingPagesByBusinessIds',
      'findCustomersByIds',
      'findPartnersByIds',
      'findPaymentsByBookingIds',
      'findServicesByIds',
      'findSlotsByBookingIds',
    ];
    expect(ten.statements).toBe(7);
    expect(hundred.statements).toBe(ten.statements);
    // The first two run in sequence; the five batches are dispatched together, in no set order.
    expect([...ten.tags.slice(0, 2), ...ten.tags.slice(2).sort()]).toEqual(expectedTags);
    expect([...hundred.tags.slice(0, 2), ...hundred.tags.slice(2).sort()]).toEqual(expectedTags);
  });

  it('serves Partner.bookings through node(id) in 7 statements, for 10 bookings as for 100', async () => {
    const partner = seeded.partners[0];
    const own = seeded.bookings.filter((b) => b.partner === partner);
    const ten = await api.countStatements(() => api.gql(PARTNER_BOOKINGS, { id: partner.gid, first: 10 }, staff));
    const hundred = await api.countStatements(() => api.gql(PARTNER_BOOKINGS, { id: partner.gid, first: 100 }, staff));

    expect(ten.result.errors).toBeUndefined();
    expect(hundred.result.errors).toBeUndefined();
    expect(ten.result.data.node.bookings.edges.map((e: any) => e.node.id)).toEqual(own.slice(0, 10).map((b) => b.gid));
    expect(hundred.result.data.node.bookings.edges.map((e: any) => e.node.id)).toEqual(own.slice(0, 100).map((b) => b.gid));
    expectResolvedReferences(hundred.result.data.node.bookings.edges);

    // 1 partner by id (node), 1 page, then business, service, customer, payments, slots. Here the
    // business is not cached, so it is a statement; `Booking.partner` is the partner node(id)
    // already loaded, so it is not.
    const expectedTags = [
      'findPartnersByIds',
      'findBookingPagesByPartnerIds',
      'findBusinessesByIds',
      'findCustomersByIds',
      'findPaymentsByBookingIds',
      'findServicesByIds',
      'findSlotsByBookingIds',
    ];
    expect(ten.statements).toBe(7);
    expect(hundred.statements).toBe(ten.statements);
    expect([...ten.tags.slice(0, 2), ...ten.tags.slice(2).sort()]).toEqual(expectedTags);
    expect([...hundred.tags.slice(0, 2), ...hundred.tags.slice(2).sort()]).toEqual(expectedTags);
  });

  it('serves Customer.bookings through node(id) in 7 statements, for 10 bookings as for 100', async () => {
    const customer = seeded.customers[0];
    const own = seeded.bookings.filter((b) => b.customer === customer);
    expect(own.length).toBeGreaterThan(100);
    const ten = await api.countStatements(() => api.gql(CUSTOMER_BOOKINGS, { id: customer.gid, first: 10 }, staff));
    const hundred = await api.countStatements(() => api.gql(CUSTOMER_BOOKINGS, { id: customer.gid, first: 100 }, staff));

    expect(ten.result.errors).toBeUndefined();
    expect(hundred.result.errors).toBeUndefined();
    expect(ten.result.data.node.bookings.edges).toHaveLength(10);
    expect(hundred.result.data.node.bookings.edges).toHaveLength(100);
    const ids = hundred.result.data.node.bookings.edges.map((e: any) => e.node.id);
    expect(new Set(ids).size).toBe(100);
    expect(ids.every((id: string) => own.some((b) => b.gid === id))).toBe(true);
    expectResolvedReferences(hundred.result.data.node.bookings.edges);

    // 1 customer by id (node), 1 page, then business, service, partner, payments, slots;
    // `Booking.customer` is the customer node(id) already loaded.
    const expectedTags = [
      'findCustomersByIds',
      'findBookingPagesByCustomerIds',
      'findBusinessesByIds',
      'findPartnersByIds',
      'findPaymentsByBookingIds',
      'findServicesByIds',
      'findSlotsByBookingIds',
    ];
    expect(ten.statements).toBe(7);
    expect(hundred.statements).toBe(ten.statements);
    expect([...ten.tags.slice(0, 2), ...ten.tags.slice(2).sort()]).toEqual(expectedTags);
    expect([...hundred.tags.slice(0, 2), ...hundred.tags.slice(2).sort()]).toEqual(expectedTags);
  });

  it('pages through Business.bookings by (startsAt, id) with no overlap and no gap', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const res: GraphQLResponse = await api.gql(BUSINESS_BOOKINGS, { slug: seeded.business.slug, first: 7, after }, staff);
      expect(res.errors).toBeUndefined();
      const { edges, pageInfo } = res.data.business.bookings;
      expect(edges.length).toBeLessThanOrEqual(7);
      expect(pageInfo.endCursor).toBe(edges.length ? edges[edges.length - 1].cursor : null);
      seen.push(...edges.map((e: any) => e.node.id));
      pages++;
      if (!pageInfo.hasNextPage) break;
      expect(edges).toHaveLength(7);
      after = pageInfo.endCursor;
      expect(pages).toBeLessThan(100);
    }
    expect(pages).toBe(Math.ceil(seeded.bookings.length / 7));
    expect(seen).toEqual(seeded.bookings.map((b) => b.gid));
  });
});

describe('Read API: nested catalog connections cost one statement per relation, not per business', () => {
  const city = `Nplus1-${uniqueSuffix()}`;
  const seeded: Array<{ business: BuiltBusiness; services: string[]; partners: string[] }> = [];

  beforeAll(async () => {
    const db = api.database.db;
    for (let i = 0; i < 5; i++) {
      const business = await createBusiness(db, { city, slug: `nplus1-${i}-${uniqueSuffix()}` });
      const services: string[] = [];
      const partners: string[] = [];
      for (let s = 0; s <= i % 3; s++) services.push((await createService(db, business, { name: `Service ${s}` })).gid);
      for (let p = 0; p < 1 + i; p++) partners.push((await createPartner(db, business, { name: `Partner ${p}` })).gid);
      seeded.push({ business, services, partners });
    }
    seeded.sort((a, b) => (a.business.slug < b.business.slug ? -1 : 1));
  });

  const BUSINESSES = `query Catalog($city: String!, $first: Int!) {
    businesses(city: $city, first: $first) { nodes { id services { nodes { id } } partners { totalCount nodes { id } } } }
  }`;

  it('serves businesses with their services and partners in 4 statements, for 2 businesses as for 5', async () => {
    const two = await api.countStatements(() => api.gql(BUSINESSES, { city, first: 2 }));
    const all = await api.countStatements(() => api.gql(BUSINESSES, { city, first: 20 }));

    expect(two.result.errors).toBeUndefined();
    expect(all.result.errors).toBeUndefined();
    const expected = seeded.map(({ business, services, partners }) => ({
      id: business.gid,
      services: { nodes: services.map((id) => ({ id })) },
      partners: { totalCount: partners.length, nodes: partners.map((id) => ({ id })) },
    }));
    expect(all.result.data.businesses.nodes).toEqual(expected);
    expect(two.result.data.businesses.nodes).toEqual(expected.slice(0, 2));

    // 1 page of businesses, then one batch each for the services pages, the partners pages and the partner counts.
    const expectedTags = ['findBusinessPage', 'countPartnersByBusinessIds', 'findPartnerPagesByBusinessIds', 'findServicePagesByBusinessIds'];
    expect(two.statements).toBe(4);
    expect(all.statements).toBe(two.statements);
    expect([two.tags[0], ...two.tags.slice(1).sort()]).toEqual(expectedTags);
    expect([all.tags[0], ...all.tags.slice(1).sort()]).toEqual(expectedTags);
  });

  const LOCALIZED = `query Catalog($city: String!, $first: Int!) {
    businesses(city: $city, first: $first) {
      nodes { name nameLocale description services(first: 5) { nodes { name nameLocale description translations { locale } } } translations { locale } }
    }
  }`;

  it('serves localized names in 1 more statement per translated relation, for 2 businesses as for 5, and none more in the default locale', async () => {
    const db = api.database.db;
    for (const [i, { business, services }] of seeded.entries()) {
      if (i % 2 === 0) await db.insertInto('business_translations').values({ business_id: business.id, locale: 'ja', name: `店 ${i}` }).execute();
      const { rawId } = parseGlobalId(services[0])!;
      await db.insertInto('service_translations').values({ business_id: business.id, service_id: rawId, locale: 'ja', name: `サービス ${i}` }).execute();
    }
    const japanese = { 'accept-language': 'ja-JP, ja;q=0.9, en;q=0.5' };
    const two = await api.countStatements(() => api.gql(LOCALIZED, { city, first: 2 }, undefined, japanese));
    const all = await api.countStatements(() => api.gql(LOCALIZED, { city, first: 20 }, undefined, japanese));
    const english = await api.countStatements(() => api.gql(LOCALIZED, { city, first: 20 }, undefined, { 'accept-language': 'en' }));

    expect(all.result.errors).toBeUndefined();
    const nodes = all.result.data.businesses.nodes;
    expect(nodes.map((b: { nameLocale: string }) => b.nameLocale)).toEqual(seeded.map((_, i) => (i % 2 === 0 ? 'ja' : 'en')));
    expect(nodes.map((b: { services: { nodes: Array<{ name: string }> } }) => b.services.nodes[0].name)).toEqual(seeded.map((_, i) => `サービス ${i}`));
    // 1 page of businesses, the services pages, then one batch each for the business and the service translations.
    const expectedTags = ['findBusinessPage', 'findBusinessTranslationsByBusinessIds', 'findServicePagesByBusinessIds', 'findServiceTranslationsByServiceIds'];
    expect(two.statements).toBe(4);
    expect(all.statements).toBe(two.statements);
    expect([all.tags[0], ...all.tags.slice(1).sort()]).toEqual(expectedTags);
    // `translations` is asked for too, so the default locale costs the same statements; without it, none.
    expect(english.statements).toBe(4);
    const plain = await api.countStatements(() => api.gql(`query($city: String!) { businesses(city: $city) { nodes { name description services { nodes { name } } } } }`, { city }, undefined, { 'accept-language': 'en' }));
    expect(plain.tags).toEqual(['findBusinessPage', 'findServicePagesByBusinessIds']);
  });

  it('serves the services every partner performs in one statement more, for 2 businesses as for 5', async () => {
    const TEAM = `query Team($city: String!, $first: Int!) { businesses(city: $city, first: $first) { nodes { partners(first: 10) { nodes { id services { id } } } } } }`;
    const two = await api.countStatements(() => api.gql(TEAM, { city, first: 2 }));
    const all = await api.countStatements(() => api.gql(TEAM, { city, first: 5 }));
    expect(all.result.errors).toBeUndefined();
    // Every partner was built after its business's services, so performs all of them (as partnerCreate without serviceIds).
    expect(all.result.data.businesses.nodes).toEqual(seeded.map(({ services, partners }) => ({ partners: { nodes: partners.map((id) => ({ id, services: services.map((s) => ({ id: s })) })) } })));
    expect(two.tags).toEqual(['findBusinessPage', 'findPartnerPagesByBusinessIds', 'findServicesByPartnerIds']);
    expect(all.tags).toEqual(two.tags);
  });
});
