import type { Viewer } from '../auth/viewer.js';
import { findCustomersByIds } from '../customers/customers.repository.js';
import type { Db } from '../db/sql-helpers.js';
import { findPartnersByIds } from '../partners/partners.repository.js';

/**
 * A signed token's partner and customer claims must name records of its own business. Access rules
 * trust them as given (a customer sees the customer record their token names), so a token of one
 * business naming another business's customer (an identity provider's mistake, or one shared by two
 * tenants) would act as that customer, in that other business. Checked once per token: the verifier
 * remembers the tokens it accepted, and a record never changes business. On the background handle,
 * so that a request's statement count does not depend on whether its token was seen before.
 */
export function confirmClaimedRecords(db: Db): (viewer: Viewer) => Promise<string | null> {
  return async (viewer) => {
    if (viewer.partnerId) {
      const [partner] = await findPartnersByIds(db, [viewer.partnerId]);
      if (partner?.businessId !== viewer.businessId) return 'expected the partner_id claim to name a partner of the business_id claim\'s business, got one of another business or none.';
    }
    if (viewer.customerId) {
      const [customer] = await findCustomersByIds(db, [viewer.customerId]);
      if (customer?.businessId !== viewer.businessId) return 'expected the customer_id claim to name a customer of the business_id claim\'s business, got one of another business or none.';
    }
    return null;
  };
}
