-- Payment webhooks and refunds (integrity).

-- Provider events already applied, by the provider's event id. A webhook inserts its event here
-- (ON CONFLICT DO NOTHING) in the same transaction as the change it makes, so a replayed or
-- concurrent duplicate finds the row and changes nothing. Providers retry an event for up to 3
-- days, re-signing each retry, so rows are kept at least that long (PROCESSED_EVENT_RETENTION_DAYS)
-- and pruned in small batches by age. No tenant column: an event belongs to the provider account.
CREATE TABLE processed_payment_events (
  provider     text        NOT NULL,
  event_id     text        NOT NULL CHECK (length(event_id) BETWEEN 1 AND 255),
  event_type   text        NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, event_id)
);
-- Pruning: the oldest rows first, a bounded batch at a time.
CREATE INDEX processed_payment_events_received_idx ON processed_payment_events (received_at);

-- Refunds are in full today; the amount is kept so partial refunds need no migration later.
ALTER TABLE payments
  ADD COLUMN refunded_at timestamptz,
  ADD COLUMN amount_refunded_cents integer NOT NULL DEFAULT 0,
  ADD CONSTRAINT payments_refund_check CHECK (amount_refunded_cents BETWEEN 0 AND amount_cents);
