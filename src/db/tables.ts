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

export type BusinessKind = 'marketplace' | 'salon' | 'driving_school' | 'barber_shop' | 'appointments';
export type SlotStatus = 'available' | 'booked' | 'blocked';
export type BookingStatus = 'pending' | 'confirmed' | 'cancelled' | 'completed' | 'no_show';
export type PaymentStatus = 'pending' | 'succeeded' | 'failed' | 'refunded';

export interface BusinessesTable {
  id: GeneratedId;
  slug: string;
  name: string;
  kind: BusinessKind;
  city: string;
  time_zone: string;
  currency: string;
  slot_minutes: Generated<number>;
  min_notice_minutes: Generated<number>;
  max_advance_days: Generated<number>;
  cancellation_window_minutes: Generated<number>;
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
  created_at: DefaultTimestamp;
  deleted_at: Timestamp | null;
}

export interface PartnersTable {
  id: GeneratedId;
  business_id: Id;
  name: string;
  city: string;
  is_active: Generated<boolean>;
  active_booking_count: Generated<number>;
  created_at: DefaultTimestamp;
}

export interface CustomersTable {
  id: GeneratedId;
  business_id: Id;
  email: string;
  name: string;
  created_at: DefaultTimestamp;
  deleted_at: Timestamp | null;
}

export interface PartnerSlotsTable {
  id: GeneratedId;
  business_id: Id;
  partner_id: Id;
  slot_start: Timestamp;
  slot_end: Timestamp;
  status: Generated<SlotStatus>;
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
  status: Generated<BookingStatus>;
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
  status: Generated<PaymentStatus>;
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

export interface SlotHoldsTable {
  id: GeneratedId;
  business_id: Id;
  customer_id: Id;
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

export interface Database {
  businesses: BusinessesTable;
  services: ServicesTable;
  partners: PartnersTable;
  customers: CustomersTable;
  partner_slots: PartnerSlotsTable;
  bookings: BookingsTable;
  payments: PaymentsTable;
  audit_logs: AuditLogsTable;
  partner_weekly_hours: PartnerWeeklyHoursTable;
  partner_schedule_exceptions: PartnerScheduleExceptionsTable;
  slot_holds: SlotHoldsTable;
  idempotency_keys: IdempotencyKeysTable;
  processed_payment_events: ProcessedPaymentEventsTable;
}
