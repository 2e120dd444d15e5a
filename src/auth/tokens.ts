import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { GraphQLError } from 'graphql';
import type { Role } from '../__generated__/resolvers-types.js';
import { ErrorCode } from '../shared/errors.js';
import { rawIdOf } from '../shared/global-id.js';
import { ANONYMOUS, type Viewer } from './viewer.js';

/**
 * Bearer JWTs, of two kinds:
 * - account tokens, as any OIDC identity provider issues them: `iss` + `sub` name an account (and
 *   `email`, `name` describe it); what it may do comes from its memberships and customer records in
 *   the database (accounts/account-access.ts), never from claims;
 * - service tokens: a `role` claim (customer | partner | staff | admin) and the global IDs
 *   `business_id`, `partner_id`, `customer_id` of the caller's own records. Accepted only when
 *   `acceptClaimTokens` is on (AUTH_ACCEPT_CLAIM_TOKENS, default off in production) and only with
 *   the shared secret: an identity provider's key never vouches for our roles.
 * HS256 with a shared secret for development; asymmetric keys from a JWKS URL for real identity providers.
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
  /** Platform admins: `subject` or `issuer|subject` entries. */
  adminSubjects?: string[];
  /** Accept service tokens (a `role` claim) signed with the shared secret. */
  acceptClaimTokens?: boolean;
}

/** Who an account token names, as the identity provider describes them. */
export interface TokenIdentity {
  /** The token's `iss`, '' without one (tokens of the development secret). */
  issuer: string;
  subject: string;
  email: string | null;
  name: string | null;
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

function serviceViewerFromClaims(claims: JWTPayload): Viewer {
  const role = typeof claims.role === 'string' ? ROLES.get(claims.role) : undefined;
  if (!role) throw invalidToken(`expected the role claim to be one of ${[...ROLES.keys()].join(', ')}, got ${JSON.stringify(claims.role ?? null)}.`);
  const raw = (claim: string, type: 'Business' | 'Partner' | 'Customer') => {
    const value = claims[claim];
    if (value === undefined || value === null) return null;
    const id = typeof value === 'string' ? rawIdOf(value, type) : null;
    if (!id) throw invalidToken(`expected the ${claim} claim to be a ${type} ID.`);
    return id;
  };
  const businessId = raw('business_id', 'Business');
  const partnerId = raw('partner_id', 'Partner');
  const customerId = raw('customer_id', 'Customer');
  if (role !== 'ADMIN' && !businessId) throw invalidToken(`a ${role.toLowerCase()} token needs a business_id claim.`);
  if (role === 'PARTNER' && !partnerId) throw invalidToken('a partner token needs a partner_id claim.');
  if (role === 'CUSTOMER' && !customerId) throw invalidToken('a customer token needs a customer_id claim.');
  // The claims' one grant, in the shape account grants have: every access rule reads grants only.
  const memberships = role === 'STAFF' ? [{ id: null, businessId: businessId!, role: 'STAFF' as const, partnerId: null }] : role === 'PARTNER' ? [{ id: null, businessId: businessId!, role: 'PARTNER' as const, partnerId }] : [];
  const customers = role === 'CUSTOMER' ? [{ businessId: businessId!, customerId: customerId! }] : [];
  return {
    ...ANONYMOUS,
    role,
    subject: typeof claims.sub === 'string' ? claims.sub : null,
    issuer: typeof claims.iss === 'string' ? claims.iss : '',
    admin: role === 'ADMIN',
    memberships,
    customers,
    businessId,
    partnerId,
    customerId,
  };
}

const optionalText = (value: unknown, max: number): string | null => (typeof value === 'string' && value.trim() ? value.trim().slice(0, max) : null);

function identityOf(claims: JWTPayload): TokenIdentity {
  if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 255) {
    throw invalidToken(`expected a "sub" claim of 1 to 255 characters naming the account, got ${typeof claims.sub === 'string' ? `${claims.sub.length} characters` : JSON.stringify(claims.sub ?? null)}.`);
  }
  return { issuer: typeof claims.iss === 'string' ? claims.iss : '', subject: claims.sub, email: optionalText(claims.email, 320), name: optionalText(claims.name, 200) };
}

