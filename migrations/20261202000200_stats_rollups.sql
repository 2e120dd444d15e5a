-- Business.stats: daily rollups, one row per (business, local day, partner, service), so that a
-- year of a busy business's statistics is one range read of a primary key. Derived data only:
-- `npm run stats:rebuild` recomputes every row from bookings, payments and slots.
--
-- booking_stats_daily is kept by the outbox relay (src/stats/): the booking events it positions
-- name the (day, partner, service) keys they touched, and those rows are recomputed from the
-- source tables in the relay's transaction. `day` is the booking's start as a local date in the
-- business's time zone; money is in the business's currency (payments in another are left out).
CREATE TABLE booking_stats_daily (
  business_id bigint NOT NULL,
  day date NOT NULL,
  partner_id bigint NOT NULL,
  service_id bigint NOT NULL,
  bookings integer NOT NULL,
  pending integer NOT NULL,
  confirmed integer NOT NULL,
  cancelled integer NOT NULL,
  completed integer NOT NULL,
  no_show integer NOT NULL,
  -- Minutes of the bookings that hold their time (every status but cancelled).
  booked_minutes integer NOT NULL,
  -- Bookings that are their customer's first at the business (by creation), and the others.
  new_customers integer NOT NULL,
  returning_bookings integer NOT NULL,
  -- Sum over the bookings of (start - creation) in minutes: the average lead time's numerator.
  lead_minutes bigint NOT NULL,
  captured_cents bigint NOT NULL,
  refunded_cents bigint NOT NULL,
  PRIMARY KEY (business_id, day, partner_id, service_id)
);

-- Which events each business's rollups have taken: an event at or below the mark is skipped, so
-- an event applied twice (a replay, a relay run repeated) counts once. Moved in the same
-- transaction as the rows.
CREATE TABLE booking_stats_progress (
  business_id bigint PRIMARY KEY,
  last_position bigint NOT NULL
);

