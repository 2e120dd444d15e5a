/**
 * The statements `npm run db:explain` checks: every repository statement on a request's path or in
 * a hot background loop, each with representative parameters drawn from the data set.
 *
 * Each entry calls the repository function itself (inside a transaction that is rolled back), and
 * the runner explains whatever SQL that call sent: change a repository's query and the next run
 * explains the new one, with no copy here to fall out of step.
 *
 * To add a statement: add an entry with the function's name, a `run` that calls it with values
 * from `ExplainParams` (add a field to `loadExplainParams` when it needs a new kind of value), and
 * `indexes` when the plan must go through a particular index. `maxDiscardedPerRow` loosens the
 * runner's bound for a statement whose filter is meant to drop rows (say why in `note`).
 */
import { sql } from 'kysely';
import type { Db } from '../src/db/sql-helpers.js';
import type { Trx } from '../src/shared/transaction.js';
import { findBookingPagesByBusinessIds, findBookingPagesByCustomerIds, findBookingPagesByPartnerIds, findBookingsByIds, hasFutureLiveBookings, lockBookingById } from '../src/bookings/bookings.repository.js';
import { findEventsAfter, findBusinessEventsAfter, findUnpublishedPositions, lockRelayCounter, positionNextEvents } from '../src/events/booking-events.repository.js';
import { findFreePartnerIds, hasTakenSlotsInBuffers, lockFreeSlotsInRange, lockSlotsOfHold } from '../src/slots/slot-claims.repository.js';
import { findSlotsByBookingIds, findSlotsByHoldIds, findSlotsByPartnerIds } from '../src/slots/slots.repository.js';
import { claimDueWebhookDeliveries, findWebhookDeliveryPagesByEndpointIds } from '../src/webhooks/webhook-deliveries.repository.js';
import { deleteExpiredIdempotencyKeys, setLockTimeout } from '../src/idempotency/idempotency-keys.repository.js';
import { findPaymentsByBookingIds } from '../src/payments/payments.repository.js';
import { findPartnerDaysInCity, findSlotsAroundDate } from '../src/availability/availability.repository.js';
import { findPartnerForService, findPartnerPagesByBusinessIds } from '../src/partners/partners.repository.js';
import { replacePartnerServices } from '../src/partners/partner-services.repository.js';
import { findServicesByPartnerIds, lockLiveServiceById } from '../src/services/services.repository.js';
import { lockLiveBusinessById } from '../src/businesses/businesses.repository.js';
import { findCustomerPagesByBusinessIds } from '../src/customers/customers.repository.js';
import { findBusinessPage } from '../src/businesses/businesses.repository.js';
import { findAuditLogPagesByBusinessIds, purgeAuditLogsBefore } from '../src/audit/audit.repository.js';
import { purgeBookingEventsBefore, findPurgedThrough } from '../src/events/booking-events.repository.js';
import { pruneProcessedEvents } from '../src/payments/processed-payment-events.repository.js';
import { purgePastUnbookedSlotsBefore } from '../src/slots/slot-retention.repository.js';
import { purgeFinishedNotificationJobsBefore } from '../src/notifications/notification-jobs.repository.js';
import { purgeFinishedWebhookDeliveriesBefore } from '../src/webhooks/webhook-deliveries.repository.js';
import { DEFAULT_RETENTION_CONFIG } from '../src/config.js';

const RETENTION_BATCH = DEFAULT_RETENTION_CONFIG.batchSize;
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);
import { findRatingsBySubjects, findReviewPagesByBusinessIds, findReviewPagesByPartnerIds, findReviewPagesByServiceIds, findReviewsByIds, lockReviewById } from '../src/reviews/reviews.repository.js';
import { applyEventsToStats, findStatsRows } from '../src/stats/stats.repository.js';

/** Values taken from the data set, so each statement runs on rows that exist. */
export interface ExplainParams {
  /** The business with the most partners (a marketplace), a city of it, and one of its services. */
  bigBusinessId: string;
  bigCity: string;
  serviceId: string;
  /** A small business that joined late: its events are all at the end of the log. */
  smallBusinessId: string;
  /** A partner of the big business with a free 30-minute slot from `freeStart` to `freeEnd`. */
  partnerId: string;
  freeStart: string;
  freeEnd: string;
  /** The local date (UTC) of that slot. */
  date: string;
  /** A live hold. */
  hold: { id: string; partnerId: string; startsAt: string; endsAt: string };
  bookingIds: string[];
  customerId: string;
  lastPosition: number;
  endpointId: string;
  /** A review of the big business, and the actor of its audit row. */
  review: { id: string; actor: string };
}

