import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';
import {
  createBooking,
  createBusiness,
  createCustomer,
  createPartner,
  createPayment,
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

/**
 * Tenant and role boundaries on reads. Business A has two partners and two customers, with one
 * booking for each (partner, customer) pair; business B has one of each. An object the caller may
 * not see must read exactly like a missing one: `null` from node(id), absent from lists.
 */
interface World {
  business: BuiltBusiness;
  service: BuiltService;
  partners: BuiltPartner[];
  customers: BuiltCustomer[];
  slots: BuiltSlot[][];
  /** bookings[p][c]: the booking of partner p for customer c. */
  bookings: BuiltBooking[][];
  /** payments[p][c]: the one payment of that booking. */
  payments: Array<Array<{ id: string; gid: string }>>;
}

function tomorrowAt(hour: number): Date {
  const start = new Date();
  start.setUTCDate(start.getUTCDate() + 1);
  start.setUTCHours(hour, 0, 0, 0);
  return start;
}

async function buildWorld(api: TestApi, partnerCount: number, customerCount: number): Promise<World> {
  const business = await createBusiness(api.db, { name: `Visibility ${uniqueSuffix()}` });
  const service = await createService(api.db, business, { durationMinutes: 30 });
  const partners: BuiltPartner[] = [];
  const slots: BuiltSlot[][] = [];
  for (let p = 0; p < partnerCount; p++) {
    const partner = await createPartner(api.db, business, { name: `Partner ${p} ${uniqueSuffix()}` });
    partners.push(partner);
    slots.push(await createSlots(api.db, business, partner, tomorrowAt(9), 8));
  }
  const customers: BuiltCustomer[] = [];
  // Named so that alphabetical order is creation order.
  for (let c = 0; c < customerCount; c++) customers.push(await createCustomer(api.db, business, { name: `Customer ${c}` }));
  const bookings: BuiltBooking[][] = [];
  const payments: World['payments'] = [];
  for (let p = 0; p < partnerCount; p++) {
    bookings.push([]);
    payments.push([]);
    for (let c = 0; c < customerCount; c++) {
      const booking = await createBooking(api.db, { business, service, partner: partners[p], customer: customers[c], slots: [slots[p][c]], status: 'confirmed' });
      bookings[p].push(booking);
      payments[p].push(await createPayment(api.db, { business, booking }));
    }
  }
  return { business, service, partners, customers, slots, bookings, payments };
}

const NODE = `query Node($id: ID!) { node(id: $id) { id __typename } }`;
const BUSINESS_BOOKINGS = `query BusinessBookings($slug: String!) {
  business(slug: $slug) { id bookings(first: 100) { nodes { id partner { id } customer { id } } } }
}`;
const BUSINESS_CUSTOMERS = `query BusinessCustomers($slug: String!) {
  business(slug: $slug) { customers(first: 100) { nodes { id email } pageInfo { hasNextPage } } }
}`;

describe('Read API: who sees which bookings, customers and payments', () => {
  let api: TestApi;
  let a: World;
  let b: World;
  const tokens = {} as { admin: string; staffA: string; partnerA0: string; customerA0: string };

  beforeAll(async () => {
    api = await startTestApi();
    a = await buildWorld(api, 2, 2);
    b = await buildWorld(api, 1, 1);
    tokens.admin = await api.token({ sub: 'admin-vis', role: 'admin' });
    tokens.staffA = await api.token({ sub: 'staff-a', role: 'staff', business_id: a.business.gid });
    tokens.partnerA0 = await api.token({ sub: 'partner-a0', role: 'partner', business_id: a.business.gid, partner_id: a.partners[0].gid });
    tokens.customerA0 = await api.token({ sub: 'customer-a0', role: 'customer', business_id: a.business.gid, customer_id: a.customers[0].gid });
  });
  afterAll(() => api.close());

  async function nodeAs(token: string | undefined, id: string) {
    const res = await api.gql(NODE, { id }, { token });
    expect(res.errors).toBeUndefined();
    return res.data.node as { id: string; __typename: string } | null;
  }

  async function businessBookingIds(token: string | undefined, slug: string): Promise<string[]> {
    const res = await api.gql(BUSINESS_BOOKINGS, { slug }, { token });
    expect(res.errors).toBeUndefined();
    return res.data.business.bookings.nodes.map((n: any) => n.id).sort();
  }

  const gids = (items: Array<{ gid: string }>) => items.map((i) => i.gid).sort();

  describe('staff', () => {
    it("sees every booking, customer and payment of their business through node(id)", async () => {
      expect(await nodeAs(tokens.staffA, a.bookings[1][0].gid)).toEqual({ id: a.bookings[1][0].gid, __typename: 'Booking' });
      expect(await nodeAs(tokens.staffA, a.customers[1].gid)).toEqual({ id: a.customers[1].gid, __typename: 'Customer' });
      expect(await nodeAs(tokens.staffA, a.payments[1][1].gid)).toEqual({ id: a.payments[1][1].gid, __typename: 'Payment' });
    });

    it("reads another business's booking, customer and payment as null through node(id)", async () => {
      expect(await nodeAs(tokens.staffA, b.bookings[0][0].gid)).toBeNull();
      expect(await nodeAs(tokens.staffA, b.customers[0].gid)).toBeNull();
      expect(await nodeAs(tokens.staffA, b.payments[0][0].gid)).toBeNull();
    });

    it("lists all of their business's bookings, and none of another business's", async () => {
      expect(await businessBookingIds(tokens.staffA, a.business.slug)).toEqual(gids(a.bookings.flat()));
      expect(await businessBookingIds(tokens.staffA, b.business.slug)).toEqual([]);
    });

    it("sees an empty page in Partner.bookings of another business's partner", async () => {
      // The partner is public catalog, so node(id) finds them; their bookings are not the caller's to see.
      const res = await api.gql(`query($id: ID!) { node(id: $id) { ... on Partner { id bookings { nodes { id } } } } }`, { id: b.partners[0].gid }, { token: tokens.staffA });
      expect(res.errors).toBeUndefined();
      expect(res.data.node).toEqual({ id: b.partners[0].gid, bookings: { nodes: [] } });
    });
  });

  describe('a partner', () => {
    it('lists only their own bookings in Business.bookings', async () => {
      expect(await businessBookingIds(tokens.partnerA0, a.business.slug)).toEqual(gids(a.bookings[0]));
      expect(await businessBookingIds(tokens.partnerA0, b.business.slug)).toEqual([]);
    });

    it("reads another partner's booking and its payment as null, and their own as themselves", async () => {
      expect(await nodeAs(tokens.partnerA0, a.bookings[1][0].gid)).toBeNull();
      expect(await nodeAs(tokens.partnerA0, a.payments[1][0].gid)).toBeNull();
      expect(await nodeAs(tokens.partnerA0, a.bookings[0][1].gid)).toEqual({ id: a.bookings[0][1].gid, __typename: 'Booking' });
      expect(await nodeAs(tokens.partnerA0, a.payments[0][1].gid)).toEqual({ id: a.payments[0][1].gid, __typename: 'Payment' });
    });

    it("sees an empty page in another partner's Partner.bookings", async () => {
      const res = await api.gql(`query($id: ID!) { node(id: $id) { ... on Partner { bookings { nodes { id } } } } }`, { id: a.partners[1].gid }, { token: tokens.partnerA0 });
      expect(res.errors).toBeUndefined();
      expect(res.data.node.bookings.nodes).toEqual([]);
    });

    it("sees the customers of their business (to know whom they serve), only their own bookings of each", async () => {
      const res = await api.gql(`query($id: ID!) { node(id: $id) { ... on Customer { id bookings { nodes { id } } } } }`, { id: a.customers[1].gid }, { token: tokens.partnerA0 });
      expect(res.errors).toBeUndefined();
      expect(res.data.node).toEqual({ id: a.customers[1].gid, bookings: { nodes: [{ id: a.bookings[0][1].gid }] } });
      expect(await nodeAs(tokens.partnerA0, b.customers[0].gid)).toBeNull();
    });
  });

  describe('a customer', () => {
    it('lists only their own bookings in Business.bookings and Customer.bookings', async () => {
      const own = [a.bookings[0][0], a.bookings[1][0]];
      expect(await businessBookingIds(tokens.customerA0, a.business.slug)).toEqual(gids(own));
      const res = await api.gql(`{ viewer { customer { id bookings { nodes { id } } } } }`, {}, { token: tokens.customerA0 });
      expect(res.errors).toBeUndefined();
      expect(res.data.viewer.customer.id).toBe(a.customers[0].gid);
      expect(res.data.viewer.customer.bookings.nodes.map((n: any) => n.id).sort()).toEqual(gids(own));
    });

    it("reads another customer, their booking and their payment as null", async () => {
      expect(await nodeAs(tokens.customerA0, a.customers[1].gid)).toBeNull();
      expect(await nodeAs(tokens.customerA0, a.bookings[0][1].gid)).toBeNull();
      expect(await nodeAs(tokens.customerA0, a.payments[0][1].gid)).toBeNull();
      expect(await nodeAs(tokens.customerA0, a.customers[0].gid)).toEqual({ id: a.customers[0].gid, __typename: 'Customer' });
      expect(await nodeAs(tokens.customerA0, a.payments[1][0].gid)).toEqual({ id: a.payments[1][0].gid, __typename: 'Payment' });
    });

    it("sees only their own bookings in a partner's Partner.bookings", async () => {
      const res = await api.gql(`query($id: ID!) { node(id: $id) { ... on Partner { bookings { nodes { id } } } } }`, { id: a.partners[1].gid }, { token: tokens.customerA0 });
      expect(res.errors).toBeUndefined();
      expect(res.data.node.bookings.nodes).toEqual([{ id: a.bookings[1][0].gid }]);
    });
  });

  describe('anonymous', () => {
    it('gets a top-level UNAUTHENTICATED error for Business.bookings', async () => {
      const res = await api.gql(BUSINESS_BOOKINGS, { slug: a.business.slug });
      expect(res.status).toBe(200);
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0].extensions?.code).toBe('UNAUTHENTICATED');
      expect(res.errors![0].path).toEqual(['business', 'bookings']);
      // bookings is non-null, so the error nulls the business.
      expect(res.data.business).toBeNull();
    });

    it('gets a top-level UNAUTHENTICATED error for Partner.bookings', async () => {
      const res = await api.gql(`query($id: ID!) { node(id: $id) { ... on Partner { bookings { nodes { id } } } } }`, { id: a.partners[0].gid });
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
      expect(res.data.node).toBeNull();
    });

    it('reads bookings, customers and payments as null through node(id)', async () => {
      expect(await nodeAs(undefined, a.bookings[0][0].gid)).toBeNull();
      expect(await nodeAs(undefined, a.customers[0].gid)).toBeNull();
      expect(await nodeAs(undefined, a.payments[0][0].gid)).toBeNull();
    });

    it('reads the catalog: the business, its services, its partners and their slots', async () => {
      const from = tomorrowAt(0).toISOString();
      const to = tomorrowAt(23).toISOString();
      const res = await api.gql(
        `query($slug: String!, $from: DateTime!, $to: DateTime!) {
          business(slug: $slug) {
            id
            services { nodes { id } }
            partners { nodes { id slots(from: $from, to: $to) { id status startsAt } } }
          }
        }`,
        { slug: a.business.slug, from, to },
      );
      expect(res.errors).toBeUndefined();
      expect(res.data.business.id).toBe(a.business.gid);
      expect(res.data.business.services.nodes).toEqual([{ id: a.service.gid }]);
      const partners = res.data.business.partners.nodes;
      expect(partners.map((p: any) => p.id).sort()).toEqual(gids(a.partners));
      for (const partner of partners) {
        const p = a.partners.findIndex((built) => built.gid === partner.id);
        // Slots 0 and 1 are booked (one per customer), the other six are free.
        expect(partner.slots).toEqual(
          a.slots[p].map((slot, i) => ({ id: slot.gid, startsAt: slot.startsAt, status: i < 2 ? 'BOOKED' : 'AVAILABLE' })),
        );
      }
    });
  });

  describe('nodes(ids)', () => {
    it('answers visible and hidden objects in the order asked, hidden and unknown ones as null', async () => {
      const ids = [
        a.bookings[0][0].gid, // own booking
        a.bookings[1][0].gid, // another partner's booking
        b.bookings[0][0].gid, // another business's booking
        a.customers[1].gid, // a customer of their business
        b.customers[0].gid, // a customer of another business
        a.service.gid, // catalog
        'not-an-id', // garbage
        a.payments[0][1].gid, // payment of an own booking
        a.payments[1][1].gid, // payment of another partner's booking
        b.partners[0].gid, // catalog of another business
      ];
      const res = await api.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }`, { ids }, { token: tokens.partnerA0 });
      expect(res.errors).toBeUndefined();
      expect(res.data.nodes).toEqual([
        { id: a.bookings[0][0].gid, __typename: 'Booking' },
        null,
        null,
        { id: a.customers[1].gid, __typename: 'Customer' },
        null,
        { id: a.service.gid, __typename: 'Service' },
        null,
        { id: a.payments[0][1].gid, __typename: 'Payment' },
        null,
        { id: b.partners[0].gid, __typename: 'Partner' },
      ]);
    });
  });

  describe('an admin', () => {
    it('sees every business\'s bookings, customers and payments', async () => {
      expect(await businessBookingIds(tokens.admin, a.business.slug)).toEqual(gids(a.bookings.flat()));
      expect(await businessBookingIds(tokens.admin, b.business.slug)).toEqual(gids(b.bookings.flat()));
      for (const id of [b.bookings[0][0].gid, b.customers[0].gid, b.payments[0][0].gid, a.customers[1].gid, a.payments[1][1].gid]) {
        expect((await nodeAs(tokens.admin, id))?.id).toBe(id);
      }
    });
  });

  describe('Business.customers', () => {
    it("lists the business's customers alphabetically for its staff and for admins", async () => {
      const staff = await api.gql(BUSINESS_CUSTOMERS, { slug: a.business.slug }, { token: tokens.staffA });
      expect(staff.errors).toBeUndefined();
      expect(staff.data.business.customers).toEqual({
        nodes: a.customers.map((c) => ({ id: c.gid, email: c.email })),
        pageInfo: { hasNextPage: false },
      });
      const admin = await api.gql(BUSINESS_CUSTOMERS, { slug: b.business.slug }, { token: tokens.admin });
      expect(admin.data.business.customers.nodes).toEqual([{ id: b.customers[0].gid, email: b.customers[0].email }]);
    });

    it('is an empty page for partners, customers, anonymous callers and staff of another business', async () => {
      const callers: Array<[string, string | undefined, string]> = [
        ['partner', tokens.partnerA0, a.business.slug],
        ['customer', tokens.customerA0, a.business.slug],
        ['anonymous', undefined, a.business.slug],
        ['staff of another business', tokens.staffA, b.business.slug],
      ];
      for (const [who, token, slug] of callers) {
        const res = await api.gql(BUSINESS_CUSTOMERS, { slug }, { token });
        expect(res.errors, who).toBeUndefined();
        expect(res.data.business.customers, who).toEqual({ nodes: [], pageInfo: { hasNextPage: false } });
      }
    });
  });
});
