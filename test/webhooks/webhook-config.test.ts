import { describe, expect, it } from 'vitest';
import { DEFAULT_WEBHOOK_CONFIG, loadConfig } from '../../src/config.js';
import { MAX_RETRY_DELAY_MS, retryDelayMs } from '../../src/webhooks/webhook-dispatcher.js';

describe('Webhook settings', () => {
  it('defaults to a 10 s timeout, 10 s base delay, 24 h window, pause after 20 failures, 1 s polling, no private networks', () => {
    expect(loadConfig({}).webhooks).toEqual(DEFAULT_WEBHOOK_CONFIG);
    expect(DEFAULT_WEBHOOK_CONFIG).toEqual({ timeoutMs: 10_000, retryBaseMs: 10_000, retryWindowMs: 86_400_000, pauseAfterFailures: 20, pollIntervalMs: 1000, allowPrivateNetworks: false, httpsOnly: false });
  });

  it('reads the WEBHOOK_* variables, the retry window in hours', () => {
    const env = { WEBHOOK_TIMEOUT_MS: '2500', WEBHOOK_RETRY_BASE_MS: '500', WEBHOOK_RETRY_HOURS: '3', WEBHOOK_PAUSE_AFTER_FAILURES: '5', WEBHOOK_POLL_INTERVAL_MS: '0', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' };
    expect(loadConfig(env).webhooks).toEqual({ timeoutMs: 2500, retryBaseMs: 500, retryWindowMs: 10_800_000, pauseAfterFailures: 5, pollIntervalMs: 0, allowPrivateNetworks: true, httpsOnly: false });
  });

  it('refuses private networks unless WEBHOOK_ALLOW_PRIVATE_NETWORKS opts in, and requires https in production only', () => {
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' }).webhooks.allowPrivateNetworks).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test' }).webhooks).toMatchObject({ allowPrivateNetworks: false, httpsOnly: false });
    expect(loadConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: 'a-production-secret' }).webhooks).toMatchObject({ allowPrivateNetworks: false, httpsOnly: true });
    // Production may opt in too (index.ts then logs a warning at start).
    expect(loadConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: 'a-production-secret', WEBHOOK_ALLOW_PRIVATE_NETWORKS: '1' }).webhooks).toMatchObject({ allowPrivateNetworks: true, httpsOnly: true });
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'yes' })).toThrow('Expected WEBHOOK_ALLOW_PRIVATE_NETWORKS to be true or false, got "yes".');
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
