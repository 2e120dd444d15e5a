import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { GraphQLError } from 'graphql';
import type { Role } from '../__generated__/resolvers-types.js';
import { ErrorCode } from '../shared/errors.js';
import { rawIdOf } from '../shared/global-id.js';
import { ANONYMOUS, type Viewer } from './viewer.js';

/**
 * Bearer JWTs. Claims: `sub`, `role` (customer | partner | staff | admin), and the global IDs
 * `business_id`, `partner_id`, `customer_id` of the caller's own records. HS256 with a shared
 * secret for development; asymmetric keys from a JWKS URL for real identity providers.
 *
 * Every token must expire (`exp`), and live at most `maxTokenAgeSeconds` (from `iat`, or from now
 * for a token without one): a stolen token without an end would work forever, over WebSocket too.
 * `iat` and `nbf` in the future are refused beyond a small clock tolerance.
 */
export interface TokenOptions {
  jwtSecret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** The longest lifetime a token may claim (`exp` - `iat`), in seconds. */
  maxTokenAgeSeconds?: number;
  /** How far the issuer's clock may be off ours, in seconds (for `exp`, `nbf`, `iat`). */
  clockToleranceSeconds?: number;
}

export const DEFAULT_MAX_TOKEN_AGE_SECONDS = 24 * 3600;
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;

/**
 * Algorithms accepted per kind of key. A shared secret only verifies HS256; keys from a JWKS only
 * asymmetric signatures, so a token can never be "signed" with a public key as an HMAC secret.
 */
const SECRET_ALGORITHMS = ['HS256'];
const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

// A Map, not an object literal: a role claim of "__proto__" or "constructor" must find nothing.
const ROLES = new Map<string, Role>([
  ['customer', 'CUSTOMER'],
  ['partner', 'PARTNER'],
  ['staff', 'STAFF'],
  ['admin', 'ADMIN'],
]);
/** Verified tokens are remembered until they expire: verifying costs more than the rest of a small request. */
const VERIFIED_CACHE_LIMIT = 10_000;

function invalidToken(reason: string): GraphQLError {
  return new GraphQLError(`The bearer token was refused: ${reason}`, {
    extensions: { code: ErrorCode.Unauthenticated, http: { status: 401 } },
  });
}

function viewerFromClaims(claims: JWTPayload): Viewer {
  const role = typeof claims.role === 'string' ? ROLES.get(claims.role) : undefined;
  if (!role) throw invalidToken(`expected the role claim to be one of ${[...ROLES.keys()].join(', ')}, got ${JSON.stringify(claims.role ?? null)}.`);
  const raw = (claim: string, type: 'Business' | 'Partner' | 'Customer') => {
    const value = claims[claim];
    if (value === undefined || value === null) return null;
    const id = typeof value === 'string' ? rawIdOf(value, type) : null;
    if (!id) throw invalidToken(`expected the ${claim} claim to be a ${type} ID.`);
    return id;
  };
  const viewer: Viewer = {
    role,
    subject: typeof claims.sub === 'string' ? claims.sub : null,
    businessId: raw('business_id', 'Business'),
    partnerId: raw('partner_id', 'Partner'),
    customerId: raw('customer_id', 'Customer'),
  };
  if (role !== 'ADMIN' && !viewer.businessId) throw invalidToken(`a ${role.toLowerCase()} token needs a business_id claim.`);
  if (role === 'PARTNER' && !viewer.partnerId) throw invalidToken('a partner token needs a partner_id claim.');
  if (role === 'CUSTOMER' && !viewer.customerId) throw invalidToken('a customer token needs a customer_id claim.');
  return viewer;
}

export class TokenVerifier {
  private readonly secret: Uint8Array | undefined;
  private readonly jwks: JWTVerifyGetKey | undefined;
  private readonly verified = new Map<string, { viewer: Viewer; expiresAt: number }>();
  private readonly maxAgeSeconds: number;
  private readonly toleranceSeconds: number;

