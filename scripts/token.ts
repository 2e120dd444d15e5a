/**
 * Prints a development token (HS256, signed with AUTH_JWT_SECRET or the development secret).
 *
 *   npm run token -- --role admin
 *   npm run token -- --role staff --business north-end-barbers
 *   npm run token -- --role partner --business north-end-barbers [--partner <Partner ID>]
 *   npm run token -- --role customer --business north-end-barbers [--customer <Customer ID>]
 *
 * IDs are looked up through the running API (API_URL, default http://127.0.0.1:4000/graphql),
 * so this works the same on the embedded database and on PostgreSQL. Without --partner or
 * --customer, the business's first one is used.
 */
import { parseArgs } from 'node:util';
import { signDevelopmentToken, type TokenClaims } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config.js';

const ROLES = ['admin', 'staff', 'partner', 'customer'] as const;

async function main() {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      business: { type: 'string' },
      partner: { type: 'string' },
      customer: { type: 'string' },
      sub: { type: 'string' },
      expires: { type: 'string', default: '12h' },
    },
  });
  const role = values.role as (typeof ROLES)[number];
  if (!ROLES.includes(role)) fail(`Expected --role to be one of ${ROLES.join(', ')}, got ${values.role ?? 'nothing'}.`);
  const secret = loadConfig().auth.jwtSecret;
  if (!secret) fail('Expected AUTH_JWT_SECRET: tokens are signed with it.');
  const sign = (claims: TokenClaims) => signDevelopmentToken(secret, claims, values.expires);
  if (role === 'admin') return console.log(await sign({ sub: values.sub ?? 'dev-admin', role }));
  if (!values.business) fail(`Expected --business <slug> for a ${role} token.`);

  const apiUrl = process.env.API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 4000}/graphql`;
  const admin = await sign({ sub: 'token-script', role: 'admin' });
  const response = await fetch(apiUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
    body: JSON.stringify({
      query: 'query($slug: String!) { business(slug: $slug) { id partners(first: 1) { nodes { id } } customers(first: 1) { nodes { id } } } }',
      variables: { slug: values.business },
    }),
  }).catch((error: Error) => fail(`Could not reach the API at ${apiUrl} (${error.message}). Start it with npm start, or set API_URL.`));
  const body = (await response.json()) as { data?: { business: { id: string; partners: { nodes: { id: string }[] }; customers: { nodes: { id: string }[] } } | null } };
  const business = body.data?.business;
  if (!business) fail(`No business with slug "${values.business}".`);

  const claims: Extract<TokenClaims, { role: string }> = { sub: values.sub ?? `dev-${role}`, role, business_id: business.id };
  if (role === 'partner') claims.partner_id = values.partner ?? business.partners.nodes[0]?.id ?? fail('The business has no partner.');
  if (role === 'customer') claims.customer_id = values.customer ?? business.customers.nodes[0]?.id ?? fail('The business has no customer.');
  console.log(await sign(claims));
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

void main();
