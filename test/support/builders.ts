import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../../src/db/sql-helpers.js';
import type { BookingStatusColumn, BusinessKindColumn, SlotStatusColumn } from '../../src/db/tables.js';
import { toGlobalId } from '../../src/shared/global-id.js';

/**
 * Seed builders: each test makes the rows it needs, with unique slugs and e-mails, so tests never
 * depend on each other's data and can share one database. Builders write rows directly (they set
 * the scene); the behaviour under test always goes through the GraphQL API.
 */
export function uniqueSuffix(): string {
  return randomUUID().slice(0, 8);
}

export interface BuiltBusiness { id: string; gid: string; slug: string; timeZone: string; currency: string }
export interface BuiltService { id: string; gid: string; durationMinutes: number; priceCents: number }
export interface BuiltPartner { id: string; gid: string; name: string }
export interface BuiltCustomer { id: string; gid: string; email: string }
export interface BuiltSlot { id: string; gid: string; startsAt: string; endsAt: string }
export interface BuiltBooking { id: string; gid: string }

export async function createBusiness(db: Db, overrides: Partial<{ slug: string; name: string; kind: BusinessKindColumn; city: string; timeZone: string; currency: string }> = {}): Promise<BuiltBusiness> {
  const slug = overrides.slug ?? `biz-${uniqueSuffix()}`;
  const row = await db
    .insertInto('businesses')
    .values({
      slug,
      name: overrides.name ?? `Business ${slug}`,
      kind: overrides.kind ?? 'salon',
      city: overrides.city ?? 'Berlin',
      time_zone: overrides.timeZone ?? 'Europe/Berlin',
      currency: overrides.currency ?? 'EUR',
    })
    .returning(['id', 'time_zone', 'currency'])
    .executeTakeFirstOrThrow();
  return { id: row.id, gid: toGlobalId('Business', row.id), slug, timeZone: row.time_zone, currency: row.currency };
}

export async function createService(db: Db, business: BuiltBusiness, overrides: Partial<{ name: string; durationMinutes: number; priceCents: number; isActive: boolean }> = {}): Promise<BuiltService> {
  const row = await db
    .insertInto('services')
    .values({
      business_id: business.id,
      name: overrides.name ?? `Service ${uniqueSuffix()}`,
      duration_minutes: overrides.durationMinutes ?? 30,
      price_cents: overrides.priceCents ?? 2500,
      is_active: overrides.isActive ?? true,
    })
    .returning(['id', 'duration_minutes', 'price_cents'])
    .executeTakeFirstOrThrow();
  // As serviceCreate without partnerIds: every live partner of the business performs it.
  await sql`INSERT INTO partner_services (business_id, partner_id, service_id)
    SELECT pa.business_id, pa.id, ${row.id}::bigint FROM partners pa WHERE pa.business_id = ${business.id}::bigint AND pa.deleted_at IS NULL`.execute(db);
  return { id: row.id, gid: toGlobalId('Service', row.id), durationMinutes: row.duration_minutes, priceCents: row.price_cents };
}

export async function createPartner(db: Db, business: BuiltBusiness, overrides: Partial<{ name: string; city: string; isActive: boolean }> = {}): Promise<BuiltPartner> {
  const name = overrides.name ?? `Partner ${uniqueSuffix()}`;
  const row = await db
    .insertInto('partners')
    .values({ business_id: business.id, name, city: overrides.city ?? 'Berlin', is_active: overrides.isActive ?? true })
    .returning('id')
    .executeTakeFirstOrThrow();
  // As partnerCreate without serviceIds: the partner performs every live service of the business.
  await sql`INSERT INTO partner_services (business_id, partner_id, service_id)
    SELECT s.business_id, ${row.id}::bigint, s.id FROM services s WHERE s.business_id = ${business.id}::bigint AND s.deleted_at IS NULL`.execute(db);
  return { id: row.id, gid: toGlobalId('Partner', row.id), name };
}

export async function createCustomer(db: Db, business: BuiltBusiness, overrides: Partial<{ name: string; email: string }> = {}): Promise<BuiltCustomer> {
  const email = overrides.email ?? `customer-${uniqueSuffix()}@example.com`;
  const row = await db
    .insertInto('customers')
    .values({ business_id: business.id, email, name: overrides.name ?? `Customer ${email}` })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, gid: toGlobalId('Customer', row.id), email };
}

