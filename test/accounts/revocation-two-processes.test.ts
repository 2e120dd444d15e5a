import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevelopmentToken } from '../../src/auth/tokens.js';
import { upsertAccount } from '../../src/accounts/accounts.repository.js';
import { toGlobalId } from '../../src/shared/global-id.js';
import { TEST_JWT_SECRET } from '../support/api.js';
import { addMembership } from '../support/accounts.js';
import { startApiProcess, type ApiProcess } from '../support/api-process.js';
import { createBookableBusiness, uniqueSuffix } from '../support/builders.js';
import { onRealPostgres, openIsolatedTestDatabase } from '../support/database.js';
import { freePort, startRedis, stopRedis } from '../support/redis.js';

const CUSTOMERS = `query($slug: String!) { business(slug: $slug) { customers(first: 5) { nodes { id } } } }`;
const REMOVE = `mutation($input: MembershipRemoveInput!) { membershipRemove(input: $input) { removedMembershipId userErrors { code } } }`;

async function gql(url: string, query: string, variables: Record<string, unknown>, token: string) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as { data?: any; errors?: unknown[] };
}

/**
 * Two real API processes over one PostgreSQL and one Redis: a membership removed through the first
 * stops working on the second with the very next request, although the second had the member's
 * grants cached (the removal bumps the account's cache scope in Redis before it returns).
 */
describe.skipIf(!onRealPostgres)('Accounts: a revoked membership across two API processes', () => {
  let redis: ChildProcess;
  let database: Awaited<ReturnType<typeof openIsolatedTestDatabase>>;
  let first: ApiProcess;
  let second: ApiProcess;

  beforeAll(async () => {
    const port = await freePort();
    redis = await startRedis(port);
    database = await openIsolatedTestDatabase();
    const env = { DATABASE_URL: database.url!, REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_KEY_PREFIX: `revoke-${uniqueSuffix()}:`, EVENT_CHECK_INTERVAL_MS: '600000' };
    [first, second] = await Promise.all([startApiProcess(env), startApiProcess(env)]);
  }, 60_000);
  afterAll(async () => {
    const codes = await Promise.all([first?.stop(), second?.stop()]);
    await database?.close();
    if (redis) await stopRedis(redis);
    expect(codes).toEqual([0, 0]);
  });

  it('refuses the removed member on the other process in the next request', async () => {
    const built = await createBookableBusiness(database.db);
    const sign = (sub: string) => signDevelopmentToken(TEST_JWT_SECRET, { sub, email: `${sub}@accounts.example` });
    const owner = await upsertAccount(database.db, { issuer: '', subject: 'owner-2p', email: null, name: null });
    await addMembership(database.db, { id: owner }, built.business, 'owner');
    const staff = await upsertAccount(database.db, { issuer: '', subject: 'staff-2p', email: null, name: null });
    const membershipId = toGlobalId('Membership', await addMembership(database.db, { id: staff }, built.business, 'staff'));
    const [ownerToken, staffToken] = [await sign('owner-2p'), await sign('staff-2p')];

    // Warm on both processes.
    for (const api of [first, second]) expect((await gql(api.url, CUSTOMERS, { slug: built.business.slug }, staffToken)).data.business.customers.nodes).toHaveLength(1);

    const removed = await gql(first.url, REMOVE, { input: { membershipId } }, ownerToken);
    expect(removed.data.membershipRemove).toEqual({ removedMembershipId: membershipId, userErrors: [] });
    expect((await gql(second.url, CUSTOMERS, { slug: built.business.slug }, staffToken)).data.business.customers.nodes).toEqual([]);
    expect((await gql(first.url, CUSTOMERS, { slug: built.business.slug }, staffToken)).data.business.customers.nodes).toEqual([]);
  });
});
