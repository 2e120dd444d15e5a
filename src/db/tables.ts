import type { ColumnType, Generated } from 'kysely';

/**
 * Table types for Kysely. Only repositories see them.
 *
 * Both backends are configured (see connect.ts) so that bigint ids arrive as strings and
 * timestamptz values as RFC 3339 strings: no Date objects are built per row on the hot path.
 */
type Id = ColumnType<string, string | number | bigint, string | number | bigint>;
type GeneratedId = ColumnType<string, string | number | bigint | undefined, never>;
type Timestamp = ColumnType<string, string | Date, string | Date>;
type DefaultTimestamp = ColumnType<string, string | Date | undefined, string | Date>;
/** A stored generated column: read, never written. */
type Computed<T> = ColumnType<T, never, never>;

/*
 * How enum-like columns spell their values. The schema's enums (BusinessKind, SlotStatus,
 * BookingStatus, PaymentStatus in __generated__) are the one meaning the code speaks; these names
 * say "the stored spelling", so the two never pass for each other.
 */
export type BusinessKindColumn = 'marketplace' | 'salon' | 'driving_school' | 'barber_shop' | 'appointments';
export type SlotStatusColumn = 'available' | 'booked' | 'blocked';
export type BookingStatusColumn = 'pending' | 'confirmed' | 'cancelled' | 'completed' | 'no_show';
export type PaymentStatusColumn = 'pending' | 'succeeded' | 'failed' | 'refunded';

export interface BusinessesTable {
  id: GeneratedId;
  slug: string;
  name: string;
  kind: BusinessKindColumn;
  city: string;
  time_zone: string;
  currency: string;
  slot_minutes: Generated<number>;
  min_notice_minutes: Generated<number>;
  max_advance_days: Generated<number>;
  cancellation_window_minutes: Generated<number>;
  description: string | null;
  default_locale: Generated<string>;
  /** Hours before a booking's start its customer is reminded (0: never). */
  reminder_hours: Generated<number>;
  /** search_text(name), for businesses(query). */
  search_name: Computed<string>;
  created_at: DefaultTimestamp;
  deleted_at: Timestamp | null;
}

export interface ServicesTable {
  id: GeneratedId;
  business_id: Id;
  name: string;
  duration_minutes: number;
  price_cents: number;
  buffer_before_minutes: Generated<number>;
  buffer_after_minutes: Generated<number>;
  is_active: Generated<boolean>;
  description: string | null;
  /** search_text(name), for businesses(serviceQuery). */
  search_name: Computed<string>;
  created_at: DefaultTimestamp;
  deleted_at: Timestamp | null;
}

/** A business's name and description in a locale other than its default_locale. */
export interface BusinessTranslationsTable {
  business_id: Id;
  locale: string;
  name: string;
  description: ColumnType<string | null, string | null | undefined, string | null>;
  search_name: Computed<string>;
  updated_at: DefaultTimestamp;
}

/** A service's name and description in a locale other than its business's default_locale. */
export interface ServiceTranslationsTable {
  business_id: Id;
  service_id: Id;
  locale: string;
  name: string;
  description: ColumnType<string | null, string | null | undefined, string | null>;
  search_name: Computed<string>;
  updated_at: DefaultTimestamp;
}

export interface PartnersTable {
  id: GeneratedId;
  business_id: Id;
  name: string;
  city: string;
  is_active: Generated<boolean>;
  active_booking_count: Generated<number>;
  created_at: DefaultTimestamp;
  /** Optional on insert: partners existed before they could be archived. */
  deleted_at: ColumnType<string | null, string | Date | null | undefined, string | Date | null>;
}

/** Which partners perform which service. */
export interface PartnerServicesTable {
  business_id: Id;
  partner_id: Id;
  service_id: Id;
  created_at: DefaultTimestamp;
}

export interface CustomersTable {
  id: GeneratedId;
  business_id: Id;
  email: string;
  name: string;
  account_id: Id | null;
  /** E.164, for text reminders. */
  phone: ColumnType<string | null, string | null | undefined, string | null>;
  /** The locale of the customer's messages; null: the business's default locale. */
  locale: ColumnType<string | null, string | null | undefined, string | null>;
  /** When the customer opted out of non-essential messages (reminders); null while they get them. */
  reminders_opted_out_at: ColumnType<string | null, string | Date | null | undefined, string | Date | null>;
  erased_at: Timestamp | null;
  created_at: DefaultTimestamp;
  deleted_at: Timestamp | null;
}

export type MembershipRoleColumn = 'owner' | 'staff' | 'partner';

export interface AccountsTable {
  id: GeneratedId;
  issuer: Generated<string>;
  subject: string;
  email: string | null;
  name: string | null;
  created_at: DefaultTimestamp;
}

