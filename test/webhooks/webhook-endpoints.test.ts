import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { auditRows, createBookableBusiness, createPartner } from '../support/builders.js';

/**
 * Registering, resuming and deleting endpoints. No event ever happens to these businesses, so no
 * delivery is made here (sending is tested in webhook-delivery.test.ts).
 */

const CREATE = `mutation($input: WebhookEndpointCreateInput!) {
  webhookEndpointCreate(input: $input) {
    endpoint { id business { id } partner { id } url eventTypes status consecutiveFailures pausedAt pauseReason createdAt deliveries { nodes { id } pageInfo { hasNextPage endCursor } } }
    secret
    userErrors { field message code }
  }
}`;
const DELETE = `mutation($input: WebhookEndpointDeleteInput!) { webhookEndpointDelete(input: $input) { deletedEndpointId userErrors { field message code } } }`;
const RESUME = `mutation($input: WebhookEndpointResumeInput!) { webhookEndpointResume(input: $input) { endpoint { id status } userErrors { field message code } } }`;
const LIST = `query($slug: String!) { business(slug: $slug) { webhookEndpoints { id url } } }`;
const NODE = `query($id: ID!) { node(id: $id) { id ... on WebhookEndpoint { url } } }`;

describe('Mutation: webhookEndpointCreate, webhookEndpointDelete, webhookEndpointResume', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  async function scene() {
    const built = await createBookableBusiness(api.db, { partners: 2, slotCount: 1 });
    const [p0, p1] = built.partners;
    const tokens = await tokensFor(api, { businessGid: built.business.gid, partnerGid: p0.gid, customerGid: built.customer.gid });
    return { ...built, p0, p1, tokens };
  }

  const endpointCount = (businessId: string) =>
    api.db.selectFrom('webhook_endpoints').select((eb) => eb.fn.countAll<string>().as('n')).where('business_id', '=', businessId).executeTakeFirstOrThrow().then((r) => Number(r.n));

  async function create(token: string | undefined, input: Record<string, unknown>) {
    const res = await api.gql(CREATE, { input }, { token });
    return { errors: res.errors, payload: res.data?.webhookEndpointCreate };
  }

  it('registers a business-wide endpoint for staff and shows its secret once, in the payload only', async () => {
    const s = await scene();
    const { errors, payload } = await create(s.tokens.staff, { businessId: s.business.gid, url: 'HTTPS://Hooks.Example.com/booking?x=1', eventTypes: ['BOOKING_CREATED', 'BOOKING_CANCELLED', 'BOOKING_CREATED'] });
    expect(errors).toBeUndefined();
    expect(payload.userErrors).toEqual([]);
    expect(payload.endpoint).toMatchObject({
      business: { id: s.business.gid },
      partner: null,
      url: 'https://hooks.example.com/booking?x=1',
      eventTypes: ['BOOKING_CREATED', 'BOOKING_CANCELLED'],
      status: 'ACTIVE',
      consecutiveFailures: 0,
      pausedAt: null,
      pauseReason: null,
      deliveries: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } },
    });
    expect(payload.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const row = await api.db.selectFrom('webhook_endpoints').selectAll().where('business_id', '=', s.business.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ secret: payload.secret, partner_id: null, status: 'active', deleted_at: null });
    // The audit trail records the registration, never the secret.
    const audit = await auditRows(api.db, row.id, 'webhook_endpoint');
    expect(audit).toEqual([{
      businessId: s.business.id, entity: 'webhook_endpoint', action: 'webhook_endpoint.created', actor: 'staff:staff-1',
      changes: { after: { url: 'https://hooks.example.com/booking?x=1', eventTypes: ['BOOKING_CREATED', 'BOOKING_CANCELLED'], partnerId: null } },
    }]);
    expect(JSON.stringify(audit)).not.toContain(payload.secret);
    // Read again, the endpoint has no secret to show: the schema has no field for it.
    const again = await api.gql(NODE, { id: payload.endpoint.id }, { token: s.tokens.staff });
    expect(again.data.node).toEqual({ id: payload.endpoint.id, url: 'https://hooks.example.com/booking?x=1' });
  });

  it("registers staff endpoints for one partner, and a partner's only for themself", async () => {
    const s = await scene();
    const forP1 = await create(s.tokens.staff, { businessId: s.business.gid, partnerId: s.p1.gid, url: 'https://staff.example.com/p1', eventTypes: ['BOOKING_CREATED'] });
    expect(forP1.payload).toMatchObject({ endpoint: { partner: { id: s.p1.gid } }, userErrors: [] });
    const own = await create(s.tokens.partner, { businessId: s.business.gid, url: 'https://p0.example.com/a', eventTypes: ['BOOKING_CREATED'] });
    expect(own.payload).toMatchObject({ endpoint: { partner: { id: s.p0.gid } }, userErrors: [] });
    const ownNamed = await create(s.tokens.partner, { businessId: s.business.gid, partnerId: s.p0.gid, url: 'https://p0.example.com/b', eventTypes: ['BOOKING_CREATED'] });
    expect(ownNamed.payload).toMatchObject({ endpoint: { partner: { id: s.p0.gid } }, userErrors: [] });

    const forOther = await create(s.tokens.partner, { businessId: s.business.gid, partnerId: s.p1.gid, url: 'https://p0.example.com/c', eventTypes: ['BOOKING_CREATED'] });
    expect(forOther.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['FORBIDDEN', "Expected a partner to register webhook endpoints for themself only, got another partner's ID."]]);
    expect(await endpointCount(s.business.id)).toBe(3);
  });

  it('refuses customers (FORBIDDEN) and callers without a token (UNAUTHENTICATED), writing nothing', async () => {
    const s = await scene();
    const input = { businessId: s.business.gid, url: 'https://x.example.com/', eventTypes: ['BOOKING_CREATED'] };
    const customer = await create(s.tokens.customer, input);
    expect(customer.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['FORBIDDEN', 'Expected a staff, partner or admin token to manage webhook endpoints, got a customer token.']]);
    expect((await create(undefined, input)).errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(await endpointCount(s.business.id)).toBe(0);
  });

  it('answers bad input with a user error and writes nothing', async () => {
    const s = await scene();
    const other = await createBookableBusiness(api.db, { partners: 1, slotCount: 1 });
    const otherPartner = await createPartner(api.db, other.business);
    const valid = { businessId: s.business.gid, url: 'https://x.example.com/hook', eventTypes: ['BOOKING_CREATED'] };
    const longUrl = `https://x.example.com/${'a'.repeat(2048 - 'https://x.example.com/'.length + 1)}`;
    const cases: Array<[Record<string, unknown>, { field: string[] | null; message: string; code: string }]> = [
      [{ url: '/relative/path' }, { field: ['input', 'url'], message: 'Expected an absolute https:// or http:// URL, got "/relative/path".', code: 'INVALID_INPUT' }],
      [{ url: 'ftp://x.example.com/hook' }, { field: ['input', 'url'], message: 'Expected an absolute https:// or http:// URL, got "ftp://x.example.com/hook".', code: 'INVALID_INPUT' }],
      [{ url: 'javascript:alert(1)' }, { field: ['input', 'url'], message: 'Expected an absolute https:// or http:// URL, got "javascript:alert(1)".', code: 'INVALID_INPUT' }],
      [{ url: longUrl }, { field: ['input', 'url'], message: 'Expected a URL of at most 2048 characters, got 2049.', code: 'INVALID_INPUT' }],
      [{ url: 'https://user:secret@hooks.example.com/x' }, { field: ['input', 'url'], message: 'Expected a URL without user name or password; requests are authenticated by their signature.', code: 'INVALID_INPUT' }],
      [{ eventTypes: [] }, { field: ['input', 'eventTypes'], message: 'Expected at least one event type to send, got none.', code: 'INVALID_INPUT' }],
      [{ businessId: other.business.gid }, { field: ['input', 'businessId'], message: `Expected the ID of a business you manage, got "${other.business.gid}".`, code: 'NOT_FOUND' }],
      [{ businessId: 'not-an-id' }, { field: ['input', 'businessId'], message: 'Expected the ID of a business you manage, got "not-an-id".', code: 'NOT_FOUND' }],
      [{ partnerId: otherPartner.gid }, { field: ['input', 'partnerId'], message: `Expected the ID of a partner of the business, got "${otherPartner.gid}".`, code: 'NOT_FOUND' }],
      [{ partnerId: s.business.gid }, { field: ['input', 'partnerId'], message: `Expected the ID of a partner of the business, got "${s.business.gid}".`, code: 'NOT_FOUND' }],
    ];
    for (const [change, expected] of cases) {
      const { errors, payload } = await create(s.tokens.staff, { ...valid, ...change });
      expect(errors).toBeUndefined();
      expect(payload).toEqual({ endpoint: null, secret: null, userErrors: [expected] });
    }
    // A partner of another business asking for this one finds nothing either.
    const otherPartnerToken = (await tokensFor(api, { businessGid: other.business.gid, partnerGid: other.partners[0].gid })).partner;
    expect((await create(otherPartnerToken, valid)).payload.userErrors.map((e: any) => e.code)).toEqual(['NOT_FOUND']);
    expect(await endpointCount(s.business.id)).toBe(0);
    expect(await endpointCount(other.business.id)).toBe(0);
  });

  it('refuses a 21st live endpoint for a business, and takes one again after a deletion', async () => {
    const s = await scene();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const { payload } = await create(s.tokens.staff, { businessId: s.business.gid, url: `https://x.example.com/${i}`, eventTypes: ['BOOKING_CREATED'] });
      expect(payload.userErrors).toEqual([]);
      ids.push(payload.endpoint.id);
    }
    const over = await create(s.tokens.staff, { businessId: s.business.gid, url: 'https://x.example.com/20', eventTypes: ['BOOKING_CREATED'] });
    expect(over.payload).toEqual({
      endpoint: null,
      secret: null,
      userErrors: [{ field: null, message: 'A business may have at most 20 webhook endpoints and this one has 20; delete one first.', code: 'INVALID_INPUT' }],
    });
    expect(await endpointCount(s.business.id)).toBe(20);

    expect((await api.gql(DELETE, { input: { endpointId: ids[0] } }, { token: s.tokens.staff })).data.webhookEndpointDelete).toEqual({ deletedEndpointId: ids[0], userErrors: [] });
    expect((await create(s.tokens.staff, { businessId: s.business.gid, url: 'https://x.example.com/20', eventTypes: ['BOOKING_CREATED'] })).payload.userErrors).toEqual([]);
  });

  it('gives a retry with the same idempotency key the same endpoint and secret, and creates one', async () => {
    const s = await scene();
    const input = { businessId: s.business.gid, url: 'https://x.example.com/once', eventTypes: ['BOOKING_CREATED'], idempotencyKey: 'create-hook-1' };
    const first = await create(s.tokens.staff, input);
    const second = await create(s.tokens.staff, input);
    expect(second.payload).toEqual(first.payload);
    expect(first.payload.secret).toMatch(/^whsec_/);
    expect(await endpointCount(s.business.id)).toBe(1);
  });

  it('deletes an endpoint: it then reads as missing, for everyone', async () => {
    const s = await scene();
    const wide = (await create(s.tokens.staff, { businessId: s.business.gid, url: 'https://x.example.com/wide', eventTypes: ['BOOKING_CREATED'] })).payload.endpoint.id;
    const own = (await create(s.tokens.partner, { businessId: s.business.gid, url: 'https://x.example.com/own', eventTypes: ['BOOKING_CREATED'] })).payload.endpoint.id;
    const other = await createBookableBusiness(api.db, { partners: 1, slotCount: 1 });
    const otherStaff = (await tokensFor(api, { businessGid: other.business.gid })).staff;

    // Neither another business's staff nor the partner (for the business-wide endpoint) may delete it.
    for (const token of [otherStaff, s.tokens.partner]) {
      const res = await api.gql(DELETE, { input: { endpointId: wide } }, { token });
      expect(res.data.webhookEndpointDelete).toEqual({ deletedEndpointId: null, userErrors: [{ field: ['input', 'endpointId'], message: `Expected the ID of a webhook endpoint you may manage, got "${wide}".`, code: 'NOT_FOUND' }] });
    }
    expect((await api.gql(DELETE, { input: { endpointId: own } }, { token: s.tokens.customer })).errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);

    expect((await api.gql(DELETE, { input: { endpointId: own } }, { token: s.tokens.partner })).data.webhookEndpointDelete).toEqual({ deletedEndpointId: own, userErrors: [] });
    expect((await api.gql(DELETE, { input: { endpointId: wide } }, { token: s.tokens.staff })).data.webhookEndpointDelete).toEqual({ deletedEndpointId: wide, userErrors: [] });
    expect((await api.gql(DELETE, { input: { endpointId: wide } }, { token: s.tokens.staff })).data.webhookEndpointDelete.userErrors.map((e: any) => e.code)).toEqual(['NOT_FOUND']);
    expect((await api.gql(NODE, { id: wide }, { token: s.tokens.staff })).data.node).toBeNull();
    expect((await api.gql(LIST, { slug: s.business.slug }, { token: s.tokens.staff })).data.business.webhookEndpoints).toEqual([]);
    expect((await api.gql(RESUME, { input: { endpointId: wide } }, { token: s.tokens.staff })).data.webhookEndpointResume.userErrors.map((e: any) => e.code)).toEqual(['NOT_FOUND']);
    // Soft-deleted: the row stays for the audit trail and the delivery log's history.
    const rows = await api.db.selectFrom('webhook_endpoints').select(['deleted_at']).where('business_id', '=', s.business.id).execute();
    expect(rows.every((r) => r.deleted_at !== null)).toBe(true);
  });

  it('returns an active endpoint unchanged on resume, without an audit row', async () => {
    const s = await scene();
    const id = (await create(s.tokens.staff, { businessId: s.business.gid, url: 'https://x.example.com/a', eventTypes: ['BOOKING_CREATED'] })).payload.endpoint.id;
    const res = await api.gql(RESUME, { input: { endpointId: id } }, { token: s.tokens.partner });
    expect(res.data.webhookEndpointResume.userErrors.map((e: any) => e.code)).toEqual(['NOT_FOUND']);
    expect((await api.gql(RESUME, { input: { endpointId: id } }, { token: s.tokens.staff })).data.webhookEndpointResume).toEqual({ endpoint: { id, status: 'ACTIVE' }, userErrors: [] });
    const rawId = Buffer.from(id, 'base64url').toString().split(':')[1];
    expect((await auditRows(api.db, rawId, 'webhook_endpoint')).map((r) => r.action)).toEqual(['webhook_endpoint.created']);
  });
});
