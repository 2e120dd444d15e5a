import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import { HeaderMap } from '@apollo/server';
import ipaddr from 'ipaddr.js';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Viewer } from '../auth/viewer.js';
import type { RateLimitBucket, RateLimitConfig } from '../config.js';
import { ErrorCode } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

/**
 * The API's rate limits: seven buckets, each a fixed window of points per key.
 *
 * - `operations`: every GraphQL operation over HTTP costs its points (1 unless a cost function is
 *   given), per account (role, business and token subject) or, without a token, per client IP.
 * - `bookings`: mutations that claim slots cost 1 more here, per account, so that one customer
 *   cannot book a partner's whole week in seconds while reads stay open.
 * - `paymentWebhooks`: deliveries per provider.
 * - `websocketConnections`: connections opened per client IP.
 * - `messages`: booking messages posted per sender (charged by messageSend itself).
 * - `guestCodes` / `guestCodesByIp`: guest booking codes sent per address and per client IP
 *   (charged by guestBookingStart itself: the key is in its input).
 *
 * With REDIS_URL the counters live in Redis (keys `{REDIS_KEY_PREFIX}ratelimit:{bucket}:{key}`), so
 * every process of a deployment shares one budget; without it, in this process. A request checks
 * all of its buckets at once: the commands go out together, one round trip.
 *
 * If Redis fails or is slow (past REDIS_COMMAND_TIMEOUT_MS), each bucket falls back to a limiter in
 * this process with the same budget (rate-limiter-flexible's insurance limiter) and a warning is
 * logged: losing Redis makes limits per process, it never refuses a request or takes the API down.
 */
export type BucketName = 'operations' | 'bookings' | 'paymentWebhooks' | 'websocketConnections' | 'messages' | 'guestCodes' | 'guestCodesByIp';

/** What a client sees of a bucket: the window's budget, what is left of it, and when it refills. */
export interface Budget {
  limit: number;
  remaining: number;
  resetSeconds: number;
}

export interface Verdict {
  allowed: boolean;
  /** The bucket that refused (when not allowed), else the first bucket checked. */
  bucket: BucketName;
  budget: Budget;
  /** Whole seconds until the refusing bucket has room again (0 when allowed). */
  retryAfterSeconds: number;
  /** The length of that bucket's window. */
  windowSeconds: number;
  /** The other buckets checked with it, by name. */
  others: Partial<Record<BucketName, Budget>>;
}

/**
 * The WebSocket close code for a connection refused by the `websocketConnections` bucket. graphql-ws
 * names its codes after HTTP statuses and takes 4429 (a second `connection_init`), so this is the
 * next free one. graphql-ws clients do not treat it as fatal: they retry with their backoff.
 */
export const CloseCodeTooManyConnections = 4430;

/** Key parts longer than this are hashed: a token subject is the signer's choice of length. */
const MAX_KEY_PART = 64;

function boundedPart(text: string): string {
  return text.length <= MAX_KEY_PART ? text : `sha256:${createHash('sha256').update(text).digest('base64url')}`;
}

/** The account an authenticated request counts against: one key per role, business and subject. */
export function accountKey(viewer: Viewer): string | null {
  // An account is one key whatever its memberships (they change; the account does not).
  if (viewer.accountId) return `account:${viewer.accountId}`;
  if (!viewer.subject) return null;
  return `account:${viewer.role}:${viewer.businessId ?? '-'}:${boundedPart(viewer.subject)}`;
}

/**
 * The client's address. Without trusted proxies, the TCP peer's. With `trustProxy` hops, the
 * address that many entries from the right end of X-Forwarded-For (each proxy appends the address
 * it was reached from, so the entries to the left of those are the client's own claims and cannot
 * be trusted). IPv4-mapped IPv6 is unwrapped; IPv6 counts per /64, the block one host is given.
 */