-- Recomputes the rollup rows of the given (business, partner, service, local day) keys from
-- bookings and payments; a key left without bookings loses its row. The relay runs it for the keys
-- its events touched, the rebuild for every key: one definition of every number.
CREATE FUNCTION booking_stats_daily_refresh(business_ids bigint[], partner_ids bigint[], service_ids bigint[], days date[]) RETURNS void
LANGUAGE sql AS $$
  WITH k AS (
    SELECT DISTINCT x.b, x.p, x.s, x.d FROM unnest(business_ids, partner_ids, service_ids, days) AS x(b, p, s, d)
  ), totals AS (
    SELECT k.b, k.p, k.s, k.d,
      count(bk.id)::integer AS bookings,
      count(bk.id) FILTER (WHERE bk.status = 'pending')::integer AS pending,
      count(bk.id) FILTER (WHERE bk.status = 'confirmed')::integer AS confirmed,
      count(bk.id) FILTER (WHERE bk.status = 'cancelled')::integer AS cancelled,
      count(bk.id) FILTER (WHERE bk.status = 'completed')::integer AS completed,
      count(bk.id) FILTER (WHERE bk.status = 'no_show')::integer AS no_show,
      COALESCE(sum(round(EXTRACT(EPOCH FROM (bk.ends_at - bk.starts_at)) / 60)) FILTER (WHERE bk.status <> 'cancelled'), 0)::integer AS booked_minutes,
      count(bk.id) FILTER (WHERE NOT EXISTS (
        SELECT 1 FROM bookings earlier
        WHERE earlier.customer_id = bk.customer_id AND earlier.id < bk.id AND earlier.deleted_at IS NULL))::integer AS new_customers,
      COALESCE(sum(GREATEST(0, round(EXTRACT(EPOCH FROM (bk.starts_at - bk.created_at)) / 60))), 0)::bigint AS lead_minutes,
      COALESCE(sum(pay.captured), 0)::bigint AS captured_cents,
      COALESCE(sum(pay.refunded), 0)::bigint AS refunded_cents
    FROM k
    JOIN businesses bz ON bz.id = k.b
    -- By partner and time alone (bookings_partner_starts_idx): a partner is of one business
    -- (foreign keys), and a condition on business_id made the planner AND in the business's index.
    LEFT JOIN bookings bk ON bk.partner_id = k.p AND bk.service_id = k.s AND bk.deleted_at IS NULL
      AND bk.starts_at >= (k.d::timestamp AT TIME ZONE bz.time_zone)
      AND bk.starts_at < ((k.d + 1)::timestamp AT TIME ZONE bz.time_zone)
    LEFT JOIN LATERAL (
      -- Captured: succeeded payments and refunded ones (taken, then given back); a refunded
      -- payment written without its refunded amount counts as refunded in full.
      SELECT sum(py.amount_cents) AS captured,
        sum(CASE WHEN py.status = 'refunded' THEN GREATEST(py.amount_refunded_cents, py.amount_cents) ELSE py.amount_refunded_cents END) AS refunded
      FROM payments py
      WHERE py.booking_id = bk.id AND py.status IN ('succeeded', 'refunded') AND py.currency = bz.currency
    ) pay ON true
    GROUP BY k.b, k.p, k.s, k.d
  ), gone AS (
    DELETE FROM booking_stats_daily r USING totals t
    WHERE r.business_id = t.b AND r.partner_id = t.p AND r.service_id = t.s AND r.day = t.d AND t.bookings = 0
  )
  INSERT INTO booking_stats_daily (business_id, day, partner_id, service_id, bookings, pending, confirmed, cancelled, completed, no_show,
    booked_minutes, new_customers, returning_bookings, lead_minutes, captured_cents, refunded_cents)
  SELECT t.b, t.d, t.p, t.s, t.bookings, t.pending, t.confirmed, t.cancelled, t.completed, t.no_show,
    t.booked_minutes, t.new_customers, t.bookings - t.new_customers, t.lead_minutes, t.captured_cents, t.refunded_cents
  FROM totals t WHERE t.bookings > 0
  -- In key order: a rebuilt table lies in its primary key's order, so a busy business's year,
  -- a large share of a small table, is still read by the key rather than by a scan of it all.
  ORDER BY t.b, t.d, t.p, t.s
  ON CONFLICT (business_id, day, partner_id, service_id) DO UPDATE SET
    bookings = EXCLUDED.bookings, pending = EXCLUDED.pending, confirmed = EXCLUDED.confirmed, cancelled = EXCLUDED.cancelled,
    completed = EXCLUDED.completed, no_show = EXCLUDED.no_show, booked_minutes = EXCLUDED.booked_minutes,
    new_customers = EXCLUDED.new_customers, returning_bookings = EXCLUDED.returning_bookings, lead_minutes = EXCLUDED.lead_minutes,
    captured_cents = EXCLUDED.captured_cents, refunded_cents = EXCLUDED.refunded_cents
$$;

-- Open time: minutes of a partner's slots (blocked ones excepted) per local day. Slots change
-- without booking events (the schedule job, schedule edits, blocks, bulk loads), so the table is
-- kept by triggers on partner_slots, in the transaction of the change, whatever wrote it.
CREATE TABLE partner_open_daily (
  business_id bigint NOT NULL,
  day date NOT NULL,
  partner_id bigint NOT NULL,
  open_minutes integer NOT NULL,
  PRIMARY KEY (business_id, day, partner_id)
);

-- Recomputes the open minutes of the given (business, partner, local day) keys from partner_slots;
-- a key left without open time loses its row. Also what the rebuild runs, over every key.
CREATE FUNCTION partner_open_daily_refresh(business_ids bigint[], partner_ids bigint[], days date[]) RETURNS void
LANGUAGE sql AS $$
  WITH k AS (
    SELECT DISTINCT x.b, x.p, x.d FROM unnest(business_ids, partner_ids, days) AS x(b, p, d)
  ), totals AS (
    SELECT k.b, k.p, k.d,
      COALESCE(sum(EXTRACT(EPOCH FROM (sl.slot_end - sl.slot_start)) / 60), 0)::integer AS minutes
    FROM k
    JOIN businesses bz ON bz.id = k.b
    LEFT JOIN partner_slots sl ON sl.partner_id = k.p AND sl.status <> 'blocked'
      AND sl.slot_start >= (k.d::timestamp AT TIME ZONE bz.time_zone)
      AND sl.slot_start < ((k.d + 1)::timestamp AT TIME ZONE bz.time_zone)
    GROUP BY k.b, k.p, k.d
  ), gone AS (
    DELETE FROM partner_open_daily o USING totals t
    WHERE o.business_id = t.b AND o.partner_id = t.p AND o.day = t.d AND t.minutes = 0
  )
  INSERT INTO partner_open_daily (business_id, day, partner_id, open_minutes)
  SELECT t.b, t.d, t.p, t.minutes FROM totals t WHERE t.minutes > 0
  ON CONFLICT (business_id, day, partner_id) DO UPDATE SET open_minutes = EXCLUDED.open_minutes
