import type { RequestContext } from '../server/context.js';
import type { ActionResult } from './user-errors.js';

/**
 * A mutation payload from an action's result: the changed object under `key`, or `userErrors`.
 * After a change, the request's loaders are cleared so the payload's nested fields read the
 * committed state, not what the request had loaded before.
 */
export function toPayload<K extends string, T>(context: RequestContext, key: K, result: ActionResult<T>) {
  if (!result.ok) return { [key]: null, userErrors: result.errors } as Record<K, null> & { userErrors: typeof result.errors };
  context.loaders.clearAll();
  return { [key]: result.value, userErrors: [] } as Record<K, T> & { userErrors: [] };
}