/** The local date 364 days before `date`: a year of days with it. */
function yearBefore(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) - 364 * 86_400_000).toISOString().slice(0, 10);
}

export async function loadExplainParams(db: Db): Promise<ExplainParams> {
  const one = async <T>(text: ReturnType<typeof sql<T>>) => {
    const rows = (await text.execute(db)).rows;
    if (!rows.length) throw new Error('Expected the data set of npm run seed:large, found a table without the rows db:explain needs.');
    return rows[0];
  };
  const big = await one(sql<{ id: string; city: string }>`
    SELECT pa.business_id AS id, min(pa.city) AS city FROM partners pa GROUP BY pa.business_id ORDER BY count(*) DESC, pa.business_id LIMIT 1`);
  const small = await one(sql<{ id: string }>`
    SELECT pa.business_id AS id FROM partners pa GROUP BY pa.business_id ORDER BY pa.business_id DESC LIMIT 1`);
  const free = await one(sql<{ partnerId: string; start: Date; end: Date }>`
    SELECT sl.partner_id AS "partnerId", sl.slot_start AS start, sl.slot_end AS end FROM partner_slots sl
    WHERE sl.business_id = ${big.id} AND sl.status = 'available' AND sl.held_until IS NULL AND sl.slot_start > now() + interval '1 day'
    ORDER BY sl.slot_start, sl.partner_id LIMIT 1`);
  const hold = await one(sql<{ id: string; partnerId: string; startsAt: Date; endsAt: Date }>`
    SELECT id, partner_id AS "partnerId", starts_at AS "startsAt", ends_at AS "endsAt" FROM slot_holds WHERE expires_at > now() ORDER BY id LIMIT 1`);
  const service = await one(sql<{ id: string }>`SELECT min(id) AS id FROM services WHERE business_id = ${big.id}`);
  const bookings = (await sql<{ id: string; customerId: string }>`
    SELECT id, customer_id AS "customerId" FROM bookings WHERE partner_id = ${free.partnerId} AND status <> 'cancelled' ORDER BY starts_at DESC LIMIT 10`.execute(db)).rows;
  const last = await one(sql<{ last: string }>`SELECT last_position AS last FROM booking_event_relay WHERE id = 1`);
  const endpoint = await one(sql<{ id: string }>`SELECT endpoint_id AS id FROM webhook_deliveries GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`);
  const review = await one(sql<{ id: string; actor: string }>`
    SELECT a.entity_id AS id, a.actor FROM audit_logs a WHERE a.business_id = ${big.id} AND a.entity = 'review' ORDER BY a.id LIMIT 1`);
  const iso = (d: Date) => new Date(d).toISOString();
  return {
    bigBusinessId: String(big.id),
    bigCity: big.city,
    serviceId: String(service.id),
    smallBusinessId: String(small.id),
    partnerId: String(free.partnerId),
    freeStart: iso(free.start),
    freeEnd: iso(free.end),
    date: iso(free.start).slice(0, 10),
    hold: { id: String(hold.id), partnerId: String(hold.partnerId), startsAt: iso(hold.startsAt), endsAt: iso(hold.endsAt) },
    bookingIds: bookings.map((b) => String(b.id)),
    customerId: String(bookings[0]?.customerId ?? '0'),
    lastPosition: Number(last.last),
    endpointId: String(endpoint.id),
    review: { id: String(review.id), actor: review.actor },
  };
}

export interface ExplainEntry {
  /** What the statement serves, shown in the report. */
  name: string;
  /** The repository function called (its SQL carries the same `/* name *\/` tag). */
  fn: string;
  /** The plan must read through one of these indexes (by name). */
  indexes?: string[];
  /** Rows a plan may discard (filters, rechecks, join filters) per row it returns; default in the runner. */
  maxDiscardedPerRow?: number;
  note?: string;
  /** Calls the repository function; the runner explains every statement it sends. */
  run: (trx: Trx, p: ExplainParams) => Promise<unknown>;
}

const noScope = { all: true, grants: [] };
const reviewPage = { after: null, hidden: [] as string[], limit: 21 };
const auditPage = { entity: null, entityId: null, actor: null, from: null, to: null, after: null, limit: 21 };
const page = { statuses: null, from: null, to: null, after: null, limit: 20 };

