import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../shared/logger.js';

export const HEALTH_PATH = '/healthz';
export const READINESS_PATH = '/readyz';

/** One thing an instance needs before it takes traffic; `check` rejects (or outlasts its timeout) when it is missing. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
  /**
   * Reported but never a reason to take traffic away: its failure is listed under `degraded`, and
   * the answer stays 200. For a dependency the instance works around (read replicas: reads fall
   * back to the primary; failing readiness on them would drain every instance at once).
   */
  advisory?: boolean;
}

/** A check that has not answered by then has failed: a hung dependency must not hang the probe. */
export const DEFAULT_CHECK_TIMEOUT_MS = 2000;
/**
 * How long one verdict is reused. Probes from a load balancer, an orchestrator and a person's curl
 * then cost the dependencies one round of checks a second whatever their number, and a probe under
 * load answers from memory; a second is well under any probe interval, so a failure is still seen
 * at the next probe.
 */
export const DEFAULT_VERDICT_TTL_MS = 1000;

export interface CheckResult {
  name: string;
  ok: boolean;
  ms: number;
  /** Why it failed, for the operator: `timed out after 2000 ms`, or the error's message. */
  error?: string;
}

export interface ReadinessVerdict {
  ready: boolean;
  /** `draining` once shutdown began (SIGTERM): the checks may pass, the instance is leaving. */
  status: 'ready' | 'unready' | 'draining';
  /** The names of the failing checks (`shutdown` while draining). */
  failing: string[];
  /** The failing advisory checks: reported, not failing the verdict. */
  degraded: string[];
  checks: CheckResult[];
}

/**
 * GET /readyz: whether this instance should get traffic. Its checks run concurrently, each bounded
 * by a timeout; concurrent probes share one round, and a verdict is reused for `verdictTtlMs`.
 * `startDraining()` (SIGTERM) turns it 503 for good, before any socket closes, so that a load
 * balancer stops sending new requests while the ones in flight finish.
 */
export class Readiness {
  private draining = false;
  private verdict: { at: number; value: Promise<ReadinessVerdict> } | undefined;
  private lastFailing = '';

  constructor(
    private readonly checks: readonly ReadinessCheck[],
    private readonly options: { log: Logger; timeoutMs?: number; verdictTtlMs?: number },
  ) {}

  get isDraining(): boolean {
    return this.draining;
  }

  startDraining(): void {
    this.draining = true;
  }

  async verdictNow(): Promise<ReadinessVerdict> {
    const now = Date.now();
    if (!this.verdict || now - this.verdict.at >= (this.options.verdictTtlMs ?? DEFAULT_VERDICT_TTL_MS)) {
      this.verdict = { at: now, value: this.runChecks() };
    }
    const verdict = await this.verdict.value;
    if (!this.draining) return verdict;
    return { ...verdict, ready: false, status: 'draining', failing: ['shutdown', ...verdict.failing] };
  }

  private async runChecks(): Promise<ReadinessVerdict> {
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
    const checks = await Promise.all(this.checks.map((c) => runBounded(c, timeoutMs)));
    const advisory = new Set(this.checks.filter((c) => c.advisory).map((c) => c.name));
    const failing = checks.filter((c) => !c.ok && !advisory.has(c.name)).map((c) => c.name);
    const degraded = checks.filter((c) => !c.ok && advisory.has(c.name)).map((c) => c.name);
    // A change of verdict is logged once, not every probe.
    const key = `${failing.join(',')}|${degraded.join(',')}`;
    if (key !== this.lastFailing) {
      if (failing.length || degraded.length) (this.options.log.warn ?? this.options.log.info).call(this.options.log, failing.length ? 'Not ready' : 'Ready, degraded', { failing, degraded, checks: checks.filter((c) => !c.ok) });
      else this.options.log.info('Ready again', { checks: checks.map((c) => c.name) });
      this.lastFailing = key;
    }
    return { ready: failing.length === 0, status: failing.length ? 'unready' : 'ready', failing, degraded, checks };
  }
}

async function runBounded(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([check.check(), timeout]);
    return { name: check.name, ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { name: check.name, ok: false, ms: Math.round(performance.now() - started), error: (error as Error)?.message ?? String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** The two probe routes: /healthz (the process answers) and /readyz (200 or 503 with the verdict as JSON). */
export function probeRoute(readiness: Readiness) {
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    if (path === HEALTH_PATH) {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('ok');
      return true;
    }
    if (path !== READINESS_PATH) return false;
    const verdict = await readiness.verdictNow();
    res.writeHead(verdict.ready ? 200 : 503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : JSON.stringify(verdict));
    return true;
  };
}
