/**
 * Prints a development token (HS256, signed with AUTH_JWT_SECRET or the development secret).
 *
 *   npm run token -- --role owner --business north-end-barbers
 *   npm run token -- --role staff|partner|customer --business north-end-barbers
 *   npm run token -- --role admin
 *   npm run token -- --sub someone@example.com [--email ...] [--name ...]
 *
 * `owner`, `staff`, `partner` and `customer` sign the token of that demo account of the business
 * (src/seed/demo-accounts.ts): the same tokens `npm start` prints, naming the same partner and
 * customer, since a token names only the account and the demo data holds its membership. `admin`
 * is a service token (a `role` claim; accepted while AUTH_ACCEPT_CLAIM_TOKENS is on). `--sub`
 * signs the token of any account (a new one has no memberships: it may book, and create a business).
 */
import { parseArgs } from 'node:util';
import { signDevelopmentToken } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config.js';
import { DEMO_ACCOUNT_ROLES, demoAccountToken, type DemoAccountRole } from '../src/seed/demo-accounts.js';
import { DEMO_SLUGS } from '../src/seed/demo-businesses.js';

const ROLES = ['admin', ...DEMO_ACCOUNT_ROLES] as const;

async function main() {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      business: { type: 'string' },
      sub: { type: 'string' },
      email: { type: 'string' },
      name: { type: 'string' },
      expires: { type: 'string', default: '12h' },
    },
  });
  const secret = loadConfig().auth.jwtSecret;
  if (!secret) fail('Expected AUTH_JWT_SECRET: tokens are signed with it.');
  if (values.sub && !values.role) {
    return console.log(await signDevelopmentToken(secret, { sub: values.sub, email: values.email, name: values.name }, values.expires));
  }
  const role = values.role as (typeof ROLES)[number];
  if (!ROLES.includes(role)) fail(`Expected --role to be one of ${ROLES.join(', ')} (or --sub <subject> for any account), got ${values.role ?? 'nothing'}.`);
  if (role === 'admin') return console.log(await signDevelopmentToken(secret, { sub: values.sub ?? 'dev-admin', role }, values.expires));
  if (!values.business || !(DEMO_SLUGS as readonly string[]).includes(values.business)) {
    fail(`Expected --business to be a demo business (${DEMO_SLUGS.join(', ')}), got ${values.business ?? 'nothing'}.`);
  }
  console.log(await demoAccountToken(secret, role as DemoAccountRole, values.business, values.expires));
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

void main();
