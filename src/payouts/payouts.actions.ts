import { isStaffOf } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { businessNotFoundMessage } from '../businesses/business-input.js';
import type { BusinessModel } from '../businesses/business.model.js';
import { findBusinessesByIds } from '../businesses/businesses.repository.js';
import { lockPartnerById, findPartnersByIds } from '../partners/partners.repository.js';
import type { PartnerModel } from '../partners/partner.model.js';
import type { Db } from '../db/sql-helpers.js';
import type { Change, ChangeFeed, ChangeListener } from '../shared/change-feed.js';
import { rawIdOf } from '../shared/global-id.js';
import { intInRange } from '../shared/input-checks.js';
import type { Logger } from '../shared/logger.js';
import { commitStep, type Step } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { abort } from '../shared/user-errors.js';
import { updateBusinessShare, updatePartnerShare } from './earnings.repository.js';
import type { PayoutModel } from './payout.model.js';
import type { PayoutProvider, PayoutProviderRegistry } from './payout-provider.js';
import { claimEarnings, findUnsubmittedPayouts, insertPayout, lockUnpaidEarnings, recordPayoutSubmitted } from './payouts.repository.js';

/**
 * Payout rules. A payout is claimed in one transaction (the partner locked, every unpaid earning
 * put into it, payout_items' unique index refusing an earning twice); the provider is called only
 * after that commit (a listener of the change feed, before the mutation answers), so a provider is
 * never asked to pay for earnings another payout got, and no transaction waits on the network.
 */

export interface PayoutServices {
  db: Db;
  payoutProviders: PayoutProviderRegistry;
  changes: ChangeFeed;
  log: Logger;
}

/** The most basis points a share can be: all of the payment. */
export const MAX_SHARE_BASIS_POINTS = 10_000;
/** Unsubmitted payouts a listener run sends at most. */
const SUBMIT_BATCH = 20;

/** A payout was created or settled: nothing about availability, no booking. */
export function payoutChange(action: 'payout.created' | 'payout.paid' | 'payout.failed', payout: PayoutModel): Change {
  return { action, businessId: payout.businessId, partnerIds: [], ranges: [], availability: false };
}

// ---------------------------------------------------------------------------------------------
// partnerShareSet

export interface PartnerShareSetInput {
  businessId: string;
  partnerId?: string | null;
  basisPoints?: number | null;
}

export interface ShareRequest {
  businessId: string;
  partnerId: string | null;
  basisPoints: number | null;
}

/** Checks the input before any statement: a share from 0 to 10000, required for the business's own. */
export function shareRequestOf(businessId: string, input: PartnerShareSetInput): ShareRequest {
  const field = ['input', 'basisPoints'];
  const basisPoints = input.basisPoints ?? null;
  let partnerId: string | null = null;
  if (input.partnerId != null) {
    partnerId = rawIdOf(input.partnerId, 'Partner');
    if (!partnerId) abort('NOT_FOUND', `No partner with ID "${input.partnerId}" in the business.`, ['input', 'partnerId']);
  } else if (basisPoints === null) {
    abort('INVALID_INPUT', 'Expected `basisPoints` for the business\'s share (only a partner\'s own share can be removed with null).', field);
  }
  if (basisPoints !== null) intInRange(basisPoints, field, 0, MAX_SHARE_BASIS_POINTS);
  return { businessId, partnerId, basisPoints };
}

/** What `partnerShareSet` changed: the business, and the partner when one was named. */
export interface ShareChanged {
  business: BusinessModel;
  partner: PartnerModel | null;
}

export async function setShare(trx: Trx, request: ShareRequest, input: PartnerShareSetInput): Promise<Step<ShareChanged>> {
  const [business] = await findBusinessesByIds(trx, [request.businessId]);
  if (!business || business.archivedAt) abort('NOT_FOUND', businessNotFoundMessage(input.businessId), ['input', 'businessId']);
  if (request.partnerId === null) {
    const before = await updateBusinessShare(trx, request.businessId, request.basisPoints!);
    if (before === undefined) abort('NOT_FOUND', businessNotFoundMessage(input.businessId), ['input', 'businessId']);
    return {
      value: { business, partner: null },
      audit: [{ businessId: request.businessId, entity: 'business', entityId: request.businessId, action: 'business.partner_share_set', changes: { before: { partnerShareBasisPoints: before }, after: { partnerShareBasisPoints: request.basisPoints } } }],
    };
  }
  const updated = await updatePartnerShare(trx, request.businessId, request.partnerId, request.basisPoints);
  if (!updated) abort('NOT_FOUND', `No partner with ID "${input.partnerId}" in the business.`, ['input', 'partnerId']);
  return {
    value: { business, partner: updated.partner },
    audit: [{ businessId: request.businessId, entity: 'partner', entityId: request.partnerId, action: 'partner.share_set', changes: { before: { shareBasisPoints: updated.before }, after: { shareBasisPoints: request.basisPoints } } }],
  };
}

// ---------------------------------------------------------------------------------------------
// payoutCreate

