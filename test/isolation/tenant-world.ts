import { sql } from 'kysely';
import { expect } from 'vitest';
import { insertMembership, upsertAccount } from '../../src/accounts/accounts.repository.js';
import { toGlobalId, type NodeType } from '../../src/shared/global-id.js';
import { tokensFor, type TestApi } from '../support/api.js';
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

/**
 * One tenant with one of everything, for the isolation matrix: the builders set the catalog and
 * the bookings in every status; schedules, holds, payments, webhook endpoints, booking events and
 * webhook deliveries go through the real mutations (and the relay), the way they come to exist.
 */
export interface Tenant {
  label: string;
  business: BuiltBusiness;
  service: BuiltService;
  partner: BuiltPartner;
  otherPartner: BuiltPartner;
  customer: BuiltCustomer;
  slots: BuiltSlot[];
  /** Service tokens (staff, partner, customer, admin) and the account token of the business's owner. */
  tokens: { staff: string; partner: string; customer: string; admin: string; owner: string };
  /** The owner's account (an account token: its memberships decide). */
  ownerAccountId: string;
  /** One ID of the tenant per type, a representative to fill inputs with (e.g. the partner's own booking). */
  sample: Partial<Record<NodeType, string>>;
  /** Strings that belong to this tenant's private data: a response to another tenant must contain none. */
  privateMarkers: string[];
  /** The tenant's public names and slugs. */
  publicMarkers: string[];
  /** The seed's mutations, each sent with an idempotency key of the tenant's own. */
  keyed: KeyedMutation[];
}

export interface KeyedMutation {
  query: string;
  input: Record<string, unknown>;
  key: string;
  role: 'staff' | 'partner' | 'customer';
}

