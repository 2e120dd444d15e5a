import { badUserInput } from './errors.js';

/**
 * Relay global object IDs: base64url("Type:rawId"). Clients treat them as opaque; the raw database
 * id never leaks as a bare number, and one `node(id)` entry point can fetch any type.
 */
export type NodeType = 'Business' | 'Service' | 'Partner' | 'Customer' | 'Slot' | 'Booking' | 'Payment' | 'SlotHold' | 'WebhookEndpoint' | 'WebhookDelivery' | 'Membership' | 'Review' | 'Payout' | 'Message';
export const NODE_TYPES: readonly NodeType[] = ['Business', 'Service', 'Partner', 'Customer', 'Slot', 'Booking', 'Payment', 'SlotHold', 'WebhookEndpoint', 'WebhookDelivery', 'Membership', 'Review', 'Payout', 'Message'];

export function toGlobalId(type: NodeType, rawId: string): string {
  return Buffer.from(`${type}:${rawId}`).toString('base64url');
}

const RAW_ID = /^[1-9][0-9]{0,18}$/;

/** The type and raw id inside a global ID, or null when it is not one of ours. */
export function parseGlobalId(globalId: string): { type: NodeType; rawId: string } | null {
  if (globalId.length > 64) return null;
  const decoded = Buffer.from(globalId, 'base64url').toString('utf8');
  const colon = decoded.indexOf(':');
  const type = decoded.slice(0, colon) as NodeType;
  const rawId = decoded.slice(colon + 1);
  if (colon < 1 || !NODE_TYPES.includes(type) || !RAW_ID.test(rawId)) return null;
  // Bigint ids fit 63 bits; a larger number would make PostgreSQL raise instead of finding nothing.
  if (rawId.length === 19 && rawId > '9223372036854775807') return null;
  return { type, rawId };
}

/** The raw id of a global ID of the expected type, or null. */
export function rawIdOf(globalId: string, type: NodeType): string | null {
  const parsed = parseGlobalId(globalId);
  return parsed && parsed.type === type ? parsed.rawId : null;
}

/** The raw id inside an argument that must be an ID of `type`; a malformed one is a bad argument. */
export function idArgument(globalId: string, type: NodeType, argument: string): string {
  const rawId = rawIdOf(globalId, type);
  if (!rawId) throw badUserInput(`Expected \`${argument}\` to be the ID of a ${type.toLowerCase()}, got "${globalId}".`, argument);
  return rawId;
}