  /**
   * `confirm` checks a verified token's claims against the records they name (see
   * server/token-claims.ts): a refusal reason, or null. Run once per token, as the signature is.
   */
  constructor(
    private readonly options: TokenOptions,
    private readonly confirm?: (viewer: Viewer) => Promise<string | null>,
  ) {
    this.secret = options.jwtSecret ? new TextEncoder().encode(options.jwtSecret) : undefined;
    this.jwks = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl)) : undefined;
    this.maxAgeSeconds = options.maxTokenAgeSeconds ?? DEFAULT_MAX_TOKEN_AGE_SECONDS;
    this.toleranceSeconds = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  }

  /** The viewer an `Authorization` header identifies; anonymous without one. Throws UNAUTHENTICATED for a bad token. */
  async viewerFor(authorization: string | undefined): Promise<Viewer> {
    if (!authorization) return ANONYMOUS;
    return (await this.sessionFor(authorization)).viewer;
  }

  /**
   * The viewer of a bearer token and when the token expires (epoch ms): a WebSocket connection
   * ends when its token does.
   */
  async sessionFor(authorization: string): Promise<{ viewer: Viewer; expiresAt: number }> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) throw invalidToken('expected an Authorization header of the form "Bearer <token>".');
    const token = match[1];
    const cached = this.verified.get(token);
    if (cached && cached.expiresAt > Date.now()) return cached;

    const claims = await this.verify(token);
    this.checkLifetime(claims);
    const viewer = viewerFromClaims(claims);
    const refusal = this.confirm ? await this.confirm(viewer) : null;
    if (refusal) throw invalidToken(refusal);
    const session = { viewer, expiresAt: (claims.exp as number) * 1000 };
    if (this.verified.size >= VERIFIED_CACHE_LIMIT) this.verified.clear();
    this.verified.set(token, session);
    return session;
  }

  /**
   * jose checks `nbf` and `exp` with the clock tolerance; these are the rules it leaves to us. The
   * tolerance forgives an issuer whose clock runs ahead (`nbf`, `iat`), never an expiry: a token is
   * refused from its `exp` on, the moment a WebSocket it opened is closed.
   */
  private checkLifetime(claims: JWTPayload): void {
    const now = Math.floor(Date.now() / 1000);
    const exp = claims.exp as number;
    if (exp <= now) throw invalidToken(`"exp" claim timestamp check failed: the token expired ${now - exp} s ago.`);
    if (claims.iat !== undefined && claims.iat > now + this.toleranceSeconds) {
      throw invalidToken(`expected "iat" (issued at) not to be in the future, got ${claims.iat - now} s ahead of this server's clock.`);
    }
    const lifetime = exp - Math.min(claims.iat ?? now, now);
    if (lifetime > this.maxAgeSeconds) {
      throw invalidToken(`expected a token that lives at most ${this.maxAgeSeconds} s (AUTH_MAX_TOKEN_AGE), got one that lives ${lifetime} s.`);
    }
  }

  private async verify(token: string): Promise<JWTPayload> {
    const options = { issuer: this.options.issuer, audience: this.options.audience, requiredClaims: ['exp'], clockTolerance: this.toleranceSeconds };
    try {
      if (this.jwks) {
        // A token signed with the shared secret is still accepted in development alongside an IdP.
        if (this.secret && algorithmOf(token) === 'HS256') {
          return (await jwtVerify(token, this.secret, { ...options, algorithms: SECRET_ALGORITHMS })).payload;
        }
        return (await jwtVerify(token, this.jwks, { ...options, algorithms: JWKS_ALGORITHMS })).payload;
      }
      if (this.secret) return (await jwtVerify(token, this.secret, { ...options, algorithms: SECRET_ALGORITHMS })).payload;
    } catch (error) {
      throw invalidToken(`${(error as Error).message.replace(/\.$/, '')}.`);
    }
    throw invalidToken('no key is configured to verify it (set AUTH_JWT_SECRET or AUTH_JWKS_URL).');
  }
}

export interface TokenClaims {
  sub: string;
  role: 'customer' | 'partner' | 'staff' | 'admin';
  business_id?: string;
  partner_id?: string;
  customer_id?: string;
}

function algorithmOf(token: string): string | undefined {
  try {
    return decodeProtectedHeader(token).alg;
  } catch {
    return undefined;
  }
}

/** Signs a development token with the shared secret (it must live no longer than AUTH_MAX_TOKEN_AGE). */
export async function signDevelopmentToken(secret: string, claims: TokenClaims, expiresIn = '12h'): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