export class TokenVerifier {
  private readonly secret: Uint8Array | undefined;
  private readonly jwks: JWTVerifyGetKey | undefined;
  private readonly verified = new Map<string, { viewer: Viewer; expiresAt: number }>();
  private readonly maxAgeSeconds: number;
  private readonly toleranceSeconds: number;

  private readonly admins: Set<string>;

  /**
   * `confirm` checks a service token's claims against the records they name (see
   * viewer/token-claims.ts): a refusal reason, or null. `identify` finds (or creates) the account
   * of an account token. Both run once per token, as the signature check does: the verifier
   * remembers the tokens it accepted. The viewer of an account token has no grants yet: the
   * request adds them (accounts/account-access.ts), so that a revoked membership is not remembered
   * with the token.
   */
  constructor(
    private readonly options: TokenOptions,
    private readonly confirm?: (viewer: Viewer) => Promise<string | null>,
    private readonly identify?: (identity: TokenIdentity) => Promise<string>,
  ) {
    this.admins = new Set(options.adminSubjects ?? []);
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

    const { claims, bySecret } = await this.verify(token);
    this.checkLifetime(claims);
    const viewer = claims.role === undefined ? await this.accountViewerOf(claims) : this.serviceViewerOf(claims, bySecret);
    const refusal = this.confirm && viewer.accountId === null ? await this.confirm(viewer) : null;
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

  private serviceViewerOf(claims: JWTPayload, bySecret: boolean): Viewer {
    if (this.options.acceptClaimTokens === false) {
      throw invalidToken('expected an account token (no "role" claim): service tokens are off (AUTH_ACCEPT_CLAIM_TOKENS).');
    }
    if (!bySecret) throw invalidToken('expected a service token (with a "role" claim) to be signed with AUTH_JWT_SECRET, got one signed by the identity provider.');
    return serviceViewerFromClaims(claims);
  }

  private async accountViewerOf(claims: JWTPayload): Promise<Viewer> {
    const identity = identityOf(claims);
    const admin = this.admins.has(identity.subject) || this.admins.has(`${identity.issuer}|${identity.subject}`);
    const accountId = this.identify ? await this.identify(identity) : null;
    return { ...ANONYMOUS, role: admin ? 'ADMIN' : 'ACCOUNT', ...identity, accountId, admin };
  }

  private async verify(token: string): Promise<{ claims: JWTPayload; bySecret: boolean }> {
    const options = { issuer: this.options.issuer, audience: this.options.audience, requiredClaims: ['exp'], clockTolerance: this.toleranceSeconds };
    try {
      if (this.jwks) {
        // A token signed with the shared secret is still accepted in development alongside an IdP.
        if (this.secret && algorithmOf(token) === 'HS256') {
          return { claims: (await jwtVerify(token, this.secret, { ...options, algorithms: SECRET_ALGORITHMS })).payload, bySecret: true };
        }
        return { claims: (await jwtVerify(token, this.jwks, { ...options, algorithms: JWKS_ALGORITHMS })).payload, bySecret: false };
      }
      if (this.secret) return { claims: (await jwtVerify(token, this.secret, { ...options, algorithms: SECRET_ALGORITHMS })).payload, bySecret: true };
    } catch (error) {
      throw invalidToken(`${(error as Error).message.replace(/\.$/, '')}.`);
    }
    throw invalidToken('no key is configured to verify it (set AUTH_JWT_SECRET or AUTH_JWKS_URL).');
  }
}

/** A service token's claims, or an account token's (no `role`: `sub`, and `email`, `name`, `iss` if known). */
export type TokenClaims =
  | { sub: string; role: 'customer' | 'partner' | 'staff' | 'admin'; business_id?: string; partner_id?: string; customer_id?: string }
  | { sub: string; role?: undefined; iss?: string; email?: string; name?: string };

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
