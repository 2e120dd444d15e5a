import type { BookingEventHub } from './event-hub.js';
import type { OutboxRelay } from './outbox-relay.js';

/** Booking event counters and gauges for GET /metrics (Prometheus text format). */
export function eventMetrics(relay: OutboxRelay, hub: BookingEventHub, websocketConnections: () => number): string {
  const rows: Array<[name: string, type: 'counter' | 'gauge', help: string, value: number]> = [
    ['booking_events_published_total', 'counter', 'Events this process published to the bus (republished ones included).', relay.stats.published],
    ['booking_events_publish_failures_total', 'counter', 'Publishes that failed (the events stayed in the outbox for a later run).', relay.stats.publishFailures],
    ['booking_events_delivered_total', 'counter', 'Events this process handed to its subscribers, each position once.', hub.stats.delivered],
    ['booking_events_caught_up_total', 'counter', 'Events read from the outbox because the bus did not bring them (gap, reconnect).', hub.stats.caughtUp],
    ['booking_events_duplicates_total', 'counter', 'Events received again from the bus and dropped.', hub.stats.duplicates],
    ['booking_events_position', 'gauge', 'The last position this process delivered.', hub.position],
    ['booking_event_subscribers', 'gauge', 'Live bookingEvents subscriptions in this process.', hub.subscriberCount],
    ['websocket_connections', 'gauge', 'Open WebSocket connections.', websocketConnections()],
  ];
  return rows.map(([name, type, help, value]) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}\n`).join('');
}
