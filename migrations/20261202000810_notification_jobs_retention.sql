-- The retention job purges notification jobs that finished (sent, or dropped with their booking)
-- longer ago than RETENTION_NOTIFICATION_JOB_DAYS, oldest first: one index range per batch. Dead
-- jobs stay for operators (notification_jobs_dead) until they retry or delete them.
CREATE INDEX notification_jobs_finished ON notification_jobs (finished_at) WHERE status IN ('done', 'dropped');
