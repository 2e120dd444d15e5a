import type { Agent } from 'node:http';
import type { WebhookConfig } from '../config.js';
import type { Db } from '../db/sql-helpers.js';
import type { Logger } from '../shared/logger.js';
import { BackgroundFailures } from '../shared/background-failures.js';
import { CoalescedRuns } from '../shared/coalesced-runs.js';
import { REFUSAL_ERRORS, RefusedWebhookAddress, systemResolver, type WebhookResolver } from './webhook-address-policy.js';
import { postWebhook } from './webhook-http.js';
import { webhookRequestOf } from './webhook-request.js';
import {
  claimDueWebhookDeliveries,
  parkWebhookDeliveries,
  recordWebhookFailure,
  recordWebhookSuccess,
  releaseWebhookDelivery,
  type ClaimedDelivery,
} from './webhook-deliveries.repository.js';
import { countWebhookEndpointFailure } from './webhook-endpoints.repository.js';
import { retryDelayMs } from '../shared/retry-delay.js';

export { MAX_RETRY_DELAY_MS, retryDelayMs } from '../shared/retry-delay.js';

export interface WebhookDispatcherOptions {
  db: Db;
  log: Logger;
  config: WebhookConfig;
  /** Attempts in flight at most (the polling loop); also the most one claim statement takes. */
  batchSize?: number;
  /** Resolves endpoint host names (the system's resolver unless a test controls DNS). */
  resolve?: WebhookResolver;
  /** For tests: opens the connections, so a test can see which address each would go to. */
  agent?: Agent;
}

/** A claim's lease outlasts the request's timeout by this much: time to record the outcome. */
const LEASE_MARGIN_MS = 30_000;
/** Stored errors are cut to this length (the column's limit). */
const MAX_ERROR_LENGTH = 500;

type Outcome =
  | { kind: 'succeeded'; statusCode: number }
  | { kind: 'failed'; statusCode: number | null; error: string }
  /** Aborted because the dispatcher is stopping: handed back, not counted as a failure. */
  | { kind: 'interrupted' };

/** Thrown inside a failure's transaction when a later attempt took the delivery over: nothing is recorded. */
class StaleAttempt extends Error {}

function truncated(text: string): string {
  return text.length <= MAX_ERROR_LENGTH ? text : `${text.slice(0, MAX_ERROR_LENGTH - 1)}…`;
}

/**
 * Every failure before an answer reads the same in the delivery log, whatever happened: a refused
 * or reset connection, an unreachable host, a name that does not resolve, a TLS error or a
 * timeout. Telling them apart would tell whoever registered the URL which ports are open on the
 * host; the operator's log has the detail.
 */
function connectionFailed(timeoutMs: number): string {
  return `connection failed: no HTTP answer within ${timeoutMs} ms (refused, unreachable, TLS error or too slow)`;
}

function errorCodeOf(error: unknown): string {
  const { code, name, cause } = error as { code?: string; name?: string; cause?: { name?: string } };
  if (cause?.name === 'TimeoutError') return 'timeout';
  return code ?? name ?? 'unknown';
}

/**
 * Sends webhook deliveries. A run claims a batch of due deliveries of active endpoints in one
 * statement (each gets a lease: see claimDueWebhookDeliveries), POSTs them at once, outside any
 * transaction, and records each outcome: a 2xx is a success; anything else (another status, a
 * timeout, a refused connection) is retried with exponential backoff until the delivery is as old
 * as the retry window, then given up. Failures in a row are counted per endpoint, and the endpoint
 * is paused at the limit: its deliveries wait (they are not dropped) until it is resumed.
 *
 * Every process may run one; they never send the same attempt twice at once. A process that dies
 * mid-request leaves the delivery claimed until its lease ends, then another sends it again:
 * delivery is at least once, and receivers deduplicate on the Webhook-Id header.
 */
