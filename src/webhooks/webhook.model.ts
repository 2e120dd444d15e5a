import type { WebhookDeliveryStatus, WebhookEndpointStatus } from '../__generated__/resolvers-types.js';
import type { BookingEventModel, BookingEventType } from '../events/booking-event.model.js';

/** A registered endpoint as the layers above the repository see it. The secret is never part of it. */
export interface WebhookEndpointModel {
  id: string;
  businessId: string;
  /** Only this partner's bookings' events; null for the whole business. */
  partnerId: string | null;
  url: string;
  eventTypes: BookingEventType[];
  status: WebhookEndpointStatus;
  consecutiveFailures: number;
  pausedAt: string | null;
  pauseReason: string | null;
  createdAt: string;
}

/** One event to one endpoint, with the outcome of its last attempt. */
export interface WebhookDeliveryModel {
  id: string;
  businessId: string;
  endpointId: string;
  event: BookingEventModel;
  status: WebhookDeliveryStatus;
  attempts: number;
  /** Null unless pending with an attempt scheduled (a paused endpoint's deliveries have none). */
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: string | null;
  createdAt: string;
  redeliveryOfId: string | null;
}
