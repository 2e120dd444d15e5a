-- The retention job deletes free and blocked slots that ended long ago (RETENTION_UNBOOKED_SLOT_DAYS).
-- Those days' open time is history: the purge says so with a transaction-local setting, and the
-- open-time trigger leaves the rollups of its deletes alone (else every day past the retention
-- period would drop to its booked minutes, and its utilisation to about 1).
CREATE OR REPLACE FUNCTION partner_slots_open_time() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  bs bigint[];
  ps bigint[];
  ds date[];
BEGIN
  -- The retention job's purge of past free slots keeps the open time those days had.
  IF current_setting('booking_api.retention_purge', true) = 'on' THEN
    RETURN NULL;
  END IF;
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
