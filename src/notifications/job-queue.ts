import type { Db } from '../db/sql-helpers.js';
import type { Logger } from '../shared/logger.js';
import { BackgroundFailures } from '../shared/background-failures.js';
import { CoalescedRuns } from '../shared/coalesced-runs.js';
import { retryDelayMs } from '../shared/retry-delay.js';
import { claimDueJobs, completeJobs, failJob, type ClaimedJob } from './notification-jobs.repository.js';

/** Runs one job; throws to have it retried. */
export type JobHandler = (job: ClaimedJob) => Promise<void>;

export interface JobQueueOptions {
  db: Db;
  log: Logger;
  handlers: Record<string, JobHandler>;
  /** The time the queue goes by (tests pass a clock they move). */
  now: () => Date;
  /** Poll this often for due jobs; 0: only when kicked. */
  pollIntervalMs: number;
  /** Attempts before a job is dead. */
  maxAttempts: number;
  /** The wait before the second attempt; it doubles with every failure (at most an hour), jittered. */
  retryBaseMs: number;
  /** How long a claim keeps a job from other workers: past it, a job whose worker died is claimed again. */
  leaseMs?: number;
  batchSize?: number;
}

const MAX_ERROR_LENGTH = 500;

/**
 * The notification job queue's worker (jobs live in notification_jobs; see the migration). A run
 * claims a batch of due jobs in one statement (SKIP LOCKED, a lease), runs their handlers at once,
 * marks the succeeded ones done in one statement and each failure apart: retried with exponential
 * backoff, dead after `maxAttempts`. Every process runs one; no two claim the same job. A process
 * that dies mid-job leaves it claimed until its lease ends, then another runs it again: delivery is
 * at least once (an e-mail may be sent twice if the process dies between the SMTP answer and the
 * commit of "done"), never twice from two live workers.
 */
export class JobQueue {
  private readonly runs: CoalescedRuns;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  /** For tests and /metrics. */
  readonly stats = { claimed: 0, succeeded: 0, failed: 0, dead: 0 };

  constructor(private readonly options: JobQueueOptions) {
    this.batchSize = options.batchSize ?? 20;
    this.leaseMs = options.leaseMs ?? 60_000;
    const failures = new BackgroundFailures(options.log, 'The notification queue failed; it will run again');
    this.runs = new CoalescedRuns(
      () => this.runAllDue(),
      (error) => failures.failed(error),
      () => failures.succeeded(),
    );
  }

  start(): void {
    if (this.options.pollIntervalMs > 0) this.runs.every(this.options.pollIntervalMs);
  }

  /** Asks for runs until nothing is due; resolves when a run that started after this call has finished. */
  kick(): Promise<void> {
    return this.runs.kick();
  }

  /** Stops polling and waits for the run in progress (its jobs are recorded). */
  stop(): Promise<void> {
    return this.runs.stop();
  }

  private async runAllDue(): Promise<void> {
    while (!this.runs.stopped && (await this.runOnce()) === this.batchSize);
  }

  /** Claims and runs one batch; returns how many jobs it claimed. */
  async runOnce(): Promise<number> {
    const { db, now } = this.options;
    const claimed = await claimDueJobs(db, now(), this.batchSize, this.leaseMs);
    this.stats.claimed += claimed.length;
    const outcomes = await Promise.all(claimed.map(async (job) => ({ job, error: await this.run(job) })));
    const succeeded = outcomes.filter((o) => o.error === null).map((o) => o.job);
    await completeJobs(db, succeeded, now());
    this.stats.succeeded += succeeded.length;
    for (const { job, error } of outcomes) if (error !== null) await this.recordFailure(job, error);
    return claimed.length;
  }

  private async run(job: ClaimedJob): Promise<string | null> {
    const handler = this.options.handlers[job.kind];
    try {
      if (!handler) throw new Error(`Expected a handler for job kind "${job.kind}", got none: is this process older than the one that queued it?`);
      await handler(job);
      return null;
    } catch (error) {
      return (error as Error).message?.slice(0, MAX_ERROR_LENGTH) || 'unknown error';
    }
  }

  private async recordFailure(job: ClaimedJob, error: string): Promise<void> {
    const { db, now, log, maxAttempts, retryBaseMs } = this.options;
    const dead = job.attempts >= maxAttempts;
    const at = now();
    const retryAt = dead ? null : new Date(at.getTime() + retryDelayMs(retryBaseMs, job.attempts));
    this.stats.failed++;
    if (dead) this.stats.dead++;
    await failJob(db, job, error, retryAt, at);
    (dead ? log.error : log.info).call(log, dead ? 'A notification job is dead after its last attempt' : 'A notification job failed; retried later', {
      jobId: job.id, kind: job.kind, attempts: job.attempts, error, retryAt: retryAt?.toISOString(),
    });
  }
}