export interface MembershipsTable {
  id: GeneratedId;
  account_id: Id;
  business_id: Id;
  role: MembershipRoleColumn;
  partner_id: Id | null;
  created_at: DefaultTimestamp;
  removed_at: Timestamp | null;
}

export interface InvitationsTable {
  id: GeneratedId;
  business_id: Id;
  email: string;
  role: MembershipRoleColumn;
  partner_id: Id | null;
  token_hash: string;
  invited_by: string;
  expires_at: Timestamp;
  accepted_at: Timestamp | null;
  accepted_by: Id | null;
  membership_id: Id | null;
  created_at: DefaultTimestamp;
}

export interface PartnerSlotsTable {
  id: GeneratedId;
  business_id: Id;
  partner_id: Id;
  slot_start: Timestamp;
  slot_end: Timestamp;
  status: Generated<SlotStatusColumn>;
  booking_id: Id | null;
  hold_id: Id | null;
  held_until: Timestamp | null;
  created_at: DefaultTimestamp;
}

export interface BookingsTable {
  id: ColumnType<string, string | number | bigint | undefined, never>;
  business_id: Id;
  customer_id: Id;
  partner_id: Id;
  service_id: Id;
  starts_at: Timestamp;
  ends_at: Timestamp;
  status: Generated<BookingStatusColumn>;
  cancel_reason: string | null;
  total_cents: number;
  currency: string;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  deleted_at: Timestamp | null;
}

export interface PaymentsTable {
  id: GeneratedId;
  business_id: Id;
  booking_id: Id;
  provider: string;
  provider_txn_id: string;
  amount_cents: number;
  currency: string;
  status: Generated<PaymentStatusColumn>;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  refunded_at: Timestamp | null;
  amount_refunded_cents: Generated<number>;
}

export interface ProcessedPaymentEventsTable {
  provider: string;
  event_id: string;
  event_type: string;
  received_at: DefaultTimestamp;
}

export interface AuditLogsTable {
  id: GeneratedId;
  business_id: Id | null;
  entity: string;
  entity_id: Id;
  action: string;
  actor: string;
  changes: ColumnType<unknown, string, string>;
  created_at: DefaultTimestamp;
}

export interface ReviewsTable {
  id: GeneratedId;
  business_id: Id;
  booking_id: Id;
  customer_id: Id;
  partner_id: Id;
  service_id: Id;
  rating: number;
  body: string | null;
  reply: string | null;
  replied_at: Timestamp | null;
  replied_by: string | null;
  hidden_at: Timestamp | null;
  hide_reason: string | null;
  hidden_by: string | null;
  created_at: DefaultTimestamp;
}

export type RatingSubjectColumn = 'business' | 'partner' | 'service';

export interface RatingAggregatesTable {
  subject: RatingSubjectColumn;
  subject_id: Id;
  business_id: Id;
  rating_1: Generated<number>;
  rating_2: Generated<number>;
  rating_3: Generated<number>;
  rating_4: Generated<number>;
  rating_5: Generated<number>;
}

export interface SlotHoldsTable {
  id: GeneratedId;
  business_id: Id;
  /** Null for a guest's hold (guest_verifications), until its booking gives it a customer. */
  customer_id: Id | null;
  partner_id: Id;
  service_id: Id;
  starts_at: Timestamp;
  ends_at: Timestamp;
  expires_at: Timestamp;
  booking_id: Id | null;
  consumed_at: Timestamp | null;
  created_at: DefaultTimestamp;
}

export interface IdempotencyKeysTable {
  caller: string;
  operation: string;
  key: string;
  request_hash: string;
  outcome: ColumnType<unknown, string | null, string | null>;
  created_at: DefaultTimestamp;
  expires_at: Timestamp;
}

export interface PartnerWeeklyHoursTable {
  id: GeneratedId;
  business_id: Id;
  partner_id: Id;
  day_of_week: number;
  /** `HH:MM:SS`; 24:00:00 is allowed as an end. */
  start_time: string;
  end_time: string;
  effective_from: string;
  effective_to: string | null;
  created_at: DefaultTimestamp;
}

