-- customerErase: a customer's personal data is replaced (name, e-mail) and the account link cut;
-- the row stays, so that its bookings and payments keep their customer for accounting. erased_at
-- says it happened (and makes a second erasure change nothing).
ALTER TABLE customers ADD COLUMN erased_at timestamptz;
