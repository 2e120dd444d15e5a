import type { BookingEventData, BookingEventModel } from '../events/booking-event.model.js';
import { signatureHeader } from '../shared/webhook-signature.js';
import { toGlobalId } from '../shared/global-id.js';

/**
 * What an endpoint receives: the event in a JSON body, IDs as the API's global IDs (raw database
 * ids never leave the API), and headers to deduplicate, route and authenticate it.
 */
export interface WebhookBody {
  /** The event's cursor, which identifies it across the API. */
  id: string;
  type: BookingEventModel['type'];
  cursor: string;
  occurredAt: string;
  businessId: string;
  bookingId: string;
  paymentId: string | null;
  partnerIds: string[];
  data: BookingEventData;
}

export const WebhookHeader = {
  /** The same for every attempt and redelivery of one event to one endpoint: receivers deduplicate on it. */
  Id: 'webhook-id',
  /** The event's type, to route a request without parsing its body. */
  Event: 'webhook-event',
  /** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, keyed with the endpoint's secret. */
  Signature: 'webhook-signature',
} as const;

export function webhookBodyOf(event: BookingEventModel): WebhookBody {
  const { data } = event;
  return {
    id: event.position,
    type: event.type,
    cursor: event.position,
    occurredAt: event.occurredAt,
    businessId: toGlobalId('Business', event.businessId),
    bookingId: toGlobalId('Booking', event.bookingId),
    paymentId: event.paymentId ? toGlobalId('Payment', event.paymentId) : null,
    partnerIds: event.partnerIds.map((id) => toGlobalId('Partner', id)),
    data: {
      ...data,
      booking: { ...data.booking, partnerId: toGlobalId('Partner', data.booking.partnerId) },
      ...(data.previous ? { previous: { ...data.previous, partnerId: toGlobalId('Partner', data.previous.partnerId) } } : {}),
      // The message's ID and side only: its text is read through the API, by whom may see it.
      ...(data.message ? { message: { ...data.message, id: toGlobalId('Message', data.message.id) } } : {}),
    },
  };
}

/** The `Webhook-Id` of an event sent to an endpoint. */
export function webhookIdOf(endpointId: string, eventPosition: string): string {
  return `${toGlobalId('WebhookEndpoint', endpointId)}.${eventPosition}`;
}

/** The raw body (signed as is) and the headers of one attempt, signed at `unixSeconds`. */
export function webhookRequestOf(args: { endpointId: string; secret: string; event: BookingEventModel; unixSeconds: number }): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(webhookBodyOf(args.event));
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'booking-api-webhooks/1',
      [WebhookHeader.Id]: webhookIdOf(args.endpointId, args.event.position),
      [WebhookHeader.Event]: args.event.type,
      [WebhookHeader.Signature]: signatureHeader(args.secret, args.unixSeconds, body),
    },
  };
}
