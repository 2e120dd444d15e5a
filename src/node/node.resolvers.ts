import type { Resolvers, ResolversInterfaceTypes, ResolversTypes } from '../__generated__/resolvers-types.js';
import { membershipById } from '../accounts/accounts.loaders.js';
import { bookingById } from '../bookings/bookings.loaders.js';
import { businessById } from '../businesses/businesses.loaders.js';
import { customerById } from '../customers/customers.loaders.js';
import { slotHoldById } from '../holds/slot-holds.loaders.js';
import { partnerById } from '../partners/partners.loaders.js';
import { messageById } from '../messages/messages.loaders.js';
import { paymentById } from '../payments/payments.loaders.js';
import { payoutById } from '../payouts/payouts.loaders.js';
import { serviceById } from '../services/services.loaders.js';
import { reviewById } from '../reviews/reviews.loaders.js';
import { slotById } from '../slots/slots.loaders.js';
import { loadVisibleDelivery, webhookEndpointById } from '../webhooks/webhooks.loaders.js';
import { badUserInput } from '../shared/errors.js';
import { parseGlobalId, type NodeType } from '../shared/global-id.js';
import type { LoaderRegistry } from '../shared/loader-registry.js';

const MAX_NODES = 100;

/** Any model a `Node` field may return, tagged with its GraphQL type for `__resolveType`. */
type NodeModel = ResolversInterfaceTypes<ResolversTypes>['Node'] & { __typename: NodeType };

async function loadNode(loaders: LoaderRegistry, id: string): Promise<NodeModel | null> {
  const parsed = parseGlobalId(id);
  if (!parsed) return null;
  const { type, rawId } = parsed;
  let node: ResolversInterfaceTypes<ResolversTypes>['Node'] | null;
  switch (type) {
    case 'Business': node = await businessById(loaders).load(rawId); break;
    case 'Service': node = await serviceById(loaders).load(rawId); break;
    case 'Partner': node = await partnerById(loaders).load(rawId); break;
    case 'Customer': node = await customerById(loaders).load(rawId); break;
    case 'Slot': node = await slotById(loaders).load(rawId); break;
    case 'Booking': node = await bookingById(loaders).load(rawId); break;
    case 'SlotHold': node = await slotHoldById(loaders).load(rawId); break;
    case 'WebhookEndpoint': node = await webhookEndpointById(loaders).load(rawId); break;
    case 'Membership': node = await membershipById(loaders).load(rawId); break;
    case 'WebhookDelivery': node = await loadVisibleDelivery(loaders, rawId); break;
    case 'Review': node = await reviewById(loaders).load(rawId); break;
    case 'Payout': node = await payoutById(loaders).load(rawId); break;
    case 'Message': node = await messageById(loaders).load(rawId); break;
    case 'Payment': {
      // A payment is visible exactly when its booking is.
      const payment = await paymentById(loaders).load(rawId);
      node = payment && (await bookingById(loaders).load(payment.bookingId)) ? payment : null;
      break;
    }
  }
  return node ? { ...node, __typename: type } : null;
}

export const nodeResolvers: Resolvers = {
  Query: {
    node: (_, { id }, { loaders }) => loadNode(loaders, id),
    nodes: (_, { ids }, { loaders }) => {
      if (ids.length > MAX_NODES) throw badUserInput(`Expected at most ${MAX_NODES} IDs, got ${ids.length}.`, 'ids');
      return Promise.all(ids.map((id) => loadNode(loaders, id)));
    },
  },
  Node: {
    __resolveType: (node) => (node as NodeModel).__typename,
  },
};
