import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { GraphQLError } from 'graphql';
import type { Role } from '../__generated__/resolvers-types.js';
import { ErrorCode } from '../shared/errors.js';
import { rawIdOf } from '../shared/global-id.js';
import { ANONYMOUS, type Viewer } from './viewer.js';

/**
 * Bearer JWTs. Claims: `sub`, `role` (customer | partner | staff | admin), and the global IDs
 * `business_id`, `partner_id`, `customer_id` of the caller's own records. HS256 with a shared
 * secret for development; RS256/ES256 keys from a JWKS URL for real identity providers.
 */
export interface TokenOptions {
  jwtSecret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

const ROLES: Record<string, Role> = { customer: 'CUSTOMER', partner: 'PARTNER', staff: 'STAFF', admin: 'ADMIN' };
/** Verified tokens are remembered until they expire: verifying costs more than the rest of a small request. */
const VERIFIED_CACHE_LIMIT = 10_000;

function invalidToken(reason: string): GraphQLError {
  return new GraphQLError(`The bearer token was refused: ${reason}`, {
    extensions: { code: ErrorCode.Unauthenticated, http: { status: 401 } },
  });
}

function viewerFromClaims(claims: JWTPayload): Viewer {
  const role = ROLES[String(claims.role)];
  if (!role) throw invalidToken(`expected the role claim to be one of ${Object.keys(ROLES).join(', ')}, got "${String(claims.role)}".`);
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
  private readonly verified = new Map<string, { viewer: Viewer; expiresAt: number; tokenExpiresAt: number | null }>();

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
  }

  /** The viewer an `Authorization` header identifies; anonymous without one. Throws UNAUTHENTICATED for a bad token. */
  async viewerFor(authorization: string | undefined): Promise<Viewer> {
    if (!authorization) return ANONYMOUS;
    return (await this.sessionFor(authorization)).viewer;
  }

  /**
   * The viewer of a bearer token and when the token expires (epoch ms; a token without `exp` is
   * trusted for a minute at a time): a WebSocket connection ends when its token does.
   */
  async sessionFor(authorization: string): Promise<{ viewer: Viewer; expiresAt: number | null }> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) throw invalidToken('expected an Authorization header of the form "Bearer <token>".');
    const token = match[1];
    const cached = this.verified.get(token);
    if (cached && cached.expiresAt > Date.now()) return { viewer: cached.viewer, expiresAt: cached.tokenExpiresAt };

    const claims = await this.verify(token);
    const viewer = viewerFromClaims(claims);
    const refusal = this.confirm ? await this.confirm(viewer) : null;
    if (refusal) throw invalidToken(refusal);
    if (this.verified.size >= VERIFIED_CACHE_LIMIT) this.verified.clear();
    const tokenExpiresAt = claims.exp ? claims.exp * 1000 : null;
    this.verified.set(token, { viewer, expiresAt: tokenExpiresAt ?? Date.now() + 60_000, tokenExpiresAt });
    return { viewer, expiresAt: tokenExpiresAt };
  }

  private async verify(token: string): Promise<JWTPayload> {
    const options = { issuer: this.options.issuer, audience: this.options.audience };
    try {
      if (this.jwks) {
        // A token signed with the shared secret is still accepted in development alongside an IdP.
        if (this.secret && /"alg":"HS256"/.test(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString())) {
          return (await jwtVerify(token, this.secret, { ...options, algorithms: ['HS256'] })).payload;
        }
        return (await jwtVerify(token, this.jwks, options)).payload;
      }
      if (this.secret) return (await jwtVerify(token, this.secret, { ...options, algorithms: ['HS256'] })).payload;
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

/** Signs a development token with the shared secret. */
export async function signDevelopmentToken(secret: string, claims: TokenClaims, expiresIn = '30d'): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