/** `count` consecutive slots of `minutes` from `start`, in one statement. */
export async function createSlots(db: Db, business: BuiltBusiness, partner: BuiltPartner, start: Date, count: number, options: { minutes?: number; status?: SlotStatusColumn } = {}): Promise<BuiltSlot[]> {
  const minutes = options.minutes ?? 30;
  const rows = await sql<{ id: string; startsAt: string; endsAt: string }>`
    INSERT INTO partner_slots (business_id, partner_id, slot_start, slot_end, status)
    SELECT ${business.id}::bigint, ${partner.id}::bigint, s, s + make_interval(mins => ${minutes}), ${options.status ?? 'available'}
    FROM generate_series(${start.toISOString()}::timestamptz, ${start.toISOString()}::timestamptz + make_interval(mins => ${minutes * (count - 1)}), make_interval(mins => ${minutes})) AS s
    RETURNING id, slot_start AS "startsAt", slot_end AS "endsAt"`.execute(db);
  return rows.rows.map((r) => ({ ...r, gid: toGlobalId('Slot', r.id) }));
}

/**
 * A booking holding `slots` (consecutive, of one partner), with its partner's active count kept in step,
 * written the way the API writes one.
 */
export async function createBooking(db: Db, args: { business: BuiltBusiness; service: BuiltService; partner: BuiltPartner; customer: BuiltCustomer; slots: BuiltSlot[]; status?: BookingStatusColumn; createdAt?: Date }): Promise<BuiltBooking> {
  const status = args.status ?? 'pending';
  return db.transaction().execute(async (trx) => {
    const booking = await trx
      .insertInto('bookings')
      .values({
        business_id: args.business.id,
        customer_id: args.customer.id,
        partner_id: args.partner.id,
        service_id: args.service.id,
        starts_at: args.slots[0].startsAt,
        ends_at: args.slots[args.slots.length - 1].endsAt,
        status,
        cancel_reason: status === 'cancelled' ? 'Built cancelled' : null,
        total_cents: args.service.priceCents,
        currency: args.business.currency,
        ...(args.createdAt ? { created_at: args.createdAt } : {}),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (status !== 'cancelled') {
      await trx
        .updateTable('partner_slots')
        .set({ status: 'booked', booking_id: booking.id })
        .where('id', 'in', args.slots.map((s) => s.id))
        .execute();
    }
    if (status === 'pending' || status === 'confirmed') {
      await trx.updateTable('partners').set((eb) => ({ active_booking_count: eb('active_booking_count', '+', 1) })).where('id', '=', args.partner.id).execute();
    }
    return { id: booking.id, gid: toGlobalId('Booking', booking.id) };
  });
}

export async function createPayment(db: Db, args: { business: BuiltBusiness; booking: BuiltBooking; amountCents?: number; status?: 'pending' | 'succeeded' | 'failed' | 'refunded' }) {
  const row = await db
    .insertInto('payments')
    .values({
      business_id: args.business.id,
      booking_id: args.booking.id,
      provider: 'test',
      provider_txn_id: `test_${uniqueSuffix()}${uniqueSuffix()}`,
      amount_cents: args.amountCents ?? 2500,
      currency: args.business.currency,
      status: args.status ?? 'succeeded',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, gid: toGlobalId('Payment', row.id) };
}

/** A business with a service, partners, a customer, each partner with `slotCount` slots from tomorrow 09:00 UTC. */
export async function createBookableBusiness(db: Db, options: { partners?: number; slotCount?: number; durationMinutes?: number; kind?: BusinessKindColumn } = {}) {
  const business = await createBusiness(db, { kind: options.kind });
  const service = await createService(db, business, { durationMinutes: options.durationMinutes ?? 30 });
  const customer = await createCustomer(db, business);
  const start = new Date();
  start.setUTCDate(start.getUTCDate() + 1);
  start.setUTCHours(9, 0, 0, 0);
  const partners: Array<BuiltPartner & { slots: BuiltSlot[] }> = [];
  for (let i = 0; i < (options.partners ?? 1); i++) {
    const partner = await createPartner(db, business, { name: `Partner ${i} ${uniqueSuffix()}` });
    partners.push({ ...partner, slots: await createSlots(db, business, partner, start, options.slotCount ?? 8) });
  }
  return { business, service, customer, partners, start };
}

// ---------------------------------------------------------------------------------------------
// Readers: what the database holds after an operation, for assertions on state.

export interface BookingState {
  booking: { id: string; status: BookingStatusColumn; partnerId: string; customerId: string; serviceId: string; startsAt: string; endsAt: string; totalCents: number; cancelReason: string | null; updatedAt: string } | undefined;
  /** The slots the booking holds, by start time. */
  slots: Array<{ id: string; status: SlotStatusColumn; startsAt: string; endsAt: string; partnerId: string }>;
  /** The active booking count of the booking's partner. */
  partnerActiveCount: number | undefined;
}

/** A booking's row, the slots it holds and its partner's active count, read straight from the database. */
export async function bookingState(db: Db, bookingId: string): Promise<BookingState> {
  const booking = await db
    .selectFrom('bookings')
    .select(['id', 'status', 'partner_id as partnerId', 'customer_id as customerId', 'service_id as serviceId', 'starts_at as startsAt', 'ends_at as endsAt', 'total_cents as totalCents', 'cancel_reason as cancelReason', 'updated_at as updatedAt'])
    .where('id', '=', bookingId)
    .executeTakeFirst();
  const slots = await db
    .selectFrom('partner_slots')
    .select(['id', 'status', 'slot_start as startsAt', 'slot_end as endsAt', 'partner_id as partnerId'])
    .where('booking_id', '=', bookingId)
    .orderBy('slot_start')
    .execute();
  const partner = booking ? await db.selectFrom('partners').select('active_booking_count').where('id', '=', booking.partnerId).executeTakeFirst() : undefined;
  return { booking, slots, partnerActiveCount: partner?.active_booking_count };
}

/** The audit trail of one entity, oldest first. */
export async function auditRows(db: Db, entityId: string, entity = 'booking') {
  return db
    .selectFrom('audit_logs')
    .select(['entity', 'action', 'actor', 'changes', 'business_id as businessId'])
    .where('entity', '=', entity)
    .where('entity_id', '=', entityId)
    .orderBy('id')
    .execute();
}

/**
 * Everything a booking mutation can touch in one business: its bookings, slots, partners' counts and
 * audit rows. Compare a snapshot before and after a refused mutation to prove nothing changed.
 */
export async function businessState(db: Db, businessId: string) {
  const [bookings, slots, partners, audit] = await Promise.all([
    db.selectFrom('bookings').selectAll().where('business_id', '=', businessId).orderBy('id').execute(),
    db.selectFrom('partner_slots').select(['id', 'status', 'booking_id']).where('business_id', '=', businessId).orderBy('id').execute(),
    db.selectFrom('partners').select(['id', 'is_active', 'active_booking_count']).where('business_id', '=', businessId).orderBy('id').execute(),
    db.selectFrom('audit_logs').select(['id', 'entity', 'entity_id', 'action']).where('business_id', '=', businessId).orderBy('id').execute(),
  ]);
  return { bookings, slots, partners, audit };
}

// ---------------------------------------------------------------------------------------------
// Payments.

/** Sets how long before a start a cancellation still refunds (businesses.cancellation_window_minutes). */
export async function setCancellationWindow(db: Db, business: BuiltBusiness, minutes: number): Promise<void> {
  await db.updateTable('businesses').set({ cancellation_window_minutes: minutes }).where('id', '=', business.id).execute();
}

/** A provider event recorded as processed `receivedAt`, as the webhook would have left it. */
export async function createProcessedPaymentEvent(db: Db, args: { eventId?: string; provider?: string; receivedAt: Date }): Promise<string> {
  const eventId = args.eventId ?? `evt_${uniqueSuffix()}${uniqueSuffix()}`;
  await db
    .insertInto('processed_payment_events')
    .values({ provider: args.provider ?? 'test', event_id: eventId, event_type: 'payment.succeeded', received_at: args.receivedAt })
    .execute();
  return eventId;
}

/** A payment's row as stored, for assertions on state. */
export async function paymentRow(db: Db, paymentId: string) {
  return db
    .selectFrom('payments')
    .select(['id', 'status', 'booking_id as bookingId', 'provider', 'provider_txn_id as providerTxnId', 'amount_cents as amountCents', 'currency', 'amount_refunded_cents as amountRefundedCents', 'refunded_at as refundedAt'])
    .where('id', '=', paymentId)
    .executeTakeFirst();
}

// ---------------------------------------------------------------------------------------------
// Crowds (storm tests).

/** `count` customers of `business` in one statement, e.g. one per concurrent client of a storm. */
export async function createCustomers(db: Db, business: BuiltBusiness, count: number): Promise<BuiltCustomer[]> {
  const suffix = uniqueSuffix();
  const rows = await sql<{ id: string; email: string }>`
    INSERT INTO customers (business_id, email, name)
    SELECT ${business.id}::bigint, 'crowd-' || ${suffix}::text || '-' || n || '@example.com', 'Crowd customer ' || n
    FROM generate_series(1, ${count}::int) AS n
    ORDER BY n
    RETURNING id, email`.execute(db);
  return rows.rows.map((r) => ({ id: r.id, gid: toGlobalId('Customer', r.id), email: r.email }));
}