const SCHEDULE_SET = `mutation($input: PartnerScheduleSetInput!) { partnerScheduleSet(input: $input) { userErrors { field message code } } }`;
const EXCEPTION_SET = `mutation($input: PartnerExceptionSetInput!) { partnerExceptionSet(input: $input) { userErrors { field message code } } }`;
const MESSAGE_SEND = `mutation($input: MessageSendInput!) { messageSend(input: $input) { message { id } userErrors { field message code } } }`;
const SLOT_HOLD = `mutation($input: SlotHoldInput!) { slotHold(input: $input) { hold { id } userErrors { field message code } } }`;
const BOOKING_CREATE = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { field message code } } }`;
const BOOKING_CONFIRM = `mutation($input: BookingConfirmInput!) { bookingConfirm(input: $input) { booking { id } userErrors { field message code } } }`;
const PAYMENT_CREATE = `mutation($input: PaymentCreateInput!) { paymentCreate(input: $input) { payment { id providerTxnId } userErrors { field message code } } }`;
const ENDPOINT_CREATE = `mutation($input: WebhookEndpointCreateInput!) { webhookEndpointCreate(input: $input) { endpoint { id } secret userErrors { field message code } } }`;
const ENDPOINT_DELETE = `mutation($input: WebhookEndpointDeleteInput!) { webhookEndpointDelete(input: $input) { deletedEndpointId userErrors { field message code } } }`;
const REVIEW_CREATE = `mutation($input: ReviewCreateInput!) { reviewCreate(input: $input) { review { id } userErrors { field message code } } }`;
const PAYOUT_CREATE = `mutation($input: PayoutCreateInput!) { payoutCreate(input: $input) { payout { id } userErrors { field message code } } }`;
const SLOT_BLOCK = `mutation($input: SlotBlockInput!) { slotBlock(input: $input) { slot { id } userErrors { field message code } } }`;
const ALL_EVENTS = ['BOOKING_CREATED', 'BOOKING_CONFIRMED', 'BOOKING_CANCELLED', 'BOOKING_RESCHEDULED', 'BOOKING_COMPLETED', 'BOOKING_NO_SHOW', 'PAYMENT_STATUS_CHANGED', 'MESSAGE_POSTED'];

/** Tomorrow at `hour`:00 UTC plus `days`. */
export function dayAt(days: number, hour: number): Date {
  const at = new Date();
  at.setUTCDate(at.getUTCDate() + days);
  at.setUTCHours(hour, 0, 0, 0);
  return at;
}

export async function seedTenant(api: TestApi, label: string): Promise<Tenant> {
  const db = api.db;
  const tag = `${label}${uniqueSuffix()}`;
  const business = await createBusiness(db, { slug: `tenant-${tag.toLowerCase()}`, name: `Tenant ${tag} Business` });
  const service = await createService(db, business, { name: `Tenant ${tag} Service`, durationMinutes: 30 });
  await createService(db, business, { name: `Tenant ${tag} Retired service`, isActive: false });
  const partner = await createPartner(db, business, { name: `Tenant ${tag} Partner` });
  const otherPartner = await createPartner(db, business, { name: `Tenant ${tag} Other partner` });
  const customer = await createCustomer(db, business, { name: `Tenant ${tag} Customer`, email: `customer-${tag.toLowerCase()}@tenant.example` });
  const slots = await createSlots(db, business, partner, dayAt(1, 9), 12);
  await createSlots(db, business, otherPartner, dayAt(1, 9), 4);
  await createSlots(db, business, partner, dayAt(2, 9), 2, { status: 'blocked' });
  // The same subjects in every tenant (tokensFor's `staff-1`, ...), as when two tenants sign in
  // through different identity providers: nothing may rest on a subject being unique.
  const tokens = { ...(await tokensFor(api, { businessGid: business.gid, partnerGid: partner.gid, customerGid: customer.gid })) } as Tenant['tokens'];
  // Accounts are people: a subject of its own per tenant. The owner's membership, and the other
  // partner's account (so that the tenant has a membership of each kind).
  const ownerSubject = `owner-${tag.toLowerCase()}`;
  const ownerEmail = `${ownerSubject}@tenant.example`;
  const ownerAccountId = await upsertAccount(db, { issuer: '', subject: ownerSubject, email: ownerEmail, name: `Tenant ${tag} Owner` });
  await insertMembership(db, { accountId: ownerAccountId, businessId: business.id, role: 'owner', partnerId: null });
  const partnerAccountId = await upsertAccount(db, { issuer: '', subject: `partner-${tag.toLowerCase()}`, email: null, name: null });
  await insertMembership(db, { accountId: partnerAccountId, businessId: business.id, role: 'partner', partnerId: otherPartner.id });
  tokens.owner = await api.token({ sub: ownerSubject, email: ownerEmail, name: `Tenant ${tag} Owner` });
  const keyed: KeyedMutation[] = [];
  /** Runs a mutation that must succeed, with an idempotency key of this tenant's, and records it. */
  const mutate = async (query: string, input: Record<string, unknown>, role: KeyedMutation['role']) => {
    const key = `${label}-${keyed.length + 1}`;
    keyed.push({ query, input, key, role });
    const res = await api.gql(query, { input }, { token: tokens[role], headers: { 'idempotency-key': key } });
    expect(res.errors, `${query} in the seed of tenant ${label}`).toBeUndefined();
    const payload = Object.values(res.data as Record<string, any>)[0];
    expect(payload.userErrors, `${query} in the seed of tenant ${label}`).toEqual([]);
    return payload;
  };

  // Bookings in every final and open status, written as the API writes them.
  const booked = (i: number, status: 'pending' | 'confirmed' | 'cancelled' | 'completed' | 'no_show') =>
    createBooking(db, { business, service, partner, customer, slots: [slots[i]], status });
  const pending = await booked(0, 'pending');
  const confirmed = await booked(1, 'confirmed');
  await booked(2, 'cancelled');
  const completed = await booked(3, 'completed');
  await booked(4, 'no_show');
  const paid = await booked(5, 'confirmed');
  const succeeded = await createPayment(db, { business, booking: paid, status: 'succeeded' });

  await mutate(SCHEDULE_SET, { partnerId: partner.gid, effectiveFrom: '2031-01-06', weeklyHours: [{ dayOfWeek: 'MONDAY', startTime: '09:00', endTime: '17:00' }] }, 'staff');
  await mutate(EXCEPTION_SET, { partnerId: partner.gid, date: '2031-01-13', closed: true }, 'staff');

  // Endpoints before the events, so that the relay makes deliveries of them.
  const businessWide = await mutate(ENDPOINT_CREATE, { businessId: business.gid, url: `https://hooks.example/${tag}/all`, eventTypes: ALL_EVENTS }, 'staff');
  const ownHook = await mutate(ENDPOINT_CREATE, { businessId: business.gid, partnerId: partner.gid, url: `https://hooks.example/${tag}/own`, eventTypes: ALL_EVENTS }, 'partner');
  const doomed = await mutate(ENDPOINT_CREATE, { businessId: business.gid, url: `https://hooks.example/${tag}/doomed`, eventTypes: ['BOOKING_CREATED'] }, 'staff');
  await mutate(ENDPOINT_DELETE, { endpointId: doomed.endpoint.id }, 'staff');

  const hold = await mutate(SLOT_HOLD, { slotIds: [slots[8].gid] }, 'customer');
  const created = await mutate(BOOKING_CREATE, { slotIds: [slots[6].gid] }, 'customer');
  await mutate(BOOKING_CONFIRM, { bookingId: created.booking.id }, 'staff');
  const payment = await mutate(PAYMENT_CREATE, { bookingId: pending.gid, provider: 'test' }, 'customer');
  await mutate(SLOT_BLOCK, { slotId: slots[11].gid }, 'staff');
  const review = await mutate(REVIEW_CREATE, { bookingId: completed.gid, rating: 4, text: `Tenant ${tag} review` }, 'customer');
  // The succeeded payment's event, as its capture wrote it, earns the partner a share when relayed.
  await sql`UPDATE businesses SET partner_share_bps = 2000 WHERE id = ${business.id}::bigint`.execute(db);
  await sql`INSERT INTO booking_events (business_id, booking_id, payment_id, partner_ids, type, data)
    VALUES (${business.id}::bigint, ${paid.id}::bigint, ${succeeded.id}::bigint, ARRAY[${partner.id}::bigint], 'PAYMENT_STATUS_CHANGED',
      ${JSON.stringify({ booking: { status: 'CONFIRMED', partnerId: partner.id, startsAt: slots[5].startsAt, endsAt: slots[5].endsAt }, payment: { status: 'SUCCEEDED', previousStatus: 'PENDING', amountCents: 2500, currency: business.currency, provider: 'test' } })}::jsonb)`.execute(db);
  // A thread on the confirmed booking: one message of each side.
  await mutate(MESSAGE_SEND, { bookingId: created.booking.id, body: `Private note of tenant ${tag}` }, 'customer');
  await mutate(MESSAGE_SEND, { bookingId: created.booking.id, body: `Reply of tenant ${tag}` }, 'staff');

  await api.app.relay.kick();
  const payout = await mutate(PAYOUT_CREATE, { partnerId: partner.gid }, 'staff');
  const deliveries = await sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_deliveries WHERE business_id = ${business.id}::bigint`.execute(db);
  expect(deliveries.rows[0].n, `webhook deliveries of tenant ${label}`).toBeGreaterThan(0);
  // Nobody sends them: no dispatcher runs here, and settled ones are never claimed.
  await sql`UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = 'infinity', attempts = 1, last_error = 'settled by the seed' WHERE business_id = ${business.id}::bigint`.execute(db);

  const customerRow = await db.selectFrom('customers').select(['email', 'name']).where('id', '=', customer.id).executeTakeFirstOrThrow();
  return {
    label,
    business,
    service,
    partner,
    otherPartner,
    customer,
    slots,
    tokens,
    sample: {
      Business: business.gid,
      Service: service.gid,
      Partner: partner.gid,
      Customer: customer.gid,
      Slot: slots[10].gid,
      Booking: confirmed.gid,
      Payment: succeeded.gid,
      SlotHold: hold.hold.id,
      WebhookEndpoint: ownHook.endpoint.id,
      Review: review.review.id,
      Payout: payout.payout.id,
    },
    ownerAccountId,
    privateMarkers: [`Private note of tenant ${tag}`, ownerEmail, customerRow.email, customerRow.name, `hooks.example/${tag}`, businessWide.secret, ownHook.secret, payment.payment.providerTxnId],
    publicMarkers: [business.slug, `Tenant ${tag}`],
    keyed,
  };
}

/** The table of each Node type; a type missing here fails the completeness guard. */
export const NODE_TABLES: Record<NodeType, { table: string; tenantColumn: string }> = {
  Business: { table: 'businesses', tenantColumn: 'id' },
  Service: { table: 'services', tenantColumn: 'business_id' },
  Partner: { table: 'partners', tenantColumn: 'business_id' },
  Customer: { table: 'customers', tenantColumn: 'business_id' },
  Slot: { table: 'partner_slots', tenantColumn: 'business_id' },
  Booking: { table: 'bookings', tenantColumn: 'business_id' },
  Payment: { table: 'payments', tenantColumn: 'business_id' },
  SlotHold: { table: 'slot_holds', tenantColumn: 'business_id' },
  WebhookEndpoint: { table: 'webhook_endpoints', tenantColumn: 'business_id' },
  WebhookDelivery: { table: 'webhook_deliveries', tenantColumn: 'business_id' },
  Membership: { table: 'memberships', tenantColumn: 'business_id' },
  Review: { table: 'reviews', tenantColumn: 'business_id' },
  Payout: { table: 'payouts', tenantColumn: 'business_id' },
  Message: { table: 'messages', tenantColumn: 'business_id' },
};

/**
 * Every global ID of a tenant, by type, read from the tables (not from what the seed remembers),
 * with the row's `status` where the table has one, so that samples can cover every state.
 */
export interface TenantId {
  gid: string;
  status: string | null;
  /** Soft-deleted: gone for everyone, admins included. */
  deleted: boolean;
}

export async function tenantIds(api: TestApi, businessId: string, types: readonly string[]): Promise<Map<string, TenantId[]>> {
  const ids = new Map<string, TenantId[]>();
  for (const type of types) {
    const mapping = NODE_TABLES[type as NodeType];
    if (!mapping) continue;
    const columns = await sql<{ column_name: string }>`
      SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ${mapping.table}`.execute(api.db);
    const has = (column: string) => columns.rows.some((c) => c.column_name === column);
    const rows = await sql<{ id: string; status: string | null; deleted: boolean }>`
      SELECT id::text AS id, ${has('status') ? sql.ref('status') : sql`NULL::text`} AS status,
        ${has('deleted_at') ? sql`deleted_at IS NOT NULL` : sql`false`} AS deleted
      FROM ${sql.table(mapping.table)} WHERE ${sql.ref(mapping.tenantColumn)} = ${businessId}::bigint ORDER BY id`.execute(api.db);
    ids.set(type, rows.rows.map((r) => ({ gid: toGlobalId(type as NodeType, r.id), status: r.status, deleted: r.deleted })));
  }
  return ids;
}

/**
 * A checksum of a tenant's rows in every table that names a business (found in the catalog, so a
 * new table is covered without anyone listing it): compare before and after to prove nothing of
 * the tenant changed.
 */
export async function tenantChecksums(api: TestApi, businessId: string): Promise<Record<string, string>> {
  const tables = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.columns
    WHERE table_schema = 'public' AND column_name = 'business_id' ORDER BY table_name`.execute(api.db);
  const sums: Record<string, string> = {};
  for (const { table_name } of [{ table_name: 'businesses' }, ...tables.rows]) {
    const column = table_name === 'businesses' ? 'id' : 'business_id';
    const row = await sql<{ n: number; sum: string | null }>`
      SELECT count(*)::int AS n, md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))) AS sum
      FROM ${sql.table(table_name)} AS t WHERE ${sql.ref(column)} = ${businessId}::bigint`.execute(api.db);
    sums[table_name] = `${row.rows[0].n}:${row.rows[0].sum}`;
  }
  return sums;
}