export function clientAddress(req: IncomingMessage, trustProxy: number): string {
  let address = req.socket.remoteAddress ?? 'unknown';
  if (trustProxy > 0) {
    const header = req.headers['x-forwarded-for'];
    const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((entry) => entry.trim()).filter(Boolean);
    // [...forwarded, peer]: the peer is the nearest proxy; `trustProxy` hops back is the client.
    const chain = [...forwarded, address];
    address = chain[Math.max(0, chain.length - 1 - trustProxy)];
  }
  return normalizeAddress(address);
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function normalizeAddress(address: string): string {
  if (IPV4.test(address)) return address;
  if (!ipaddr.isValid(address)) return `invalid:${boundedPart(address)}`;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  const parts = v6.toNormalizedString().split(':').slice(0, 4).join(':');
  return `${parts}::/64`;
}

/** The key of a request's `operations` bucket: its account, or its client's address without a token. */
export function operationKey(viewer: Viewer, clientIp: string | undefined): string {
  return accountKey(viewer) ?? `ip:${clientIp ?? 'unknown'}`;
}

export interface RateLimitsOptions {
  config: RateLimitConfig;
  redisUrl: string | undefined;
  keyPrefix: string;
  commandTimeoutMs: number;
  log: Logger;
}

export class RateLimits {
  readonly backend: 'redis' | 'memory';
  private readonly limiters: Record<BucketName, RateLimiterAbstract>;
  private readonly redis: Redis | null;
  private failing = false;

  constructor(private readonly options: RateLimitsOptions) {
    const { config, redisUrl, keyPrefix, commandTimeoutMs } = options;
    this.backend = redisUrl ? 'redis' : 'memory';
    // A connection of its own, configured like the cache's: no offline queue and no retries per
    // command, so a Redis that is down or slow fails the command at once and the insurance answers.
    this.redis = redisUrl
      ? new Redis(redisUrl, { commandTimeout: commandTimeoutMs, connectTimeout: Math.max(commandTimeoutMs * 5, 1000), enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: (times) => Math.min(100 * times, 1000) })
      : null;
    this.redis?.on('error', () => {});
    this.redis?.on('ready', () => {
      if (this.failing) options.log.info('Rate limits are shared through Redis again');
      this.failing = false;
    });
    const limiter = (name: BucketName, bucket: RateLimitBucket): RateLimiterAbstract => {
      const memory = { keyPrefix: name, points: bucket.points, duration: bucket.durationSeconds };
      if (!this.redis) return new RateLimiterMemory(memory);
      const insurance = new RateLimiterMemory(memory);
      // The insurance answers whenever Redis did not: say so once per outage.
      const consume = insurance.consume.bind(insurance);
      insurance.consume = (key, points, opts) => {
        this.warnFailing();
        return consume(key, points, opts);
      };
      return new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix: `${keyPrefix}ratelimit:${name}`,
        points: bucket.points,
        duration: bucket.durationSeconds,
        rejectIfRedisNotReady: true,
        insuranceLimiter: insurance,
      });
    };
    this.limiters = {
      operations: limiter('operations', config.operations),
      bookings: limiter('bookings', config.bookings),
      paymentWebhooks: limiter('paymentWebhooks', config.paymentWebhooks),
      websocketConnections: limiter('websocketConnections', config.websocketConnections),
      messages: limiter('messages', config.messages),
      guestCodes: limiter('guestCodes', config.guestCodes),
      guestCodesByIp: limiter('guestCodesByIp', config.guestCodesByIp),
    };
  }

  /**
   * Resolves once the Redis connection is up (at once without Redis), or after `timeoutMs` anyway:
   * until then every charge is counted by the in-process fallback alone.
   */
  whenReady(timeoutMs = 5000): Promise<void> {
    const redis = this.redis;
    if (!redis || redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        redis!.off('ready', done);
        resolve();
      }
      redis.once('ready', done);
    });
  }

  get config(): RateLimitConfig {
    return this.options.config;
  }

  /**
   * Takes `points[i]` from each bucket for its key, all in one round trip. Refused when any bucket
   * is over its budget; the verdict names the one that refused (the longest wait if several did).
   */
  async consume(charges: ReadonlyArray<{ bucket: BucketName; key: string; points: number }>): Promise<Verdict> {
    const results = await Promise.all(
      charges.map(({ bucket, key, points }) =>
        this.limiters[bucket].consume(key, points).then(
          (res) => ({ bucket, res, allowed: true }),
          (rejection: unknown) => {
            if (rejection instanceof RateLimiterRes) return { bucket, res: rejection, allowed: false };
            // Both Redis and the insurance failed: never refuse for our own failure.
            this.warnFailing(rejection);
            return { bucket, res: null, allowed: true };
          },
        ),
      ),
    );
    const budgetOf = (bucket: BucketName, res: RateLimiterRes | null): Budget => {
      const limit = this.options.config[bucket].points;
      return res ? { limit, remaining: res.remainingPoints, resetSeconds: Math.ceil(res.msBeforeNext / 1000) } : { limit, remaining: limit, resetSeconds: 0 };
    };
    let chosen = results[0];
    for (const result of results) if (!result.allowed && (chosen.allowed || (result.res?.msBeforeNext ?? 0) > (chosen.res?.msBeforeNext ?? 0))) chosen = result;
    const others: Partial<Record<BucketName, Budget>> = {};
    for (const result of results) if (result !== chosen) others[result.bucket] = budgetOf(result.bucket, result.res);
    const budget = budgetOf(chosen.bucket, chosen.res);
    return { allowed: chosen.allowed, bucket: chosen.bucket, budget, windowSeconds: this.options.config[chosen.bucket].durationSeconds, retryAfterSeconds: chosen.allowed ? 0 : Math.max(1, budget.resetSeconds), others };
  }

  consumeOne(bucket: BucketName, key: string, points = 1): Promise<Verdict> {
    return this.consume([{ bucket, key, points }]);
  }

  async close(): Promise<void> {
    if (!this.redis) return;
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis!.disconnect());
    else this.redis.disconnect();
  }

  private warnFailing(error?: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.options.log.error('Rate limits could not reach Redis; counting in this process until it is back (limits are per process meanwhile)', {
      message: error instanceof Error ? error.message : this.redis ? `Redis connection is ${this.redis.status}` : undefined,
    });
  }
}

const BUCKET_WORDS: Record<BucketName, string> = {
  operations: 'operations',
  bookings: 'bookings and holds',
  paymentWebhooks: 'webhook deliveries',
  websocketConnections: 'connections',
  messages: 'messages',
  guestCodes: 'codes sent to this address',
  guestCodesByIp: 'guest bookings from this network',
};

export function refusalMessage(verdict: Verdict): string {
  return `Too many ${BUCKET_WORDS[verdict.bucket]}: expected at most ${verdict.budget.limit} per ${verdict.windowSeconds} s, and this window's are spent; retry after ${verdict.retryAfterSeconds} s.`;
}

/** The top-level error of a refused operation: HTTP 429 with Retry-After, nothing executed. */
export function rateLimitedError(verdict: Verdict): GraphQLError {
  return new GraphQLError(refusalMessage(verdict), {
    extensions: {
      code: ErrorCode.RateLimited,
      retryAfterSeconds: verdict.retryAfterSeconds,
      http: { status: 429, headers: new HeaderMap([['retry-after', String(verdict.retryAfterSeconds)]]) },
    },
  });
}
