-- Retention (issue 13, "Growth kept flat"): the purge job (src/retention/) deletes what the tables
-- that only grow no longer need, oldest first, in bounded batches. Each batch reads an index in the
-- order of the age it tests, so a batch reads the rows it deletes and no others.
--
-- Plain tables with purges rather than time partitions: partner_slots and bookings carry the
-- exclusion constraints that refuse overlaps (partner_slots_no_overlap, bookings_no_overlap), and
-- PostgreSQL 15 cannot put one on a partitioned table; the event log and the delivery log are
-- referenced by keys (webhook_deliveries.event_id, redelivery_of) that partitions by time would
-- have to carry in every key. See README, "Retention".

-- Booking events: positioned ones by age (the purge never takes an event the relay has not
-- positioned and published).
CREATE INDEX booking_events_occurred_idx ON booking_events (occurred_at) WHERE position IS NOT NULL;

-- Audit rows by age (the table had no secondary index: none was read).
CREATE INDEX audit_logs_created_idx ON audit_logs (created_at);

-- Finished deliveries (succeeded or failed) by age; pending ones are work still to do.
CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (created_at) WHERE status <> 'pending';
-- Deleting an event or a delivery checks the keys that point at it: without these, each deleted
-- row's check would read the whole delivery table.
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);
CREATE INDEX webhook_deliveries_redelivery_idx ON webhook_deliveries (redelivery_of) WHERE redelivery_of IS NOT NULL;

-- Past slots nobody booked (free or blocked) by end. Booked slots stay: their booking points at
-- them, and Booking.slots reads them.
CREATE INDEX partner_slots_unbooked_end_idx ON partner_slots (slot_end) WHERE status <> 'booked';

-- Per business, the highest position the purge deleted. bookingEventsSince from a cursor below it
-- answers EVENTS_PURGED instead of skipping what is gone. Written by the purge's own statement.
CREATE TABLE booking_event_purges (
  business_id     bigint      PRIMARY KEY,
  purged_through  bigint      NOT NULL CHECK (purged_through > 0),
  purged_at       timestamptz NOT NULL DEFAULT now()
);
