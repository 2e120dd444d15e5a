-- Notifications (issue 15): booking e-mails with calendar invites, reminders, and the durable job
-- queue that sends them.

-- How many hours before a booking's start its customer is reminded; 0: no reminders.
ALTER TABLE businesses ADD COLUMN reminder_hours integer NOT NULL DEFAULT 24 CHECK (reminder_hours BETWEEN 0 AND 720);

-- A customer's messaging preferences: a phone for text reminders (E.164), the locale of their
-- messages (null: the business's default locale), and when they opted out of non-essential
-- messages (reminders), null while they get them.
ALTER TABLE customers ADD COLUMN phone text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$');
ALTER TABLE customers ADD COLUMN locale text CHECK (locale ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$');
ALTER TABLE customers ADD COLUMN reminders_opted_out_at timestamptz;

-- The iCalendar SEQUENCE of each booking's invitation: 0 for the first message, one more for every
-- change after it. Written by the outbox relay's hook, in event order.
CREATE TABLE booking_calendar_sequences (
  booking_id bigint PRIMARY KEY,
  business_id bigint NOT NULL,
  sequence integer NOT NULL
);

-- The job queue. A job is due when status = 'pending' and run_at has come; a worker claims it by
-- moving run_at past its lease (a worker that dies leaves it due again when the lease ends), then
-- marks it 'done', retries it later (run_at pushed by exponential backoff), or after max attempts
-- marks it 'dead'. 'dropped': no longer wanted (a cancelled booking's reminder). `version` grows at
-- every claim and every reschedule, so an outcome recorded by a stale claim changes nothing.
-- UNIQUE (kind, key): one job per event and recipient, exactly one reminder per booking and kind.
CREATE TABLE notification_jobs (
  id bigserial PRIMARY KEY,
  kind text NOT NULL,
  key text NOT NULL,
  business_id bigint NOT NULL,
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dead', 'dropped')),
  run_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  version integer NOT NULL DEFAULT 0,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  UNIQUE (kind, key)
);
-- The claim reads only due pending jobs, in run_at order.
CREATE INDEX notification_jobs_due ON notification_jobs (run_at) WHERE status = 'pending';
-- Operators list dead jobs, newest first.
CREATE INDEX notification_jobs_dead ON notification_jobs (finished_at DESC) WHERE status = 'dead';
