import { AsyncLocalStorage } from 'node:async_hooks';

const background = new AsyncLocalStorage<true>();

/**
 * Runs work that no request waits for (the outbox relay, the webhook dispatcher) so that its
 * statements are counted apart from requests': `statementCount()` measures what an operation costs,
 * and background runs triggered by it would otherwise land in the middle of the measurement.
 */
export function inBackground<T>(work: () => Promise<T>): Promise<T> {
  return background.run(true, work);
}

export function isBackground(): boolean {
  return background.getStore() === true;
}