export const EXPLAIN_REGISTRY: ExplainEntry[] = [
  // The booking flow: choosing a partner, claiming and holding slots.
  {
    name: 'bookingCreate by service and start: free partners of a marketplace',
    fn: 'findFreePartnerIds',
    indexes: ['partner_slots_partner_start_key', 'partner_slots_available_idx'],
    run: (trx, p) => findFreePartnerIds(trx, { businessId: p.bigBusinessId, serviceId: p.serviceId, city: null, startsAt: p.freeStart, endsAt: p.freeEnd, limit: 5 }),
  },
  {
    name: 'bookingCreate by service, start and city: free partners in a city',
    fn: 'findFreePartnerIds',
    indexes: ['partner_slots_partner_start_key', 'partner_slots_available_idx'],
    run: (trx, p) => findFreePartnerIds(trx, { businessId: p.bigBusinessId, serviceId: p.serviceId, city: p.bigCity, startsAt: p.freeStart, endsAt: p.freeEnd, limit: 5 }),
  },
  {
    name: 'bookingCreate / slotHoldCreate: lock a partner\'s free slots in a range',
    fn: 'lockFreeSlotsInRange',
    indexes: ['partner_slots_partner_start_key', 'partner_slots_available_idx'],
    run: (trx, p) => lockFreeSlotsInRange(trx, { partnerId: p.partnerId, startsAt: p.freeStart, endsAt: p.freeEnd, skipLocked: true }),
  },
  {
    name: 'bookingCreate from a hold: lock the hold\'s slots',
    fn: 'lockSlotsOfHold',
    indexes: ['partner_slots_partner_start_key', 'partner_slots_available_idx'],
    run: (trx, p) => lockSlotsOfHold(trx, p.hold),
  },
  {
    name: 'SlotHold.slots',
    fn: 'findSlotsByHoldIds',
    indexes: ['partner_slots_partner_start_key'],
    run: (trx, p) => findSlotsByHoldIds(trx, [p.hold.id]),
  },
  {
    name: 'bookingCreate: buffers around the booking',
    fn: 'hasTakenSlotsInBuffers',
    indexes: ['partner_slots_partner_start_key'],
    run: (trx, p) => hasTakenSlotsInBuffers(trx, { partnerId: p.partnerId, startsAt: p.freeStart, endsAt: p.freeEnd, beforeMinutes: 15, afterMinutes: 15 }),
  },
  {
    name: 'bookingCreate / bookingReschedule / a hold\'s booking: the partner named, and whether they perform the service',
    fn: 'findPartnerForService',
    run: (trx, p) => findPartnerForService(trx, p.partnerId, p.serviceId),
  },
  { name: 'Partner.slots(from, to)', fn: 'findSlotsByPartnerIds', indexes: ['partner_slots_partner_start_key'],
    run: (trx, p) => findSlotsByPartnerIds(trx, [p.partnerId], { from: `${p.date}T00:00:00Z`, to: `${p.date}T23:59:59Z`, status: null }) },
  { name: 'Booking.slots', fn: 'findSlotsByBookingIds', indexes: ['partner_slots_booking_idx'], run: (trx, p) => findSlotsByBookingIds(trx, p.bookingIds) },
  // Availability.
  {
    name: 'availableSlots(business, date)',
    fn: 'findSlotsAroundDate',
    run: (trx, p) => findSlotsAroundDate(trx, { businessId: p.bigBusinessId, serviceId: p.serviceId, partnerId: null, date: p.date, timeZone: 'UTC', beforeMinutes: 15, afterMinutes: 15 }),
  },
  { name: 'availablePartners(city, date, business)', fn: 'findPartnerDaysInCity', run: (trx, p) => findPartnerDaysInCity(trx, { city: p.bigCity, businessId: p.bigBusinessId, date: p.date }) },
  { name: 'availablePartners(city, date)', fn: 'findPartnerDaysInCity', run: (trx, p) => findPartnerDaysInCity(trx, { city: p.bigCity, businessId: null, date: p.date }) },
  // Lists.
  { name: 'Business.bookings', fn: 'findBookingPagesByBusinessIds', indexes: ['bookings_business_starts_idx'],
    run: (trx, p) => findBookingPagesByBusinessIds(trx, [p.bigBusinessId], noScope, { ...page, from: p.freeStart }) },
  { name: 'Partner.bookings', fn: 'findBookingPagesByPartnerIds', indexes: ['bookings_partner_starts_idx'],
    run: (trx, p) => findBookingPagesByPartnerIds(trx, [p.partnerId], noScope, page) },
  { name: 'Customer.bookings', fn: 'findBookingPagesByCustomerIds', indexes: ['bookings_customer_history_idx'],
    run: (trx, p) => findBookingPagesByCustomerIds(trx, [p.customerId], noScope, page) },
  { name: 'Booking by id', fn: 'findBookingsByIds', run: (trx, p) => findBookingsByIds(trx, p.bookingIds) },
  { name: 'Booking.payments', fn: 'findPaymentsByBookingIds', indexes: ['payments_booking_idx'], run: (trx, p) => findPaymentsByBookingIds(trx, p.bookingIds) },
  { name: 'Business.partners', fn: 'findPartnerPagesByBusinessIds', run: (trx, p) => findPartnerPagesByBusinessIds(trx, [p.bigBusinessId], { city: null, activeOnly: false, after: null, limit: 20 }) },
  { name: 'Partner.services', fn: 'findServicesByPartnerIds', run: (trx, p) => findServicesByPartnerIds(trx, [p.partnerId]) },
  { name: 'Business.customers', fn: 'findCustomerPagesByBusinessIds', run: (trx, p) => findCustomerPagesByBusinessIds(trx, [p.bigBusinessId], { after: null, limit: 20 }) },
  // Catalog search (the seed names businesses "Business <n>"; a third of its services are "Check-up"). Its few
  // dozen businesses make a scan the cheapest plan, so no index is required here: test/read/catalog-search.test.ts
  // asserts that the trigram indexes serve the search among thousands.
  { name: 'businesses(city)', fn: 'findBusinessPage', run: (trx, p) => findBusinessPage(trx, { city: p.bigCity, query: null, serviceQuery: null, afterSlug: null, limit: 21 }) },
  { name: 'businesses(query)', fn: 'findBusinessPage', run: (trx) => findBusinessPage(trx, { city: null, query: 'BÚSINESS 4', serviceQuery: null, afterSlug: null, limit: 21 }) },
  { name: 'businesses(serviceQuery)', fn: 'findBusinessPage', maxDiscardedPerRow: 100,
    note: 'A search reads every service whose name matches (trigram bitmap and its recheck: about 1,500 on the million set, 1.3 ms) to find the first page of businesses by slug.',
    run: (trx) => findBusinessPage(trx, { city: null, query: null, serviceQuery: 'check-úp', afterSlug: null, limit: 21 }) },
  { name: 'WebhookEndpoint.deliveries', fn: 'findWebhookDeliveryPagesByEndpointIds',
    run: (trx, p) => findWebhookDeliveryPagesByEndpointIds(trx, [p.endpointId], { status: null, after: null, limit: 20 }) },
  { name: 'WebhookEndpoint.deliveries(status: PENDING)', fn: 'findWebhookDeliveryPagesByEndpointIds',
    run: (trx, p) => findWebhookDeliveryPagesByEndpointIds(trx, [p.endpointId], { status: 'PENDING', after: null, limit: 20 }) },
  // Reviews and the audit trail (issue 14).
  { name: 'Business.reviews', fn: 'findReviewPagesByBusinessIds', indexes: ['reviews_business_created_idx'],
    run: (trx, p) => findReviewPagesByBusinessIds(trx, [p.bigBusinessId], reviewPage) },
  { name: 'Partner.reviews', fn: 'findReviewPagesByPartnerIds', indexes: ['reviews_partner_created_idx'],
    run: (trx, p) => findReviewPagesByPartnerIds(trx, [p.partnerId], reviewPage) },
  { name: 'Service.reviews (staff: hidden ones too)', fn: 'findReviewPagesByServiceIds', indexes: ['reviews_service_created_idx'],
    run: (trx, p) => findReviewPagesByServiceIds(trx, [p.serviceId], { ...reviewPage, hidden: [p.bigBusinessId] }) },
  { name: 'Review by id', fn: 'findReviewsByIds', indexes: ['reviews_pkey'], run: (trx, p) => findReviewsByIds(trx, [p.review.id]) },
  { name: 'Business.rating, Partner.rating, Service.rating', fn: 'findRatingsBySubjects',
    note: 'One row per business, partner and service: a few hundred in CI\'s data set, which a scan reads fastest; past SEQ_SCAN_LIMIT rows the primary key serves it.',
    run: (trx, p) => findRatingsBySubjects(trx, [{ subject: 'business', subjectId: p.bigBusinessId }, { subject: 'partner', subjectId: p.partnerId }, { subject: 'service', subjectId: p.serviceId }]) },
  { name: 'Business.auditLog', fn: 'findAuditLogPagesByBusinessIds', indexes: ['audit_logs_business_created_idx'],
    run: (trx, p) => findAuditLogPagesByBusinessIds(trx, [p.bigBusinessId], auditPage) },
  { name: 'Business.auditLog(entityId)', fn: 'findAuditLogPagesByBusinessIds', indexes: ['audit_logs_entity_created_idx'],
    run: (trx, p) => findAuditLogPagesByBusinessIds(trx, [p.bigBusinessId], { ...auditPage, entity: 'booking', entityId: p.bookingIds[0] }) },
  { name: 'Business.auditLog(actor)', fn: 'findAuditLogPagesByBusinessIds', indexes: ['audit_logs_actor_created_idx'],
    run: (trx, p) => findAuditLogPagesByBusinessIds(trx, [p.bigBusinessId], { ...auditPage, actor: p.review.actor }) },
  { name: 'Business.auditLog(entity: REVIEW, from, to)', fn: 'findAuditLogPagesByBusinessIds', indexes: ['audit_logs_business_entity_time_idx'],
    run: (trx, p) => findAuditLogPagesByBusinessIds(trx, [p.bigBusinessId], { ...auditPage, entity: 'review', from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' }) },
  { name: 'reviewReply / reviewHide / reviewUnhide: lock a review', fn: 'lockReviewById', run: (trx, p) => lockReviewById(trx, p.review.id) },
  // Analytics: a year of days, both rollup tables by their primary keys (one statement). Not of the
  // big marketplace: it holds about 30% of all rollup rows of this data set, so the planner rightly
  // reads the whole table for it (38 ms measured for 33k rows); a busy business among many is a
  // small share, as here, and is read by the key.
  { name: 'Business.stats (a year, DAY)', fn: 'findStatsRows', indexes: ['booking_stats_daily_pkey', 'partner_open_daily_pkey'],
    run: (trx, p) => findStatsRows(trx, [p.smallBusinessId], { from: yearBefore(p.date), to: p.date, granularity: 'DAY', partnerId: null, serviceId: null }) },
  { name: 'Business.stats (a year, MONTH, one partner)', fn: 'findStatsRows', indexes: ['booking_stats_daily_pkey', 'partner_open_daily_pkey'],
    run: (trx, p) => findStatsRows(trx, [p.bigBusinessId], { from: yearBefore(p.date), to: p.date, granularity: 'MONTH', partnerId: p.partnerId, serviceId: null }) },
  // Mutations' common steps.
  // Catalog management (issue 11).
  { name: 'businessUpdate / serviceCreate: lock a live business', fn: 'lockLiveBusinessById', run: (trx, p) => lockLiveBusinessById(trx, p.bigBusinessId) },
  { name: 'serviceUpdate / serviceArchive: lock a live service and its business', fn: 'lockLiveServiceById', run: (trx, p) => lockLiveServiceById(trx, p.serviceId) },
  { name: 'businessArchive: bookings ahead', fn: 'hasFutureLiveBookings', indexes: ['bookings_business_starts_idx'],
    run: (trx, p) => hasFutureLiveBookings(trx, { businessId: p.bigBusinessId, partnerId: null }) },
  { name: 'partnerArchive: bookings ahead', fn: 'hasFutureLiveBookings', indexes: ['bookings_partner_active_idx', 'bookings_partner_starts_idx'],
    run: (trx, p) => hasFutureLiveBookings(trx, { businessId: p.bigBusinessId, partnerId: p.partnerId }) },
  { name: 'partnerServicesSet', fn: 'replacePartnerServices', indexes: ['partner_services_pkey'],
    run: (trx, p) => replacePartnerServices(trx, { businessId: p.bigBusinessId, partnerId: p.partnerId, serviceIds: [p.serviceId] }) },
  { name: 'lock a booking for a change', fn: 'lockBookingById', run: (trx, p) => lockBookingById(trx, p.bookingIds[0]) },
  { name: 'idempotent mutation: restore lock_timeout', fn: 'setLockTimeout', run: (trx) => setLockTimeout(trx, null) },
  // Subscriptions: replay.
  {
    name: 'bookingEventsSince(business, partner) from the start',
    fn: 'findBusinessEventsAfter',
    indexes: ['booking_events_partner_idx'],
    run: (trx, p) => findBusinessEventsAfter(trx, { businessId: p.bigBusinessId, partnerId: p.partnerId, after: 0, limit: 50 }),
  },
  {
    name: 'bookingEventsSince(business, partner) recent',
    fn: 'findBusinessEventsAfter',
    indexes: ['booking_events_partner_idx'],
    run: (trx, p) => findBusinessEventsAfter(trx, { businessId: p.bigBusinessId, partnerId: p.partnerId, after: Math.max(0, p.lastPosition - 20_000), limit: 50 }),
  },
  {
    name: 'bookingEventsSince(small business) from an old cursor',
    fn: 'findBusinessEventsAfter',
    indexes: ['booking_events_replay_idx'],
    run: (trx, p) => findBusinessEventsAfter(trx, { businessId: p.smallBusinessId, partnerId: null, after: 0, limit: 50 }),
  },
  {
    name: 'bookingEventsSince(marketplace) recent',
    fn: 'findBusinessEventsAfter',
    note: 'A recent cursor of a big business may walk the global positions: few rows of others lie in between.',
    run: (trx, p) => findBusinessEventsAfter(trx, { businessId: p.bigBusinessId, partnerId: null, after: Math.max(0, p.lastPosition - 1000), limit: 50 }),
  },
  // Background loops.
  { name: 'catching up on every business\'s events', fn: 'findEventsAfter', run: (trx, p) => findEventsAfter(trx, Math.max(0, p.lastPosition - 100), 100) },
  {
    name: 'outbox relay run',
    fn: 'positionNextEvents',
    run: async (trx) => positionNextEvents(trx, await lockRelayCounter(trx), 100),
  },
  {
    name: 'outbox relay run: stats rollups of 100 events',
    fn: 'applyEventsToStats',
    note: 'The keys come from the events; the rows are recomputed inside booking_stats_daily_refresh (by bookings_partner_starts_idx), which EXPLAIN shows as one call.',
    run: async (trx, p) => applyEventsToStats(trx, await findEventsAfter(trx, Math.max(0, p.lastPosition - 100), 100)),
  },
  { name: 'republishing unpublished events', fn: 'findUnpublishedPositions', run: (trx) => findUnpublishedPositions(trx, 10_000, 100) },
  {
    name: 'webhook dispatcher claim (every second)',
    fn: 'claimDueWebhookDeliveries',
    indexes: ['webhook_deliveries_due_idx'],
    run: (trx) => claimDueWebhookDeliveries(trx, 20, 30_000),
  },
  // The retention job (src/retention/): one batch of each purge, with the job's default batch size.
  // Each reads its age index from the oldest row, so a batch reads the rows it deletes (and, for the
  // events, the deliveries' index to keep those a delivery points at).
  { name: 'retention: idempotency keys expired', fn: 'deleteExpiredIdempotencyKeys', indexes: ['idempotency_keys_expires_idx'], run: (trx) => deleteExpiredIdempotencyKeys(trx, new Date(), RETENTION_BATCH) },
  { name: 'retention: finished notification jobs', fn: 'purgeFinishedNotificationJobsBefore', run: (trx) => purgeFinishedNotificationJobsBefore(trx, daysAgo(30), RETENTION_BATCH) },
  { name: 'retention: processed payment events', fn: 'pruneProcessedEvents', indexes: ['processed_payment_events_received_idx'], run: (trx) => pruneProcessedEvents(trx, daysAgo(90), RETENTION_BATCH) },
  { name: 'retention: booking events', fn: 'purgeBookingEventsBefore', indexes: ['booking_events_occurred_idx'],
    run: (trx) => purgeBookingEventsBefore(trx, daysAgo(30), RETENTION_BATCH) },
  { name: 'retention: audit rows', fn: 'purgeAuditLogsBefore', indexes: ['audit_logs_created_idx'], run: (trx) => purgeAuditLogsBefore(trx, daysAgo(30), RETENTION_BATCH) },
  { name: 'retention: finished webhook deliveries', fn: 'purgeFinishedWebhookDeliveriesBefore', indexes: ['webhook_deliveries_finished_idx'],
    run: (trx) => purgeFinishedWebhookDeliveriesBefore(trx, daysAgo(7), RETENTION_BATCH) },
  { name: 'retention: past unbooked slots', fn: 'purgePastUnbookedSlotsBefore', indexes: ['partner_slots_unbooked_end_idx'],
    run: (trx) => purgePastUnbookedSlotsBefore(trx, daysAgo(3), RETENTION_BATCH) },
  { name: 'bookingEventsSince from a cursor: the purge mark', fn: 'findPurgedThrough', run: (trx, p) => findPurgedThrough(trx, p.bigBusinessId) },
];