export class WebhookDispatcher {
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly polling: CoalescedRuns;
  /** Attempts started by the polling loop and not yet recorded. */
  private readonly pending = new Set<Promise<void>>();
  private readonly inFlight = new Set<AbortController>();
  private readonly runs = new Set<Promise<number>>();
  /** For tests and /metrics. */
  readonly stats = { runs: 0, attempts: 0, succeeded: 0, failed: 0, gaveUp: 0, paused: 0, interrupted: 0 };
  /** Outcomes that could not be written (the delivery is sent again when its lease ends). */
  private readonly recordFailures: BackgroundFailures;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.batchSize = options.batchSize ?? 50;
    this.leaseMs = options.config.timeoutMs + LEASE_MARGIN_MS;
    const failures = new BackgroundFailures(options.log, 'The webhook dispatcher failed; it will run again');
    this.polling = new CoalescedRuns(
      () => this.sendAllDue(),
      (error) => failures.failed(error),
      () => failures.succeeded(),
    );
    this.recordFailures = new BackgroundFailures(options.log, 'Could not record a webhook attempt; the delivery is retried when its lease ends');
  }

  private get stopped(): boolean {
    return this.polling.stopped;
  }

  /** Polls for due deliveries every `pollIntervalMs` (none with 0: this process then only creates deliveries). */
  start(): void {
    const interval = this.options.config.pollIntervalMs;
    if (interval > 0) this.polling.every(interval);
  }

  /** Asks for runs until nothing is due; returns when a run that started after this call has finished. */
  kick(): Promise<void> {
    return this.polling.kick();
  }

  /**
   * Stops polling and aborts the requests in flight; their deliveries are handed back, due at once
   * for another process (or this one's next start). Returns once every outcome is recorded, so the
   * database may be closed after it.
   */
  async stop(): Promise<void> {
    const stopping = this.polling.stop();
    for (const controller of this.inFlight) controller.abort();
    await stopping;
    await Promise.allSettled([...this.runs, ...this.pending]);
  }

  /** One run: claims up to a batch of due deliveries, sends them and records the outcomes; returns how many were claimed. */
  runOnce(): Promise<number> {
    const run = this.claimAndSend();
    this.runs.add(run);
    void run.catch(() => undefined).finally(() => this.runs.delete(run));
    return run;
  }

  /**
   * Keeps up to `batchSize` attempts in flight: claims as many due deliveries as there is room for
   * and starts them; each attempt that ends asks for another pass. So one slow endpoint holds one
   * slot for its timeout, not the whole batch.
   */
  private async sendAllDue(): Promise<void> {
    for (;;) {
      const room = this.batchSize - this.pending.size;
      if (room <= 0 || this.stopped) return;
      const claimed = await claimDueWebhookDeliveries(this.options.db, room, this.leaseMs);
      this.stats.runs++;
      for (const delivery of claimed) {
        const attempt: Promise<void> = this.attempt(delivery).finally(() => {
          this.pending.delete(attempt);
          void this.kick();
        });
        this.pending.add(attempt);
      }
      if (claimed.length < room) return;
    }
  }

  private async claimAndSend(): Promise<number> {
    if (this.stopped) return 0;
    const claimed = await claimDueWebhookDeliveries(this.options.db, this.batchSize, this.leaseMs);
    this.stats.runs++;
    await Promise.all(claimed.map((delivery) => this.attempt(delivery)));
    return claimed.length;
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const outcome = await this.post(delivery);
    try {
      await this.record(delivery, outcome);
      this.recordFailures.succeeded();
    } catch (error) {
      // The lease runs out and the delivery is attempted again: nothing is lost.
      this.recordFailures.failed(error, { deliveryId: delivery.id });
    }
  }

  private async post(delivery: ClaimedDelivery): Promise<Outcome> {
    if (this.stopped) return { kind: 'interrupted' };
    const { timeoutMs } = this.options.config;
    const { allowPrivateNetworks, httpsOnly } = this.options.config;
    const controller = new AbortController();
    this.inFlight.add(controller);
    this.stats.attempts++;
    try {
      const { body, headers } = webhookRequestOf({ endpointId: delivery.endpointId, secret: delivery.secret, event: delivery.event, unixSeconds: Math.floor(Date.now() / 1000) });
      const answer = await postWebhook({
        url: delivery.url,
        headers,
        body,
        signal: AbortSignal.any([controller.signal, AbortSignal.timeout(timeoutMs)]),
        rules: { allowPrivateNetworks, httpsOnly },
        resolve: this.options.resolve ?? systemResolver,
        agent: this.options.agent,
      });
      if (answer.kind === 'refused') {
        this.options.log.info('Refused a webhook attempt before connecting', { deliveryId: delivery.id, endpointId: delivery.endpointId, reason: answer.reason });
        return { kind: 'failed', statusCode: null, error: REFUSAL_ERRORS[answer.reason] };
      }
      // A redirect is an answer other than 2xx, never followed: it could lead anywhere.
      if (answer.statusCode >= 200 && answer.statusCode < 300) return { kind: 'succeeded', statusCode: answer.statusCode };
      return { kind: 'failed', statusCode: answer.statusCode, error: `Expected a 2xx answer, got HTTP ${answer.statusCode}.` };
    } catch (error) {
      if (controller.signal.aborted) return { kind: 'interrupted' };
      if (error instanceof RefusedWebhookAddress) {
        // The address and its range are for the operator; the delivery log says only that it was refused.
        this.options.log.info('Refused a webhook attempt before connecting', { deliveryId: delivery.id, endpointId: delivery.endpointId, reason: error.message });
        return { kind: 'failed', statusCode: null, error: REFUSAL_ERRORS['private-address'] };
      }
      this.options.log.info('A webhook attempt got no answer', { deliveryId: delivery.id, endpointId: delivery.endpointId, error: errorCodeOf(error) });
      return { kind: 'failed', statusCode: null, error: connectionFailed(timeoutMs) };
    } finally {
      this.inFlight.delete(controller);
    }
  }

  private async record(delivery: ClaimedDelivery, outcome: Outcome): Promise<void> {
    const { db, config, log } = this.options;
    if (outcome.kind === 'succeeded') {
      this.stats.succeeded++;
      await db.transaction().execute((trx) => recordWebhookSuccess(trx, delivery.endpointId, delivery.id, outcome.statusCode));
      return;
    }
    if (outcome.kind === 'interrupted') {
      this.stats.interrupted++;
      await db.transaction().execute((trx) => releaseWebhookDelivery(trx, delivery.endpointId, delivery.id, delivery.attempt, 'Interrupted: the sending process stopped; sent again.'));
      return;
    }
    this.stats.failed++;
    const error = truncated(outcome.error);
    const pauseReason = truncated(`Paused after ${config.pauseAfterFailures} failed attempts in a row; the last one: ${error}`);
    try {
      await db.transaction().execute(async (trx) => {
        // The endpoint first: its row lock orders the outcomes of one endpoint's deliveries.
        const endpoint = await countWebhookEndpointFailure(trx, delivery.endpointId, config.pauseAfterFailures, pauseReason);
        const recorded = await recordWebhookFailure(trx, {
          id: delivery.id,
          attempt: delivery.attempt,
          statusCode: outcome.statusCode,
          error,
          retryDelayMs: retryDelayMs(config.retryBaseMs, delivery.attempt),
          retryWindowMs: config.retryWindowMs,
          parked: endpoint.paused,
        });
        if (!recorded) throw new StaleAttempt();
        if (recorded.gaveUp) {
          this.stats.gaveUp++;
          log.info('Gave up a webhook delivery at the end of its retry window', { deliveryId: delivery.id, attempts: delivery.attempt, error });
        }
        if (endpoint.pausedNow) {
          this.stats.paused++;
          await parkWebhookDeliveries(trx, delivery.endpointId);
          log.info('Paused a webhook endpoint', { endpointId: delivery.endpointId, reason: pauseReason });
        }
      });
    } catch (caught) {
      if (!(caught instanceof StaleAttempt)) throw caught;
    }
  }
}
