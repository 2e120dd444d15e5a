import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type GraphQLResponse, type TestApi } from '../support/api.js';
import {
  createBooking,
  createBusiness,
  createCustomer,
  createPartner,
  createService,
  createSlots,
  uniqueSuffix,
  type BuiltBooking,
  type BuiltBusiness,
  type BuiltCustomer,
  type BuiltPartner,
  type BuiltService,
  type BuiltSlot,
} from '../support/builders.js';
import type { BookingStatusColumn } from '../../src/db/tables.js';

/**
 * Page sizes, cursors, ranges and filters of the read connections. Business P has three services
 * (one inactive), three partners (one inactive, one in another city) and one customer with five
 * bookings on consecutive slots, each in another state, made (createdAt) in an order unrelated to
 * their start times.
 */
const DAY = 24 * 3600 * 1000;

function cursorOf(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function expectTopLevelError(res: GraphQLResponse, code: string, path?: string[]) {
  expect(res.errors, JSON.stringify(res)).toHaveLength(1);
  expect(res.errors![0].extensions?.code, res.errors![0].message).toBe(code);
  if (path) expect(res.errors![0].path).toEqual(path);
  expect(res.errors![0].extensions).not.toHaveProperty('stacktrace');
}

describe('Read API: pages, cursors, ranges and filters', () => {
  let api: TestApi;
  let business: BuiltBusiness;
  let services: Record<'cut' | 'colour' | 'shave', BuiltService>;
  let partners: Record<'anna' | 'ben' | 'cara', BuiltPartner>;
  let customer: BuiltCustomer;
  let slots: BuiltSlot[];
  /** bookings[i] holds slots[i]; ordered by start time. */
  const bookings: Array<BuiltBooking & { status: BookingStatusColumn; startsAt: string }> = [];
  let staff: string;

  beforeAll(async () => {
    api = await startTestApi();
    business = await createBusiness(api.db, { name: `Paging ${uniqueSuffix()}` });
    services = {
      cut: await createService(api.db, business, { name: 'A cut' }),
      colour: await createService(api.db, business, { name: 'B colour', isActive: false }),
      shave: await createService(api.db, business, { name: 'C shave' }),
    };
    partners = {
      anna: await createPartner(api.db, business, { name: 'Anna', city: 'Berlin' }),
      ben: await createPartner(api.db, business, { name: 'Ben', city: 'Berlin', isActive: false }),
      cara: await createPartner(api.db, business, { name: 'Cara', city: 'Hamburg' }),
    };
    customer = await createCustomer(api.db, business);
    const start = new Date();
    start.setUTCDate(start.getUTCDate() + 1);
    start.setUTCHours(9, 0, 0, 0);
    slots = await createSlots(api.db, business, partners.anna, start, 8);
    const now = Date.now();
    const plan: Array<[BookingStatusColumn, number]> = [
      ['confirmed', now - 5 * DAY],
      ['pending', now - 1 * DAY],
      ['cancelled', now - 3 * DAY],
      ['completed', now - 2 * DAY],
      ['no_show', now - 1 * DAY], // made at the same instant as bookings[1]: the id breaks the tie
    ];
    for (const [i, [status, createdAt]] of plan.entries()) {
      const booking = await createBooking(api.db, { business, service: services.cut, partner: partners.anna, customer, slots: [slots[i]], status, createdAt: new Date(createdAt) });
      bookings.push({ ...booking, status, startsAt: slots[i].startsAt });
    }
    staff = await api.token({ sub: 'staff-paging', role: 'staff', business_id: business.gid });
  });
  afterAll(() => api.close());

  describe('page sizes', () => {
    const connections: Array<[string, string, string[]]> = [
      ['Query.businesses', `query($first: Int) { businesses(first: $first) { nodes { id } } }`, ['businesses']],
      ['Business.services', `query($slug: String!, $first: Int) { business(slug: $slug) { services(first: $first) { nodes { id } } } }`, ['business', 'services']],
      ['Business.partners', `query($slug: String!, $first: Int) { business(slug: $slug) { partners(first: $first) { nodes { id } } } }`, ['business', 'partners']],
      ['Business.customers', `query($slug: String!, $first: Int) { business(slug: $slug) { customers(first: $first) { nodes { id } } } }`, ['business', 'customers']],
      ['Business.bookings', `query($slug: String!, $first: Int) { business(slug: $slug) { bookings(first: $first) { nodes { id } } } }`, ['business', 'bookings']],
      ['Customer.bookings', `query($id: ID!, $first: Int) { node(id: $id) { ... on Customer { bookings(first: $first) { nodes { id } } } } }`, ['node', 'bookings']],
      ['Partner.bookings', `query($pid: ID!, $first: Int) { node(id: $pid) { ... on Partner { bookings(first: $first) { nodes { id } } } } }`, ['node', 'bookings']],
    ];

    for (const [name, query, path] of connections) {
      it(`refuses first: 0 and first: 101 on ${name} with BAD_USER_INPUT, and takes first: 100`, async () => {
        const variables = { slug: business.slug, id: customer.gid, pid: partners.anna.gid };
        for (const first of [0, -1, 101]) {
          const res = await api.gql(query, { ...variables, first }, { token: staff });
          expectTopLevelError(res, 'BAD_USER_INPUT', path);
          expect(res.errors![0].message).toContain('`first` between 1 and 100');
        }
        const res = await api.gql(query, { ...variables, first: 100 }, { token: staff });
        expect(res.errors).toBeUndefined();
      });
    }

    it('refuses nodes(ids) with more than 100 IDs with BAD_USER_INPUT', async () => {
      const res = await api.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: Array.from({ length: 101 }, () => business.gid) });
      expectTopLevelError(res, 'BAD_USER_INPUT', ['nodes']);
      const ok = await api.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: Array.from({ length: 100 }, () => business.gid) });
      expect(ok.errors).toBeUndefined();
      expect(ok.data.nodes).toHaveLength(100);
    });
  });

  describe('cursors', () => {
    const BOOKINGS = `query($slug: String!, $after: String) { business(slug: $slug) { bookings(first: 2, after: $after) { nodes { id } pageInfo { endCursor } } } }`;
    const SERVICES = `query($slug: String!, $after: String) { business(slug: $slug) { services(first: 2, after: $after) { nodes { id } } } }`;

    it('refuses a garbage `after` with BAD_USER_INPUT', async () => {
      for (const after of ['garbage!!', '', cursorOf({ not: 'an array' }), Buffer.from('[1,').toString('base64url')]) {
        expectTopLevelError(await api.gql(BOOKINGS, { slug: business.slug, after }, { token: staff }), 'BAD_USER_INPUT', ['business', 'bookings']);
        expectTopLevelError(await api.gql(SERVICES, { slug: business.slug, after }), 'BAD_USER_INPUT', ['business', 'services']);
      }
      const res = await api.gql(`query($after: String) { businesses(after: $after) { nodes { id } } }`, { after: 'garbage!!' });
      expectTopLevelError(res, 'BAD_USER_INPUT', ['businesses']);
    });

    it("refuses another connection's cursor with BAD_USER_INPUT", async () => {
      const businesses = await api.gql(`{ businesses(first: 1) { pageInfo { endCursor } } }`);
      const businessCursor = businesses.data.businesses.pageInfo.endCursor;
      expect(businessCursor).toEqual(expect.any(String));
      expectTopLevelError(await api.gql(BOOKINGS, { slug: business.slug, after: businessCursor }, { token: staff }), 'BAD_USER_INPUT');
      expectTopLevelError(await api.gql(SERVICES, { slug: business.slug, after: businessCursor }), 'BAD_USER_INPUT');
    });

    // A cursor is opaque but travels through the client: one of the right shape with a key that is
    // not a time or not an id must be refused as input, not reach PostgreSQL as a failing cast.
    it('refuses a cursor of the right shape whose key is not a start time and an id with BAD_USER_INPUT', async () => {
      for (const after of [cursorOf(['2026-01-01T00:00:00Z', 'abc']), cursorOf(['not a time', '1']), cursorOf(['2026-01-01T00:00:00Z', '99999999999999999999'])]) {
        const res = await api.gql(BOOKINGS, { slug: business.slug, after }, { token: staff });
        expectTopLevelError(res, 'BAD_USER_INPUT', ['business', 'bookings']);
      }
      expectTopLevelError(await api.gql(SERVICES, { slug: business.slug, after: cursorOf(['A cut', 'abc']) }), 'BAD_USER_INPUT', ['business', 'services']);
    });

    it('continues Business.bookings after a cursor taken from a previous page', async () => {
      const first = await api.gql(BOOKINGS, { slug: business.slug, after: null }, { token: staff });
      expect(first.data.business.bookings.nodes.map((n: any) => n.id)).toEqual([bookings[0].gid, bookings[1].gid]);
      const second = await api.gql(BOOKINGS, { slug: business.slug, after: first.data.business.bookings.pageInfo.endCursor }, { token: staff });
      expect(second.data.business.bookings.nodes.map((n: any) => n.id)).toEqual([bookings[2].gid, bookings[3].gid]);
    });
  });

  describe('Partner.slots ranges', () => {
    const SLOTS = `query($id: ID!, $from: DateTime!, $to: DateTime!, $status: SlotStatus) {
      node(id: $id) { ... on Partner { slots(from: $from, to: $to, status: $status) { id status } } }
    }`;

    it('refuses `to` equal to or before `from` with BAD_USER_INPUT', async () => {
      const from = slots[0].startsAt;
      for (const to of [from, new Date(Date.parse(from) - 1000).toISOString()]) {
        const res = await api.gql(SLOTS, { id: partners.anna.gid, from, to });
        expectTopLevelError(res, 'BAD_USER_INPUT', ['node', 'slots']);
      }
    });

    it('refuses a range longer than 31 days with BAD_USER_INPUT, and takes exactly 31 days', async () => {
      const from = slots[0].startsAt;
      const tooLong = await api.gql(SLOTS, { id: partners.anna.gid, from, to: new Date(Date.parse(from) + 31 * DAY + 1000).toISOString() });
      expectTopLevelError(tooLong, 'BAD_USER_INPUT', ['node', 'slots']);
      const month = await api.gql(SLOTS, { id: partners.anna.gid, from, to: new Date(Date.parse(from) + 31 * DAY).toISOString() });
      expect(month.errors).toBeUndefined();
      expect(month.data.node.slots.map((s: any) => s.id)).toEqual(slots.map((s) => s.gid));
    });

    it('lists the slots starting in [from, to), optionally in one state', async () => {
      const from = slots[1].startsAt;
      const to = slots[6].startsAt;
      const all = await api.gql(SLOTS, { id: partners.anna.gid, from, to });
      expect(all.errors).toBeUndefined();
      // Slots 0-4 hold the five bookings; the cancelled one (2) left its slot available.
      expect(all.data.node.slots).toEqual([
        { id: slots[1].gid, status: 'BOOKED' },
        { id: slots[2].gid, status: 'AVAILABLE' },
        { id: slots[3].gid, status: 'BOOKED' },
        { id: slots[4].gid, status: 'BOOKED' },
        { id: slots[5].gid, status: 'AVAILABLE' },
      ]);
      const available = await api.gql(SLOTS, { id: partners.anna.gid, from, to, status: 'AVAILABLE' });
      expect(available.data.node.slots.map((s: any) => s.id)).toEqual([slots[2].gid, slots[5].gid]);
    });
  });

  describe('Business.bookings filters', () => {
    const FILTERED = `query($slug: String!, $filter: BookingFilter, $first: Int, $after: String) {
      business(slug: $slug) { bookings(filter: $filter, first: $first, after: $after) { nodes { id status } pageInfo { hasNextPage endCursor } } }
    }`;
    const ids = (res: GraphQLResponse) => {
      expect(res.errors).toBeUndefined();
      return res.data.business.bookings.nodes.map((n: any) => n.id);
    };

    it('keeps only bookings in the given states', async () => {
      const res = await api.gql(FILTERED, { slug: business.slug, filter: { status: ['PENDING', 'CONFIRMED'] } }, { token: staff });
      expect(ids(res)).toEqual([bookings[0].gid, bookings[1].gid]);
      const cancelled = await api.gql(FILTERED, { slug: business.slug, filter: { status: ['CANCELLED'] } }, { token: staff });
      expect(cancelled.data.business.bookings.nodes).toEqual([{ id: bookings[2].gid, status: 'CANCELLED' }]);
    });

    it('keeps bookings starting in [from, to), whatever the offset the instants are written with', async () => {
      const res = await api.gql(FILTERED, { slug: business.slug, filter: { from: slots[1].startsAt, to: slots[3].startsAt } }, { token: staff });
      expect(ids(res)).toEqual([bookings[1].gid, bookings[2].gid]);
      // The same instants written at +02:00.
      const plusTwo = (iso: string) => new Date(Date.parse(iso) + 2 * 3600 * 1000).toISOString().replace(/\.\d+Z$/, '+02:00');
      const offset = await api.gql(FILTERED, { slug: business.slug, filter: { from: plusTwo(slots[1].startsAt), to: plusTwo(slots[3].startsAt) } }, { token: staff });
      expect(ids(offset)).toEqual([bookings[1].gid, bookings[2].gid]);
    });

    it('combines states, a range and paging', async () => {
      const filter = { status: ['CANCELLED', 'COMPLETED', 'NO_SHOW', 'PENDING'], from: slots[1].startsAt };
      const first = await api.gql(FILTERED, { slug: business.slug, filter, first: 2 }, { token: staff });
      expect(ids(first)).toEqual([bookings[1].gid, bookings[2].gid]);
      expect(first.data.business.bookings.pageInfo.hasNextPage).toBe(true);
      const second = await api.gql(FILTERED, { slug: business.slug, filter, first: 2, after: first.data.business.bookings.pageInfo.endCursor }, { token: staff });
      expect(ids(second)).toEqual([bookings[3].gid, bookings[4].gid]);
      expect(second.data.business.bookings.pageInfo.hasNextPage).toBe(false);
    });

    it('refuses `from` at or after `to` with BAD_USER_INPUT', async () => {
      const res = await api.gql(FILTERED, { slug: business.slug, filter: { from: slots[3].startsAt, to: slots[1].startsAt } }, { token: staff });
      expectTopLevelError(res, 'BAD_USER_INPUT', ['business', 'bookings']);
      const equal = await api.gql(FILTERED, { slug: business.slug, filter: { from: slots[1].startsAt, to: slots[1].startsAt } }, { token: staff });
      expectTopLevelError(equal, 'BAD_USER_INPUT', ['business', 'bookings']);
    });
  });

  describe('Customer.bookings', () => {
    const HISTORY = `query($id: ID!, $status: BookingStatus, $first: Int, $after: String) {
      node(id: $id) { ... on Customer { bookings(status: $status, first: $first, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } }
    }`;
    // Made 1 day ago (no_show, the higher id, then pending), 2, 3 and 5 days ago.
    const newestFirst = () => [bookings[4], bookings[1], bookings[3], bookings[2], bookings[0]].map((b) => b.gid);

    it('lists the newest booking first, the higher id first among those made at the same instant', async () => {
      const res = await api.gql(HISTORY, { id: customer.gid }, { token: staff });
      expect(res.errors).toBeUndefined();
      expect(res.data.node.bookings.nodes.map((n: any) => n.id)).toEqual(newestFirst());
    });

    it('pages newest first without overlap or gap', async () => {
      const seen: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 3; page++) {
        const res: GraphQLResponse = await api.gql(HISTORY, { id: customer.gid, first: 2, after }, { token: staff });
        expect(res.errors).toBeUndefined();
        seen.push(...res.data.node.bookings.nodes.map((n: any) => n.id));
        expect(res.data.node.bookings.pageInfo.hasNextPage).toBe(page < 2);
        after = res.data.node.bookings.pageInfo.endCursor;
      }
      expect(seen).toEqual(newestFirst());
    });

    it('keeps only bookings in the given state', async () => {
      const res = await api.gql(HISTORY, { id: customer.gid, status: 'CANCELLED' }, { token: staff });
      expect(res.data.node.bookings.nodes).toEqual([{ id: bookings[2].gid }]);
    });
  });

  describe('catalog connections', () => {
    const SERVICES = `query($slug: String!, $includeInactive: Boolean, $first: Int, $after: String) {
      business(slug: $slug) { services(includeInactive: $includeInactive, first: $first, after: $after) {
        totalCount nodes { id name isActive } pageInfo { hasNextPage endCursor }
      } }
    }`;
    const PARTNERS = `query($slug: String!, $city: String, $activeOnly: Boolean) {
      business(slug: $slug) { partners(city: $city, activeOnly: $activeOnly) { totalCount nodes { id } } }
    }`;

    it('lists active services by name with their count, and inactive ones too with includeInactive', async () => {
      const active = await api.gql(SERVICES, { slug: business.slug });
      expect(active.errors).toBeUndefined();
      expect(active.data.business.services).toMatchObject({
        totalCount: 2,
        nodes: [{ id: services.cut.gid, name: 'A cut', isActive: true }, { id: services.shave.gid, name: 'C shave', isActive: true }],
      });
      const all = await api.gql(SERVICES, { slug: business.slug, includeInactive: true });
      expect(all.data.business.services.totalCount).toBe(3);
      expect(all.data.business.services.nodes.map((s: any) => s.id)).toEqual([services.cut.gid, services.colour.gid, services.shave.gid]);
      expect(all.data.business.services.nodes[1].isActive).toBe(false);
    });

    it('counts services across all pages, not in the page', async () => {
      const first = await api.gql(SERVICES, { slug: business.slug, includeInactive: true, first: 1 });
      expect(first.data.business.services).toMatchObject({ totalCount: 3, nodes: [{ id: services.cut.gid }], pageInfo: { hasNextPage: true } });
      const second = await api.gql(SERVICES, { slug: business.slug, includeInactive: true, first: 2, after: first.data.business.services.pageInfo.endCursor });
      expect(second.data.business.services).toMatchObject({
        totalCount: 3,
        nodes: [{ id: services.colour.gid }, { id: services.shave.gid }],
        pageInfo: { hasNextPage: false },
      });
    });

    it('lists partners by name, filtered by city and activity, with the count of those matching', async () => {
      const cases: Array<[{ city?: string; activeOnly?: boolean }, BuiltPartner[]]> = [
        [{}, [partners.anna, partners.ben, partners.cara]],
        [{ city: 'Berlin' }, [partners.anna, partners.ben]],
        [{ activeOnly: true }, [partners.anna, partners.cara]],
        [{ city: 'Berlin', activeOnly: true }, [partners.anna]],
        [{ city: 'Hamburg', activeOnly: false }, [partners.cara]],
        [{ city: 'Nowhere' }, []],
      ];
      for (const [args, expected] of cases) {
        const res = await api.gql(PARTNERS, { slug: business.slug, ...args });
        expect(res.errors, JSON.stringify(args)).toBeUndefined();
        expect(res.data.business.partners, JSON.stringify(args)).toEqual({ totalCount: expected.length, nodes: expected.map((p) => ({ id: p.gid })) });
      }
    });

    it('pages businesses of one city by slug', async () => {
      const city = `Paging-${uniqueSuffix()}`;
      const slugs = [`pg-c-${uniqueSuffix()}`, `pg-a-${uniqueSuffix()}`, `pg-b-${uniqueSuffix()}`];
      for (const slug of slugs) await createBusiness(api.db, { slug, city });
      const query = `query($city: String!, $after: String) { businesses(city: $city, first: 2, after: $after) { nodes { slug } pageInfo { hasNextPage endCursor } } }`;
      const first = await api.gql(query, { city });
      const second = await api.gql(query, { city, after: first.data.businesses.pageInfo.endCursor });
      expect(first.data.businesses.pageInfo.hasNextPage).toBe(true);
      expect(second.data.businesses.pageInfo.hasNextPage).toBe(false);
      expect([...first.data.businesses.nodes, ...second.data.businesses.nodes].map((b: any) => b.slug)).toEqual([...slugs].sort());
    });
  });
});
