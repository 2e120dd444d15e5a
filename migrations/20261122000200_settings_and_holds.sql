-- Booking settings per business and buffers per service (availability), and the columns a slot
-- hold sets on the slots it reserves (integrity).

ALTER TABLE businesses
  ADD COLUMN slot_minutes integer NOT NULL DEFAULT 30 CHECK (slot_minutes BETWEEN 5 AND 240 AND 1440 % slot_minutes = 0),
  ADD COLUMN min_notice_minutes integer NOT NULL DEFAULT 60 CHECK (min_notice_minutes BETWEEN 0 AND 43200),
  ADD COLUMN max_advance_days integer NOT NULL DEFAULT 60 CHECK (max_advance_days BETWEEN 1 AND 730),
  ADD COLUMN cancellation_window_minutes integer NOT NULL DEFAULT 1440 CHECK (cancellation_window_minutes BETWEEN 0 AND 43200);

ALTER TABLE services
  ADD COLUMN buffer_before_minutes integer NOT NULL DEFAULT 0 CHECK (buffer_before_minutes BETWEEN 0 AND 240),
  ADD COLUMN buffer_after_minutes integer NOT NULL DEFAULT 0 CHECK (buffer_after_minutes BETWEEN 0 AND 240);

-- A held slot keeps status 'available' and carries the hold until `held_until`; it is free again
-- the moment that passes, with no job to run first. A slot is free for booking exactly when
-- status = 'available' AND (held_until IS NULL OR held_until <= now()).
ALTER TABLE partner_slots
  ADD COLUMN hold_id bigint,
  ADD COLUMN held_until timestamptz,
  ADD CONSTRAINT partner_slots_hold_check CHECK ((hold_id IS NULL) = (held_until IS NULL));
