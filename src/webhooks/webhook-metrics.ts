import type { Db } from '../db/sql-helpers.js';
import type { AppMetrics } from '../server/metrics.js';
import { countDueWebhookDeliveries } from './webhook-deliveries.repository.js';

/** Past this many due deliveries the backlog reads as this many: the scrape's query stays bounded. */
export const WEBHOOK_BACKLOG_CAP = 10_000;

/** The webhook backlog for GET /metrics, read from the database at each scrape. */
export function registerWebhookMetrics(metrics: AppMetrics, db: Db): void {
  metrics.gaugeFrom('webhook_deliveries_due', `Pending webhook deliveries due now, of every process (at most ${WEBHOOK_BACKLOG_CAP}; paused endpoints' deliveries are not counted).`, [], () => countDueWebhookDeliveries(db, WEBHOOK_BACKLOG_CAP));
}
