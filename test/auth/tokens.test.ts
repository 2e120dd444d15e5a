import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { signDevelopmentToken, type TokenClaims } from '../../src/auth/tokens.js';
import { loggedErrors, startTestApi, TEST_JWT_SECRET, type GraphQLResponse, type TestApi } from '../support/api.js';
import { createBookableBusiness, type BuiltBusiness, type BuiltCustomer, type BuiltPartner } from '../support/builders.js';

/**
 * Bearer tokens: a token that is present but cannot be trusted is refused outright (HTTP 401,
 * UNAUTHENTICATED), whatever the operation; no token at all is the anonymous viewer.
 */
const VIEWER = `{ viewer { role subject business { slug } partner { id } customer { id } } }`;

function signHs256(secret: string, claims: JWTPayload, times: { iat?: number; exp?: number } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(times.iat ?? now)
    .setExpirationTime(times.exp ?? now + 3600)
    .sign(new TextEncoder().encode(secret));
}

async function gqlAt(url: string, query: string, authorization?: string): Promise<GraphQLResponse> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ query }),
  });
  return { ...((await res.json()) as GraphQLResponse), status: res.status };
}

function expectRefused(res: GraphQLResponse, reason?: RegExp) {
  expect(res.status, JSON.stringify(res)).toBe(401);
  expect(res.data).toBeUndefined();
  expect(res.errors).toHaveLength(1);
  expect(res.errors![0].extensions?.code).toBe('UNAUTHENTICATED');
  expect(res.errors![0].extensions).not.toHaveProperty('stacktrace');
  expect(res.errors![0].extensions).not.toHaveProperty('http');
  expect(res.errors![0].message).toMatch(/^The bearer token was refused: /);
  if (reason) expect(res.errors![0].message).toMatch(reason);
}

// One test API (and embedded database) for the file; the JWKS app below shares its database.
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

describe('Auth: shared-secret (HS256) tokens', () => {
  let built: { business: BuiltBusiness; partners: BuiltPartner[]; customer: BuiltCustomer };

  beforeAll(async () => {
    built = await createBookableBusiness(api.db);
  });

  const authorized = (authorization: string) => gqlAt(api.app.url, VIEWER, authorization);

  it('refuses a malformed Authorization header with 401 UNAUTHENTICATED', async () => {
    const token = await api.token({ sub: 'staff-1', role: 'staff', business_id: built.business.gid });
    for (const header of [`Basic ${token}`, 'Bearer', 'Bearer ', `Bearer ${token} extra`, token]) {
      expectRefused(await authorized(header), /Bearer <token>/);
    }
    expectRefused(await authorized('Bearer not-a-jwt'));
  });

  it('refuses a token signed with another secret with 401 UNAUTHENTICATED', async () => {
    const token = await signDevelopmentToken('another-secret-entirely', { sub: 'staff-1', role: 'staff', business_id: built.business.gid });
    expectRefused(await authorized(`Bearer ${token}`), /signature/);
  });

  it('refuses an expired token with 401 UNAUTHENTICATED', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await signHs256(TEST_JWT_SECRET, { sub: 'staff-1', role: 'staff', business_id: built.business.gid }, { iat: now - 7200, exp: now - 3600 });
    expectRefused(await authorized(`Bearer ${token}`), /"exp"/);
  });

  it('refuses a token with an unknown role with 401 UNAUTHENTICATED', async () => {
    const token = await signHs256(TEST_JWT_SECRET, { sub: 'root', role: 'superuser', business_id: built.business.gid });
    expectRefused(await authorized(`Bearer ${token}`), /role claim.*"superuser"/);
  });

  it('reads a token without a role claim as an account token, whatever ID claims it carries', async () => {
    const noRole = await signHs256(TEST_JWT_SECRET, { sub: 'nobody', business_id: built.business.gid });
    const res = await authorized(`Bearer ${noRole}`);
    expect(res.errors).toBeUndefined();
    expect(res.data.viewer).toEqual({ role: 'ACCOUNT', subject: 'nobody', business: null, partner: null, customer: null });
  });

  it('refuses a staff, partner or customer token without the IDs its role needs with 401 UNAUTHENTICATED', async () => {
    const cases: Array<[TokenClaims, RegExp]> = [
      [{ sub: 'staff-1', role: 'staff' }, /staff token needs a business_id/],
      [{ sub: 'partner-1', role: 'partner', business_id: built.business.gid }, /partner_id/],
      [{ sub: 'customer-1', role: 'customer', business_id: built.business.gid }, /customer_id/],
      // A global ID of the wrong type is not a business ID.
      [{ sub: 'staff-1', role: 'staff', business_id: built.partners[0].gid }, /business_id claim to be a Business ID/],
    ];
    for (const [claims, reason] of cases) expectRefused(await authorized(`Bearer ${await api.token(claims)}`), reason);
  });

  it('refuses a bad token even for an operation that needs none', async () => {
    const token = await signDevelopmentToken('another-secret-entirely', { sub: 'x', role: 'admin' });
    expectRefused(await gqlAt(api.app.url, `{ businesses(first: 1) { nodes { id } } }`, `Bearer ${token}`));
  });

  it('does not log a refused token as an unexpected error', async () => {
    const before = loggedErrors.length;
    const token = await signDevelopmentToken('another-secret-entirely', { sub: 'x', role: 'admin' });
    expectRefused(await authorized(`Bearer ${token}`));
    expect(loggedErrors.slice(before)).toEqual([]);
  });

  it('identifies each role in `viewer`', async () => {
    const { business, partners, customer } = built;
    const cases: Array<[string, TokenClaims | null, unknown]> = [
      ['anonymous', null, { role: 'ANONYMOUS', subject: null, business: null, partner: null, customer: null }],
      ['admin', { sub: 'admin-9', role: 'admin' }, { role: 'ADMIN', subject: 'admin-9', business: null, partner: null, customer: null }],
      ['staff', { sub: 'staff-9', role: 'staff', business_id: business.gid }, { role: 'STAFF', subject: 'staff-9', business: { slug: business.slug }, partner: null, customer: null }],
      [
        'partner',
        { sub: 'partner-9', role: 'partner', business_id: business.gid, partner_id: partners[0].gid },
        { role: 'PARTNER', subject: 'partner-9', business: { slug: business.slug }, partner: { id: partners[0].gid }, customer: null },
      ],
      [
        'customer',
        { sub: 'customer-9', role: 'customer', business_id: business.gid, customer_id: customer.gid },
        { role: 'CUSTOMER', subject: 'customer-9', business: { slug: business.slug }, partner: null, customer: { id: customer.gid } },
      ],
    ];
    for (const [who, claims, viewer] of cases) {
      const res = await api.gql(VIEWER, {}, { token: claims ? await api.token(claims) : undefined });
      expect(res.status, who).toBe(200);
      expect(res.errors, who).toBeUndefined();
      expect(res.data.viewer, who).toEqual(viewer);
    }
  });
});

