-- Indexes measured on the data set of `npm run seed:large` (1 M bookings and events): see README,
-- "Query plans at scale".

-- bookingEventsSince(partnerId): a partner's events in position order, by the booking's partner
-- (partner_ids[1]) and by the previous one after a move (partner_ids[2], set on few events), instead
-- of every event of the partner's business (a marketplace has hundreds of partners).
CREATE INDEX booking_events_partner_idx ON booking_events ((partner_ids[1]), position) WHERE position IS NOT NULL;
CREATE INDEX booking_events_previous_partner_idx ON booking_events ((partner_ids[2]), position)
  WHERE position IS NOT NULL AND partner_ids[2] IS NOT NULL;
-- Statistics of the indexed expressions now, rather than at the next auto-analyze.
ANALYZE booking_events;

-- Never read: every read of a partner's bookings goes through bookings_partner_starts_idx (the same
-- leading columns, a weaker predicate), and the overlap check through the exclusion constraint
-- bookings_no_overlap, which stays: it alone refuses double booking. Dropping it saves a write
-- to one index per booking insert and status change.
DROP INDEX bookings_partner_active_idx;
