import type { EarningKind, PayoutStatus } from '../__generated__/resolvers-types.js';

/** A partner's share of one captured payment (positive), or of its refund (negative). */
export interface EarningModel {
  id: string;
  businessId: string;
  partnerId: string;
  paymentId: string;
  bookingId: string;
  kind: EarningKind;
  basisCents: number;
  shareBasisPoints: number;
  amountCents: number;
  currency: string;
  occurredAt: string;
  /** The live payout holding it; null while unpaid (and again after that payout failed). */
  payoutId: string | null;
}

/** A partner's earnings over a time range: the totals, and what `entries` pages through. */
export interface EarningsModel {
  partnerId: string;
  businessId: string;
  from: string;
  to: string;
}

export interface EarningTotals {
  totalCents: number;
  unpaidCents: number;
  count: number;
}

export interface PayoutModel {
  id: string;
  businessId: string;
  partnerId: string;
  provider: string;
  providerPayoutId: string | null;
  amountCents: number;
  currency: string;
  status: PayoutStatus;
  failureReason: string | null;
  createdAt: string;
  submittedAt: string | null;
  settledAt: string | null;
}

/** The share a partner earns and where it comes from. */
export interface PayoutShareModel {
  partnerId: string;
  basisPoints: number;
  /** The partner's own override, or null when the business's applies. */
  partnerBasisPoints: number | null;
  businessBasisPoints: number;
}
