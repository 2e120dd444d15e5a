import type { Resolvers } from '../__generated__/resolvers-types.js';
import { isStaffOf } from '../auth/access.js';
import { bookingById } from '../bookings/bookings.loaders.js';
import { businessById } from '../businesses/businesses.loaders.js';
import { partnerById } from '../partners/partners.loaders.js';
import { paymentById } from '../payments/payments.loaders.js';
import { checkPageSize, decodeCursor } from '../shared/connection.js';
import { connectionResolvers, emptyPage } from '../shared/connection-resolvers.js';
import { badUserInput } from '../shared/errors.js';
import { toGlobalId } from '../shared/global-id.js';
import type { LoaderRegistry } from '../shared/loader-registry.js';
import { referenced } from '../shared/referenced.js';
import type { EarningsModel } from './payout.model.js';
import { canSeePartnerMoney } from './payout-access.js';
import {
  businessShareById,
  earningPagesByPartnerId,
  earningPagesByPayoutId,
  earningTotalsByPartnerId,
  payoutById,
  payoutPagesByPartnerId,
  payoutShareByPartnerId,
} from './payouts.loaders.js';

const MAX_EARNINGS_RANGE_MS = 366 * 24 * 3600 * 1000;

/** One loader per range, for every partner of the request. */
const totalsOf = (loaders: LoaderRegistry, earnings: EarningsModel) => earningTotalsByPartnerId(loaders, { from: earnings.from, to: earnings.to }).load(earnings.partnerId);

export const payoutResolvers: Resolvers = {
  Business: {
    partnerShareBasisPoints: (business, _, { loaders, viewer }) => (isStaffOf(viewer, business.id) ? businessShareById(loaders).load(business.id) : null),
  },
  Partner: {
    payoutShare: (partner, _, { loaders }) => payoutShareByPartnerId(loaders).load(partner.id),
    earnings: (partner, { from, to }, { viewer }) => {
      const span = Date.parse(to) - Date.parse(from);
      if (span <= 0 || span > MAX_EARNINGS_RANGE_MS) throw badUserInput(`Expected \`from\` before \`to\` and at most 366 days apart, got ${from} to ${to}.`, 'to');
      return canSeePartnerMoney(viewer, { partnerId: partner.id, businessId: partner.businessId }) ? { partnerId: partner.id, businessId: partner.businessId, from, to } : null;
    },
    payouts: (partner, { first, after }, { loaders, viewer }) => {
      const size = checkPageSize(first, 20);
      const args = { after: decodeCursor(after, ['id'])?.[0] ?? null };
      if (!canSeePartnerMoney(viewer, { partnerId: partner.id, businessId: partner.businessId })) return emptyPage();
      return payoutPagesByPartnerId(loaders, args, size).load(partner.id);
    },
  },
  PartnerEarnings: {
    currency: async (earnings, _, { loaders }) => (await referenced(businessById(loaders), earnings.businessId, 'PartnerEarnings.currency', earnings.partnerId)).currency,
    totalCents: async (earnings, _, { loaders }) => (await totalsOf(loaders, earnings)).totalCents,
    unpaidCents: async (earnings, _, { loaders }) => (await totalsOf(loaders, earnings)).unpaidCents,
    entries: (earnings, { first, after }, { loaders }) => {
      const size = checkPageSize(first, 20);
      const args = { from: earnings.from, to: earnings.to, after: decodeCursor(after, ['time', 'id']) as [string, string] | null };
      return earningPagesByPartnerId(loaders, args, size).load(earnings.partnerId);
    },
  },
  Earning: {
    // A payment is visible exactly when its booking is (as through `node`).
    payment: async (earning, _, { loaders }) => {
      const payment = await paymentById(loaders).load(earning.paymentId);
      return payment && (await bookingById(loaders).load(payment.bookingId)) ? payment : null;
    },
    payout: (earning, _, { loaders }) => (earning.payoutId ? payoutById(loaders).load(earning.payoutId) : null),
  },
  Payout: {
    id: (payout) => toGlobalId('Payout', payout.id),
    partner: (payout, _, { loaders }) => referenced(partnerById(loaders), payout.partnerId, 'Payout.partner', payout.id),
    earnings: (payout, { first, after }, { loaders }) => {
      const size = checkPageSize(first, 20);
      return earningPagesByPayoutId(loaders, { after: decodeCursor(after, ['id'])?.[0] ?? null }, size).load(payout.id);
    },
  },
  EarningConnection: connectionResolvers,
  PayoutConnection: connectionResolvers,
};
