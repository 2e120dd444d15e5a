import { describe, expect, it } from 'vitest';
import { DEFAULT_WEBHOOK_CONFIG, loadConfig } from '../../src/config.js';
import { MAX_RETRY_DELAY_MS, retryDelayMs } from '../../src/webhooks/webhook-dispatcher.js';

describe('Webhook settings', () => {
  it('defaults to a 10 s timeout, 10 s base delay, 24 h window, pause after 20 failures, 1 s polling', () => {
    expect(loadConfig({}).webhooks).toEqual(DEFAULT_WEBHOOK_CONFIG);
    expect(DEFAULT_WEBHOOK_CONFIG).toEqual({ timeoutMs: 10_000, retryBaseMs: 10_000, retryWindowMs: 86_400_000, pauseAfterFailures: 20, pollIntervalMs: 1000 });
  });

  it('reads the WEBHOOK_* variables, the retry window in hours', () => {
    const env = { WEBHOOK_TIMEOUT_MS: '2500', WEBHOOK_RETRY_BASE_MS: '500', WEBHOOK_RETRY_HOURS: '3', WEBHOOK_PAUSE_AFTER_FAILURES: '5', WEBHOOK_POLL_INTERVAL_MS: '0' };
    expect(loadConfig(env).webhooks).toEqual({ timeoutMs: 2500, retryBaseMs: 500, retryWindowMs: 10_800_000, pauseAfterFailures: 5, pollIntervalMs: 0 });
  });

  it('refuses values out of range, naming the variable and the range', () => {
    expect(() => loadConfig({ WEBHOOK_RETRY_HOURS: '0' })).toThrow('Expected WEBHOOK_RETRY_HOURS to be an integer from 1 to 168, got "0".');
    expect(() => loadConfig({ WEBHOOK_TIMEOUT_MS: '90000' })).toThrow('Expected WEBHOOK_TIMEOUT_MS to be an integer from 100 to 60000, got "90000".');
    expect(() => loadConfig({ WEBHOOK_PAUSE_AFTER_FAILURES: 'many' })).toThrow('Expected WEBHOOK_PAUSE_AFTER_FAILURES to be an integer from 1 to 10000, got "many".');
  });
});

describe('retryDelayMs', () => {
  it('doubles from the base with each failure, drawn from the upper half of each range', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(1000, n, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(1000, n, () => 1))).toEqual([1000, 2000, 4000, 8000]);
  });

  it('never waits longer than an hour, however many attempts failed', () => {
    expect(retryDelayMs(10_000, 30, () => 1)).toBe(MAX_RETRY_DELAY_MS);
    expect(retryDelayMs(10_000, 5000, () => 1)).toBe(MAX_RETRY_DELAY_MS);
    expect(retryDelayMs(10_000, 5000, () => 0)).toBe(MAX_RETRY_DELAY_MS / 2);
  });
});
