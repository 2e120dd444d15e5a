import { managementScopeOf, type ManagementScope } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import type { WebhookEndpointModel } from './webhook.model.js';

/**
 * Who may see and manage webhook endpoints (and so their deliveries): admins all of them, staff
 * their business's, a partner only the endpoints registered for themself (not the business-wide
 * ones, which carry other partners' events). Customers none.
 */
export function webhookScopeOf(viewer: Viewer): ManagementScope | null {
  return managementScopeOf(viewer, { partnersMay: true });
}

export function canManageWebhookEndpoint(scope: ManagementScope | null, endpoint: Pick<WebhookEndpointModel, 'businessId' | 'partnerId'>): boolean {
  return (
    scope !== null &&
    (scope.businessId === null || scope.businessId === endpoint.businessId) &&
    (scope.partnerId === null || scope.partnerId === endpoint.partnerId)
  );
}
