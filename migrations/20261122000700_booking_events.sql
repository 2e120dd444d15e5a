-- Booking events (subscriptions): the transactional outbox, which is also the replay log.

-- One row per booking change and per payment status change, inserted by the mutation in the same
-- transaction as the change itself: an event exists if and only if its change committed.
--
-- `position` is the event's cursor. It is not the id: ids are handed out when rows are inserted, and
-- transactions commit in another order, so a reader that has seen id 11 may later find id 10.
-- Positions are handed out by the relay, one run at a time (it locks booking_event_relay), to
-- committed rows only, so they are dense (no gaps: the counter rolls back with a failed run) and
-- increase in the order events become visible. A reader that has seen position P has seen, or can
-- read, every position below it.
CREATE TABLE booking_events (
  id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  business_id   bigint      NOT NULL REFERENCES businesses (id),
  booking_id    bigint      NOT NULL,
  -- Set for PAYMENT_STATUS_CHANGED.
  payment_id    bigint,
  -- The booking's partner, then the previous one after a move to another partner: both are told.
  partner_ids   bigint[]    NOT NULL CHECK (cardinality(partner_ids) BETWEEN 1 AND 2),
  type          text        NOT NULL CHECK (type IN ('BOOKING_CREATED', 'BOOKING_CONFIRMED', 'BOOKING_CANCELLED',
                                                    'BOOKING_RESCHEDULED', 'BOOKING_COMPLETED', 'BOOKING_NO_SHOW',
                                                    'PAYMENT_STATUS_CHANGED')),
  occurred_at   timestamptz NOT NULL DEFAULT now(),
  -- What the booking (and payment) looked like right after the change, and before it where it moved.
  data          jsonb       NOT NULL,
  position      bigint      UNIQUE,
  relayed_at    timestamptz,
  published_at  timestamptz,
  FOREIGN KEY (business_id, booking_id) REFERENCES bookings (business_id, id),
  FOREIGN KEY (business_id, payment_id) REFERENCES payments (business_id, id),
  CHECK ((position IS NULL) = (relayed_at IS NULL))
);
-- The relay's queue: committed events without a position yet, oldest first.
CREATE INDEX booking_events_unrelayed_idx ON booking_events (id) WHERE position IS NULL;
-- Positioned but not yet published (the process died, or Redis was down): published again.
CREATE INDEX booking_events_unpublished_idx ON booking_events (position) WHERE position IS NOT NULL AND published_at IS NULL;
-- Replay: a business's events after a cursor.
CREATE INDEX booking_events_replay_idx ON booking_events (business_id, position) WHERE position IS NOT NULL;

-- The relay's counter: the last position handed out. Its row lock serializes relay runs across
-- every API process.
CREATE TABLE booking_event_relay (
  id             integer PRIMARY KEY CHECK (id = 1),
  last_position  bigint  NOT NULL CHECK (last_position >= 0)
);
INSERT INTO booking_event_relay (id, last_position) VALUES (1, 0);
