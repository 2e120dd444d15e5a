import type { Db } from '../db/sql-helpers.js';
import { recordProcessedEvent } from '../payments/processed-payment-events.repository.js';
import type { ChangeFeed } from '../shared/change-feed.js';
import type { Logger } from '../shared/logger.js';
import { commitStep, type Step } from '../shared/mutation.js';
import type { PayoutEvent } from './payout-provider.js';
import { payoutChange } from './payouts.actions.js';
import { lockPayoutByReference, releasePayoutEarnings, settlePayout } from './payouts.repository.js';

/**
 * Applies a verified payout event, once, the way payment events are applied: its id goes into
 * processed_payment_events (under the provider name `payout:<provider>`, so payment and payout
 * events of one provider never collide, and the same retention and pruning apply) in the
 * transaction of its effect, so a replay or a concurrent duplicate changes nothing. A payout moves
 * once, from PENDING to PAID or FAILED, and never again: an event for a settled payout is
 * acknowledged and changes nothing (a `payout.paid` after a failure is logged as an error: its
 * earnings may have been paid again since).
 *
 * A failed payout releases its earnings: they are unpaid again (their items stay, released, as the
 * payout's history), so the next payoutCreate pays them.
 */
export type PayoutWebhookOutcome = 'applied' | 'duplicate' | 'unchanged' | 'unknown_payout';

export interface PayoutWebhookServices {
  db: Db;
  changes: ChangeFeed;
  log: Logger;
}

/** The provider name payout events are deduplicated under, beside the payment events of providers. */
export function payoutEventSource(provider: string): string {
  return `payout:${provider}`;
}

export async function applyPayoutEvent(services: PayoutWebhookServices, provider: string, event: PayoutEvent): Promise<PayoutWebhookOutcome> {
  const result = await commitStep(services, `provider:${provider}`, async (trx): Promise<Step<PayoutWebhookOutcome>> => {
    if (!(await recordProcessedEvent(trx, { provider: payoutEventSource(provider), eventId: event.id, type: event.type }))) return { value: 'duplicate' };
    const before = await lockPayoutByReference(trx, provider, event.reference);
    if (!before) return { value: 'unknown_payout' };
    const status = event.type === 'payout.paid' ? 'PAID' : 'FAILED';
    if (before.status !== 'PENDING') {
      if (before.status !== status) services.log.error('A payout event contradicts the payout\'s settled status; nothing changed', { provider, payoutId: before.id, status: before.status, eventType: event.type, eventId: event.id });
      return { value: 'unchanged' };
    }
    const after = await settlePayout(trx, before.id, { status, providerPayoutId: event.providerPayoutId, failureReason: status === 'FAILED' ? (event.failureReason ?? 'The provider gave no reason.') : null });
    const released = status === 'FAILED' ? await releasePayoutEarnings(trx, after.id) : 0;
    return {
      value: 'applied',
      changes: [payoutChange(status === 'PAID' ? 'payout.paid' : 'payout.failed', after)],
      audit: [{
        businessId: after.businessId, entity: 'payout', entityId: after.id, action: `payout.${status.toLowerCase()}`,
        changes: { before: { status: before.status }, after: { status: after.status, failureReason: after.failureReason }, eventId: event.id, ...(status === 'FAILED' ? { releasedEarnings: released } : {}) },
      }],
    };
  });
  if (!result.ok) throw new Error(`Applying a payout event was refused: ${result.errors.map((e) => e.message).join(' ')}`);
  return result.value;
}
