import type { ExecutionResult } from 'graphql';
import type { RequestContext } from './context.js';
import type { Verdict } from './rate-limits.js';

/**
 * What the hot path already did for a request it hands to Apollo: the rate-limit charge (so it is
 * not charged twice) and the execution's result (so nothing runs twice). Kept on the context under
 * a symbol: Apollo copies the context's own properties into the object its plugins and executor see.
 */
export interface HandOff {
  verdict?: Verdict;
  result?: ExecutionResult;
}

export const HAND_OFF: unique symbol = Symbol('hotPathHandOff');

export type HandedOffContext = RequestContext & { [HAND_OFF]?: HandOff };

export function handOffOf(context: object): HandOff | undefined {
  return (context as HandedOffContext)[HAND_OFF];
}
