import type { Db } from '../db/sql-helpers.js';
import type { AppMetrics } from '../server/metrics.js';
import { outboxLagSeconds } from './booking-events.repository.js';
import type { BookingEventHub } from './event-hub.js';
import type { OutboxRelay } from './outbox-relay.js';

/** Booking event counters and gauges for GET /metrics (names unchanged since the hand-built exposition), and the outbox's lag. */
export function registerEventMetrics(metrics: AppMetrics, relay: OutboxRelay, hub: BookingEventHub, db: Db): void {
  metrics.counterFrom('booking_events_published_total', 'Events this process published to the bus (republished ones included).', [], () => relay.stats.published);
  metrics.counterFrom('booking_events_publish_failures_total', 'Publishes that failed (the events stayed in the outbox for a later run).', [], () => relay.stats.publishFailures);
  metrics.counterFrom('booking_events_delivered_total', 'Events this process handed to its subscribers, each position once.', [], () => hub.stats.delivered);
  metrics.counterFrom('booking_events_caught_up_total', 'Events read from the outbox because the bus did not bring them (gap, reconnect).', [], () => hub.stats.caughtUp);
  metrics.counterFrom('booking_events_duplicates_total', 'Events received again from the bus and dropped.', [], () => hub.stats.duplicates);
  metrics.gaugeFrom('booking_events_position', 'The last position this process delivered.', [], () => hub.position);
  metrics.gaugeFrom('booking_event_subscribers', 'Live bookingEvents subscriptions in this process.', [], () => hub.subscriberCount);
  metrics.gaugeFrom('booking_outbox_lag_seconds', 'Age of the oldest committed booking event not yet published (0 when none); read from the database at each scrape.', [], () => outboxLagSeconds(db));
}