export interface PayoutCreateInput {
  partnerId: string;
  provider?: string | null;
}

export interface PayoutRequest {
  partner: PartnerModel;
  currency: string;
  provider: PayoutProvider;
}

/** The partner (of a business the caller is staff of: any other reads NOT_FOUND) and the provider, checked outside the transaction. */
export async function checkPayoutRequest(db: Db, providers: PayoutProviderRegistry, viewer: Viewer, input: PayoutCreateInput): Promise<PayoutRequest> {
  const id = rawIdOf(input.partnerId, 'Partner');
  const partner = id ? (await findPartnersByIds(db, [id]))[0] : undefined;
  if (!partner || !isStaffOf(viewer, partner.businessId)) abort('NOT_FOUND', `No partner with ID "${input.partnerId}".`, ['input', 'partnerId']);
  const name = input.provider ?? 'test';
  const provider = providers.get(name);
  if (!provider) {
    const known = providers.names().map((n) => `"${n}"`).join(', ') || 'none';
    abort('PROVIDER_ERROR', `Expected a known payout provider (${known}), got "${name}".`, ['input', 'provider']);
  }
  const [business] = await findBusinessesByIds(db, [partner.businessId]);
  return { partner, currency: business.currency, provider };
}

/**
 * Bundles the partner's unpaid earnings (in the business's currency) into a pending payout. The
 * partner's row lock serializes payouts of one partner: of concurrent calls, the first takes every
 * earning and the others find none (NOTHING_TO_PAY). Earnings that net to zero or less (refunds
 * after an earlier payout) stay unpaid and are netted against the next one.
 */
export async function createPayout(trx: Trx, request: PayoutRequest): Promise<Step<PayoutModel>> {
  const field = ['input', 'partnerId'];
  const partner = await lockPartnerById(trx, request.partner.id, request.partner.businessId);
  // Archived meanwhile: its earnings can still be paid, as its bookings still read it.
  const partnerId = partner?.id ?? request.partner.id;
  const unpaid = await lockUnpaidEarnings(trx, partnerId, request.currency);
  const amountCents = unpaid.reduce((sum, e) => sum + e.amountCents, 0);
  if (!unpaid.length) abort('NOTHING_TO_PAY', 'The partner has no unpaid earnings.', field);
  if (amountCents <= 0) abort('NOTHING_TO_PAY', `The partner's unpaid earnings net to ${amountCents} (refunds after a payout); nothing to pay until they earn more.`, field);
  const payout = await insertPayout(trx, { businessId: request.partner.businessId, partnerId, provider: request.provider.name, amountCents, currency: request.currency });
  const claimed = await claimEarnings(trx, payout, unpaid.map((e) => e.id));
  if (claimed !== unpaid.length) throw new Error(`Expected to claim ${unpaid.length} locked earnings for payout ${payout.id}, claimed ${claimed}.`);
  return {
    value: payout,
    changes: [payoutChange('payout.created', payout)],
    audit: [{
      businessId: payout.businessId, entity: 'payout', entityId: payout.id, action: 'payout.created',
      changes: { after: { status: payout.status, partnerId, provider: payout.provider, amountCents, currency: payout.currency, earnings: unpaid.length } },
    }],
  };
}

/**
 * After a payout's commit: sends the business's pending payouts the provider has not accepted yet
 * (this one, and any whose call failed before) and records each reference. The idempotency key
 * `payout:<id>` makes a repeat (two listeners, a retry after a lost answer) return the first
 * payout instead of paying twice. A failed call leaves the payout pending without a reference; the
 * next payoutCreate of the business sends it again. It is never failed on our side: the provider
 * may have paid before its answer was lost.
 */
export function payoutSubmissionListener(services: PayoutServices): ChangeListener {
  return async (change) => {
    if (change.action !== 'payout.created') return;
    for (const payout of await findUnsubmittedPayouts(services.db, change.businessId, SUBMIT_BATCH)) {
      const provider = services.payoutProviders.get(payout.provider);
      if (!provider) {
        services.log.error('A pending payout names a payout provider that is not configured here', { payoutId: payout.id, provider: payout.provider });
        continue;
      }
      let providerPayoutId: string;
      try {
        ({ providerPayoutId } = await provider.createPayout({ reference: payout.id, partnerId: payout.partnerId, amountCents: payout.amountCents, currency: payout.currency, idempotencyKey: `payout:${payout.id}` }));
      } catch (error) {
        services.log.error('A payout provider failed to accept a payout; it stays pending and is sent again after the next payoutCreate', { payoutId: payout.id, provider: provider.name, message: (error as Error).message });
        continue;
      }
      await commitStep(services, `system:payout-submission`, async (trx) => {
        const submitted = await recordPayoutSubmitted(trx, payout.id, providerPayoutId);
        return {
          value: submitted,
          audit: submitted ? [{ businessId: payout.businessId, entity: 'payout' as const, entityId: payout.id, action: 'payout.submitted', changes: { after: { providerPayoutId } } }] : [],
        };
      });
    }
  };
}
