import { isStaffOf, tokenKindOf } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { forbidden } from '../shared/errors.js';
import { rawIdOf } from '../shared/global-id.js';
import type { Step } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { abort } from '../shared/user-errors.js';
import type { CustomerModel } from './customer.model.js';
import { redactCustomerAuditChanges } from '../audit/audit.repository.js';
import { eraseCustomer, lockCustomerForErasure } from './customer-accounts.repository.js';

/**
 * customerErase: the customer's own request, or their business's owners and staff (and admins).
 * Name and e-mail are replaced and the account link cut; bookings and payments keep the record for
 * accounting. Audited without personal data, and the customer's earlier audit entries lose theirs
 * (Business.auditLog would show the old name and e-mail otherwise). Erasing an erased customer changes nothing and
 * succeeds, so a retry (or a second request) is harmless.
 */

/** Customers (their own record), members and admins; which record, the step decides. */
export function eraserOf(viewer: Viewer): Viewer | null {
  return viewer.admin || viewer.memberships.length > 0 || viewer.customers.length > 0 ? viewer : null;
}

export async function eraseCustomerData(trx: Trx, viewer: Viewer, input: { customerId: string }): Promise<Step<CustomerModel>> {
  const id = rawIdOf(input.customerId, 'Customer');
  const customer = id ? await lockCustomerForErasure(trx, id) : undefined;
  const own = customer !== undefined && viewer.customers.some((c) => c.customerId === customer.id);
  const member = customer !== undefined && viewer.memberships.some((m) => m.businessId === customer.businessId);
  if (!customer || !(own || member || viewer.admin)) abort('NOT_FOUND', `No customer with ID "${input.customerId}".`, ['input', 'customerId']);
  if (!own && !isStaffOf(viewer, customer.businessId)) {
    throw forbidden(`Expected the customer's own token, or an owner's, staff or admin token of the business, to erase a customer, got ${tokenKindOf(viewer)} of a partner.`);
  }
  const { accountId, erased, ...before } = customer;
  if (erased) return { value: before };
  const after = await eraseCustomer(trx, customer.id);
  await redactCustomerAuditChanges(trx, after.businessId, after.id);
  return {
    value: after,
    changes: accountId ? [{ action: 'customer.erased', businessId: after.businessId, partnerIds: [], ranges: [], accountIds: [accountId], availability: false }] : [],
    audit: [{ businessId: after.businessId, entity: 'customer', entityId: after.id, action: 'customer.erased', changes: { by: own ? 'customer' : 'business', accountLinked: accountId !== null } }],
  };
}
