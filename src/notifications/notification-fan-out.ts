import type { PositionedHook } from '../events/outbox-relay.js';
import type { Db } from '../db/sql-helpers.js';
import type { AppMetrics } from '../server/metrics.js';
import { countJobBacklog, insertJobsForEvents } from './notification-jobs.repository.js';

/**
 * The relay's hook: in the transaction that gives events their positions, their notification jobs
 * (e-mails, reminders scheduled, moved or dropped, a message's e-mail to the other side of its thread) in one statement whatever the number of events.
 * So a job exists if and only if its event was relayed, whichever process relayed it, and once.
 */
export function createNotificationJobs(now: () => Date, messageEmailDelaySeconds: number): PositionedHook {
  return (trx, events) => insertJobsForEvents(trx, events, now(), messageEmailDelaySeconds);
}

/** Past this many the counts read as this many: a scrape's query stays bounded. */
export const NOTIFICATION_BACKLOG_CAP = 10_000;

/** The queue's dead and due jobs for GET /metrics, read from the database at each scrape. */
export function registerNotificationMetrics(metrics: AppMetrics, db: Db, now: () => Date): void {
  metrics.gaugeFrom('notification_jobs', `Notification jobs of every process by state: dead (gave up after their last attempt) and due (pending and due now); at most ${NOTIFICATION_BACKLOG_CAP} each.`, ['state'], async () => {
    const { dead, due } = await countJobBacklog(db, now(), NOTIFICATION_BACKLOG_CAP);
    return [[{ state: 'dead' }, dead], [{ state: 'due' }, due]];
  });
}
