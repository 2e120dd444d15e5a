import type { PositionedHook } from '../events/outbox-relay.js';
import { insertDeliveriesForEvents } from './webhook-deliveries.repository.js';

/**
 * The relay's hook: in the transaction that gives events their positions, one delivery per event
 * and matching endpoint, in one statement whatever the number of events. So a delivery exists if
 * and only if its event was relayed, whichever process relayed it, and exactly once.
 */
export const createWebhookDeliveries: PositionedHook = async (trx, events) => {
  await insertDeliveriesForEvents(trx, events);
};
