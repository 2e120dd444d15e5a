import type { AuditEntity, Resolvers } from '../__generated__/resolvers-types.js';
import { isStaffOf } from '../auth/access.js';
import { checkPageSize, decodeCursor } from '../shared/connection.js';
import { connectionResolvers, emptyPage } from '../shared/connection-resolvers.js';
import { optionalFreeTextArgument } from '../shared/free-text.js';
import { parseGlobalId, toGlobalId, type NodeType } from '../shared/global-id.js';
import { auditLogPagesByBusinessId } from './audit.loaders.js';

/** The node type of each kind of object the trail records; invitations are no nodes. */
const NODE_TYPE_OF: Record<AuditEntity, NodeType | null> = {
  BOOKING: 'Booking',
  SLOT: 'Slot',
  PARTNER: 'Partner',
  PAYMENT: 'Payment',
  BUSINESS: 'Business',
  SERVICE: 'Service',
  HOLD: 'SlotHold',
  WEBHOOK_ENDPOINT: 'WebhookEndpoint',
  WEBHOOK_DELIVERY: 'WebhookDelivery',
  MEMBERSHIP: 'Membership',
  INVITATION: null,
  CUSTOMER: 'Customer',
  REVIEW: 'Review',
};
const ENTITY_OF = new Map(Object.entries(NODE_TYPE_OF).filter(([, type]) => type !== null).map(([entity, type]) => [type as NodeType, entity as AuditEntity]));

/** Longest actor an argument may name: `account:<id>` or `<role>:<subject>` (subjects are at most 255 characters). */
const MAX_ACTOR_LENGTH = 300;

/** The stored spelling of a kind (`WEBHOOK_ENDPOINT` is stored `webhook_endpoint`). */
const stored = (entity: AuditEntity) => entity.toLowerCase();
const entityOf = (column: string) => column.toUpperCase() as AuditEntity;

/** `entity` and `entityId` together: the kind to filter on, the raw id, or null when the two cannot match any entry. */
function entityFilter(entity: AuditEntity | null | undefined, entityId: string | null | undefined): { entity: string | null; entityId: string | null } | null {
  if (entityId == null) return { entity: entity ? stored(entity) : null, entityId: null };
  const parsed = parseGlobalId(entityId);
  const kind = parsed ? ENTITY_OF.get(parsed.type) : undefined;
  if (!parsed || !kind || (entity && entity !== kind)) return null;
  return { entity: stored(kind), entityId: parsed.rawId };
}

export const auditLogResolvers: Resolvers = {
  Business: {
    auditLog: (business, { entity, entityId, actor, from, to, first, after }, { loaders, viewer }) => {
      const size = checkPageSize(first, 20);
      const cursor = decodeCursor(after, ['time', 'id']) as [string, string] | null;
      const byActor = optionalFreeTextArgument(actor, 'actor', MAX_ACTOR_LENGTH);
      // Like Business.customers: the trail is the team's; anybody else reads an empty page.
      const filter = entityFilter(entity, entityId);
      if (!isStaffOf(viewer, business.id) || filter === null) return emptyPage();
      return auditLogPagesByBusinessId(loaders, { ...filter, actor: byActor, from: from ?? null, to: to ?? null, after: cursor }, size).load(business.id);
    },
  },
  AuditLogEntry: {
    entity: (entry) => entityOf(entry.entity),
    entityId: (entry) => {
      const type = NODE_TYPE_OF[entityOf(entry.entity)];
      return type ? toGlobalId(type, entry.entityId) : entry.entityId;
    },
    changes: (entry) => (typeof entry.changes === 'string' ? entry.changes : JSON.stringify(entry.changes)),
  },
  AuditLogConnection: connectionResolvers,
};
