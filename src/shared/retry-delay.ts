/** The longest wait between two attempts, however many failed before. */
export const MAX_RETRY_DELAY_MS = 3_600_000;

/**
 * The wait before attempt `failedAttempts + 1`: base, 2 x base, 4 x base ... up to an hour, each
 * drawn from the upper half of its range ("equal jitter"), so that the retries of many attempts
 * that failed together (an endpoint or a mail relay back up after an outage) do not arrive together
 * again, while each wait is still at least as long as the one before. Webhook deliveries and
 * notification jobs both back off by it.
 */
export function retryDelayMs(baseMs: number, failedAttempts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(baseMs * 2 ** Math.max(failedAttempts - 1, 0), MAX_RETRY_DELAY_MS);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