describe('Auth: tokens from an identity provider (RS256 keys from a JWKS URL)', () => {
  const KID = 'test-key-1';
  const ISSUER = 'https://idp.example.test/';
  const AUDIENCE = 'booking-api';
  let jwksServer: Server;
  let jwksRequests = 0;
  let app: App;
  let business: BuiltBusiness;
  let signingKey: CryptoKey;
  let strangerKey: CryptoKey;

  function signRs256(key: CryptoKey, claims: JWTPayload, options: { kid?: string; issuer?: string; audience?: string } = {}): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? KID })
      .setIssuer(options.issuer ?? ISSUER)
      .setAudience(options.audience ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(key);
  }

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    signingKey = pair.privateKey;
    strangerKey = (await generateKeyPair('RS256')).privateKey;
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS256', use: 'sig' }] });
    jwksServer = createServer((req, res) => {
      jwksRequests++;
      if (req.url === '/.well-known/jwks.json') res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;

    // A second app on the test API's database, verifying with the JWKS only: no shared secret.
    business = (await createBookableBusiness(api.db)).business;
    app = await startApp(
      { host: '127.0.0.1', port: 0, auth: { jwtSecret: undefined, jwksUrl, issuer: ISSUER, audience: AUDIENCE }, slowQueryMs: 60_000 },
      api.database,
      { log: { info() {}, error() {} } },
    );
  });
  afterAll(async () => {
    await app?.stop();
    await new Promise<void>((resolve) => (jwksServer ? jwksServer.close(() => resolve()) : resolve()));
  });

  it('accepts a token signed with the key the JWKS publishes, as an account token', async () => {
    const token = await signRs256(signingKey, { sub: 'idp|staff-1' });
    const res = await gqlAt(app.url, VIEWER, `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
    expect(res.data.viewer).toEqual({ role: 'ACCOUNT', subject: 'idp|staff-1', business: null, partner: null, customer: null });
    expect(jwksRequests).toBeGreaterThan(0);
  });

  it("refuses an identity provider's token that claims a role: only the shared secret signs service tokens", async () => {
    const token = await signRs256(signingKey, { sub: 'idp|staff-1', role: 'staff', business_id: business.gid });
    expectRefused(await gqlAt(app.url, VIEWER, `Bearer ${token}`), /signed with AUTH_JWT_SECRET/);
  });

  it('refuses a token signed with another key under the same key ID', async () => {
    const token = await signRs256(strangerKey, { sub: 'idp|staff-1', role: 'staff', business_id: business.gid });
    expectRefused(await gqlAt(app.url, VIEWER, `Bearer ${token}`), /signature/);
  });

  it('refuses a token whose key ID the JWKS does not publish', async () => {
    const token = await signRs256(strangerKey, { sub: 'idp|staff-1', role: 'staff', business_id: business.gid }, { kid: 'unknown-key' });
    expectRefused(await gqlAt(app.url, VIEWER, `Bearer ${token}`));
  });

  it('refuses a token for another audience or from another issuer', async () => {
    const claims = { sub: 'idp|staff-1', role: 'staff', business_id: business.gid };
    expectRefused(await gqlAt(app.url, VIEWER, `Bearer ${await signRs256(signingKey, claims, { audience: 'another-api' })}`), /"aud"/);
    expectRefused(await gqlAt(app.url, VIEWER, `Bearer ${await signRs256(signingKey, claims, { issuer: 'https://evil.example.test/' })}`), /"iss"/);
  });

  it('refuses a shared-secret (HS256) token when no shared secret is configured', async () => {
    const token = await signDevelopmentToken(TEST_JWT_SECRET, { sub: 'staff-1', role: 'staff', business_id: business.gid });
    expectRefused(await gqlAt(app.url, VIEWER, `Bearer ${token}`));
  });
});

describe('Auth: a token must end, start in the past and carry a known role', () => {
  let business: BuiltBusiness;
  beforeAll(async () => {
    business = (await createBookableBusiness(api.db)).business;
  });
  const now = () => Math.floor(Date.now() / 1000);
  const staff = () => ({ sub: 'staff-1', role: 'staff', business_id: business.gid });
  const sign = (claims: JWTPayload, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }) =>
    new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(new TextEncoder().encode(TEST_JWT_SECRET));
  const viewerWith = async (token: string) => gqlAt(api.app.url, VIEWER, `Bearer ${token}`);

  it('refuses a token without `exp`, which would never expire', async () => {
    expectRefused(await viewerWith(await sign({ ...staff(), iat: now() })), /missing required "exp" claim/);
  });

  it('refuses a token that claims to live longer than AUTH_MAX_TOKEN_AGE (24 h by default)', async () => {
    const t = now();
    expectRefused(await viewerWith(await sign({ ...staff(), iat: t, exp: t + 25 * 3600 })), /at most 86400 s \(AUTH_MAX_TOKEN_AGE\), got one that lives 90000 s/);
    // Without `iat` the lifetime counts from now.
    expectRefused(await viewerWith(await sign({ ...staff(), exp: t + 30 * 86_400 })), /AUTH_MAX_TOKEN_AGE/);
    const fine = await viewerWith(await sign({ ...staff(), iat: t, exp: t + 23 * 3600 }));
    expect(fine.status).toBe(200);
    expect(fine.data.viewer.role).toBe('STAFF');
  });

  it('refuses `iat` or `nbf` in the future beyond the clock tolerance, and forgives a few seconds of skew', async () => {
    const t = now();
    expectRefused(await viewerWith(await sign({ ...staff(), iat: t + 3600, exp: t + 7200 })), /"iat" \(issued at\) not to be in the future/);
    expectRefused(await viewerWith(await sign({ ...staff(), iat: t, nbf: t + 3600, exp: t + 7200 })), /"nbf"/);
    const skewed = await viewerWith(await sign({ ...staff(), iat: t + 5, nbf: t + 5, exp: t + 3600 }));
    expect(skewed.status, JSON.stringify(skewed)).toBe(200);
  });

  it('refuses an expired token even within the clock tolerance', async () => {
    const t = now();
    expectRefused(await viewerWith(await sign({ ...staff(), iat: t - 60, exp: t - 2 })), /"exp" claim timestamp check failed/);
  });

  it('answers 401, not 500, for a role of "__proto__", "constructor" or a non-string', async () => {
    const t = now();
    for (const role of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 42, ['staff'], { staff: true }]) {
      expectRefused(await viewerWith(await sign({ ...staff(), role, iat: t, exp: t + 600 })), /expected the role claim to be one of customer, partner, staff, admin/);
    }
  });

  it('accepts only HS256 from the shared secret: `none` and other algorithms are refused', async () => {
    const t = now();
    const payload = Buffer.from(JSON.stringify({ ...staff(), iat: t, exp: t + 600 })).toString('base64url');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    expectRefused(await viewerWith(unsigned));
    const hs512 = await sign({ ...staff(), iat: t, exp: t + 600 }, { alg: 'HS512', typ: 'JWT' });
    expectRefused(await viewerWith(hs512), /alg/);
  });

  it('refuses a token without `exp` over WebSocket too (4403 at connection_init)', async () => {
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(api.app.wsUrl, 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    const acked: string[] = [];
    ws.on('message', (data) => acked.push(String(data)));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${await sign({ ...staff(), iat: now() })}` } }));
    expect(await closed).toBe(4403);
    expect(acked).toEqual([]);
  });
});