$$;

-- One statement-level trigger per operation (transition tables need it): the keys of the rows the
-- statement inserted or deleted, or of the rows an update blocked, unblocked or moved. Claiming a
-- slot for a booking (status available <-> booked) changes no open time and refreshes nothing.
CREATE FUNCTION partner_slots_open_time() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  bs bigint[];
  ps bigint[];
  ds date[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(k.business_id), array_agg(k.partner_id), array_agg(k.day) INTO bs, ps, ds FROM (
      SELECT DISTINCT n.business_id, n.partner_id, (n.slot_start AT TIME ZONE bz.time_zone)::date AS day
      FROM new_slots n JOIN businesses bz ON bz.id = n.business_id) k;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(k.business_id), array_agg(k.partner_id), array_agg(k.day) INTO bs, ps, ds FROM (
      SELECT DISTINCT o.business_id, o.partner_id, (o.slot_start AT TIME ZONE bz.time_zone)::date AS day
      FROM old_slots o JOIN businesses bz ON bz.id = o.business_id) k;
  ELSE
    SELECT array_agg(k.business_id), array_agg(k.partner_id), array_agg(k.day) INTO bs, ps, ds FROM (
      SELECT DISTINCT c.business_id, c.partner_id, (c.slot_start AT TIME ZONE bz.time_zone)::date AS day
      FROM (
        SELECT o.business_id, o.partner_id, o.slot_start FROM old_slots o JOIN new_slots n ON n.id = o.id
        WHERE (o.status = 'blocked') IS DISTINCT FROM (n.status = 'blocked') OR o.slot_start <> n.slot_start OR o.slot_end <> n.slot_end OR o.partner_id <> n.partner_id
        UNION ALL
        SELECT n.business_id, n.partner_id, n.slot_start FROM old_slots o JOIN new_slots n ON n.id = o.id
        WHERE (o.status = 'blocked') IS DISTINCT FROM (n.status = 'blocked') OR o.slot_start <> n.slot_start OR o.slot_end <> n.slot_end OR o.partner_id <> n.partner_id
      ) c JOIN businesses bz ON bz.id = c.business_id) k;
  END IF;
  IF bs IS NOT NULL THEN
    PERFORM partner_open_daily_refresh(bs, ps, ds);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER partner_slots_open_time_insert AFTER INSERT ON partner_slots
  REFERENCING NEW TABLE AS new_slots FOR EACH STATEMENT EXECUTE FUNCTION partner_slots_open_time();
CREATE TRIGGER partner_slots_open_time_update AFTER UPDATE ON partner_slots
  REFERENCING OLD TABLE AS old_slots NEW TABLE AS new_slots FOR EACH STATEMENT EXECUTE FUNCTION partner_slots_open_time();
CREATE TRIGGER partner_slots_open_time_delete AFTER DELETE ON partner_slots
  REFERENCING OLD TABLE AS old_slots FOR EACH STATEMENT EXECUTE FUNCTION partner_slots_open_time();

-- What the data already in the database gives. Events positioned from now on move the marks.
SELECT booking_stats_daily_refresh(array_agg(k.business_id), array_agg(k.partner_id), array_agg(k.service_id), array_agg(k.day)) FROM (
  SELECT DISTINCT bk.business_id, bk.partner_id, bk.service_id, (bk.starts_at AT TIME ZONE bz.time_zone)::date AS day
  FROM bookings bk JOIN businesses bz ON bz.id = bk.business_id WHERE bk.deleted_at IS NULL) k;
INSERT INTO booking_stats_progress (business_id, last_position)
SELECT e.business_id, max(e.position) FROM booking_events e WHERE e.position IS NOT NULL GROUP BY e.business_id;

SELECT partner_open_daily_refresh(array_agg(k.business_id), array_agg(k.partner_id), array_agg(k.day)) FROM (
  SELECT DISTINCT sl.business_id, sl.partner_id, (sl.slot_start AT TIME ZONE bz.time_zone)::date AS day
  FROM partner_slots sl JOIN businesses bz ON bz.id = sl.business_id) k;