export interface PartnerScheduleExceptionsTable {
  id: GeneratedId;
  business_id: Id;
  partner_id: Id;
  exception_date: string;
  closed: boolean;
  start_time: string | null;
  end_time: string | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

export type BookingEventType =
  | 'BOOKING_CREATED'
  | 'BOOKING_CONFIRMED'
  | 'BOOKING_CANCELLED'
  | 'BOOKING_RESCHEDULED'
  | 'BOOKING_COMPLETED'
  | 'BOOKING_NO_SHOW'
  | 'PAYMENT_STATUS_CHANGED'
  | 'MESSAGE_POSTED';

export interface BookingEventsTable {
  id: GeneratedId;
  business_id: Id;
  booking_id: Id;
  payment_id: Id | null;
  partner_ids: ColumnType<string[], string[], string[]>;
  type: BookingEventType;
  occurred_at: DefaultTimestamp;
  data: ColumnType<unknown, string, string>;
  position: Id | null;
  relayed_at: Timestamp | null;
  published_at: Timestamp | null;
}

/** Per business, the highest event position the retention purge deleted (bookingEventsSince refuses older cursors). */
export interface BookingEventPurgesTable {
  business_id: Id;
  purged_through: Id;
  purged_at: DefaultTimestamp;
}

export interface BookingEventRelayTable {
  id: number;
  last_position: Id;
}

export type WebhookEndpointStatus = 'active' | 'paused';
export type WebhookDeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface WebhookEndpointsTable {
  id: GeneratedId;
  business_id: Id;
  partner_id: Id | null;
  url: string;
  event_types: ColumnType<BookingEventType[], BookingEventType[], BookingEventType[]>;
  secret: string;
  status: Generated<WebhookEndpointStatus>;
  consecutive_failures: Generated<number>;
  paused_at: Timestamp | null;
  pause_reason: string | null;
  created_at: DefaultTimestamp;
  deleted_at: Timestamp | null;
}

export interface WebhookDeliveriesTable {
  id: GeneratedId;
  business_id: Id;
  endpoint_id: Id;
  event_id: Id;
  event_position: Id;
  status: Generated<WebhookDeliveryStatus>;
  attempts: Generated<number>;
  next_attempt_at: DefaultTimestamp;
  last_attempt_at: Timestamp | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: Timestamp | null;
  redelivery_of: Id | null;
  created_at: DefaultTimestamp;
}

export type MessageSideColumn = 'customer' | 'business';

export interface MessagesTable {
  id: GeneratedId;
  business_id: Id;
  booking_id: Id;
  sender_side: MessageSideColumn;
  sender: string;
  body: string;
  created_at: DefaultTimestamp;
}

export interface MessageThreadReadsTable {
  business_id: Id;
  booking_id: Id;
  side: MessageSideColumn;
  last_read_message_id: Id;
  read_at: DefaultTimestamp;
}

export interface GuestVerificationsTable {
  id: GeneratedId;
  business_id: Id;
  public_id: string;
  hold_id: Id;
  name: string;
  email: string | null;
  phone: string | null;
  salt: string;
  code_hash: string;
  attempts: Generated<number>;
  max_attempts: number;
  expires_at: Timestamp;
  confirmed_at: Timestamp | null;
  booking_id: Id | null;
  manage_token_hash: string | null;
  created_at: DefaultTimestamp;
}

export interface BookingCalendarSequencesTable {
  booking_id: Id;
  business_id: Id;
  sequence: number;
}

export type NotificationJobStatusColumn = 'pending' | 'done' | 'dead' | 'dropped';

export interface NotificationJobsTable {
  id: GeneratedId;
  kind: string;
  key: string;
  business_id: Id;
  payload: ColumnType<unknown, string, string>;
  status: Generated<NotificationJobStatusColumn>;
  run_at: Timestamp;
  attempts: Generated<number>;
  version: Generated<number>;
  last_error: string | null;
  created_at: DefaultTimestamp;
  finished_at: Timestamp | null;
}

export interface Database {
  businesses: BusinessesTable;
  services: ServicesTable;
  business_translations: BusinessTranslationsTable;
  service_translations: ServiceTranslationsTable;
  partners: PartnersTable;
  partner_services: PartnerServicesTable;
  customers: CustomersTable;
  accounts: AccountsTable;
  memberships: MembershipsTable;
  invitations: InvitationsTable;
  partner_slots: PartnerSlotsTable;
  bookings: BookingsTable;
  payments: PaymentsTable;
  audit_logs: AuditLogsTable;
  reviews: ReviewsTable;
  rating_aggregates: RatingAggregatesTable;
  partner_weekly_hours: PartnerWeeklyHoursTable;
  partner_schedule_exceptions: PartnerScheduleExceptionsTable;
  slot_holds: SlotHoldsTable;
  idempotency_keys: IdempotencyKeysTable;
  processed_payment_events: ProcessedPaymentEventsTable;
  booking_events: BookingEventsTable;
  booking_event_relay: BookingEventRelayTable;
  booking_event_purges: BookingEventPurgesTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  messages: MessagesTable;
  message_thread_reads: MessageThreadReadsTable;
  guest_verifications: GuestVerificationsTable;
  booking_calendar_sequences: BookingCalendarSequencesTable;
  notification_jobs: NotificationJobsTable;
}
