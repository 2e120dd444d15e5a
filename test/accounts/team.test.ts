import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { toGlobalId } from '../../src/shared/global-id.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { addMembership, createAccount, type BuiltAccount } from '../support/accounts.js';
import { auditRows, createBookableBusiness, createPartner } from '../support/builders.js';
import { onRealPostgres } from '../support/database.js';

const INVITE = `mutation($input: MemberInviteInput!) { memberInvite(input: $input) { token invitation { email role expiresAt acceptedAt business { slug } partner { id } } userErrors { field message code } } }`;
const ACCEPT = `mutation($input: InvitationAcceptInput!) { invitationAccept(input: $input) { membership { id role business { slug } partner { id } } userErrors { field message code } } }`;
const REMOVE = `mutation($input: MembershipRemoveInput!) { membershipRemove(input: $input) { removedMembershipId userErrors { field message code } } }`;
const ROLE_SET = `mutation($input: MembershipRoleSetInput!) { membershipRoleSet(input: $input) { membership { id role partner { id } } userErrors { field message code } } }`;
const CUSTOMERS = `query($slug: String!) { business(slug: $slug) { customers(first: 5) { nodes { id } } } }`;
const MEMBERSHIPS = `{ viewer { memberships { id role business { slug } } } }`;

const payloadOf = (res: { data?: any }) => Object.values(res.data ?? {})[0] as any;

describe('Team: invitations, memberships and roles', () => {
  let api: TestApi;
  let built: Awaited<ReturnType<typeof createBookableBusiness>>;
  let owner: BuiltAccount;
  let ownerMembership: string;

  async function invite(token: string, input: Record<string, unknown>) {
    return api.gql(INVITE, { input: { businessId: built.business.gid, ...input } }, { token });
  }
  /** A new account with a membership in the business, through invite and accept. */
  async function member(role: 'OWNER' | 'STAFF' | 'PARTNER', partnerId?: string): Promise<BuiltAccount & { membershipId: string }> {
    const account = await createAccount(api);
    const invited = payloadOf(await invite(owner.token, { email: account.email, role, partnerId }));
    expect(invited.userErrors).toEqual([]);
    const accepted = payloadOf(await api.gql(ACCEPT, { input: { token: invited.token } }, { token: account.token }));
    expect(accepted.userErrors).toEqual([]);
    return { ...account, membershipId: accepted.membership.id };
  }

  beforeAll(async () => {
    api = await startTestApi();
    built = await createBookableBusiness(api.db);
    owner = await createAccount(api);
    ownerMembership = toGlobalId('Membership', await addMembership(api.db, owner, built.business, 'owner'));
  });
  afterAll(() => api?.close());

  describe('memberInvite and invitationAccept', () => {
    it('invites an e-mail address as staff, and the account that presents the token becomes staff at once', async () => {
      const invitee = await createAccount(api);
      expect((await api.gql(CUSTOMERS, { slug: built.business.slug }, { token: invitee.token })).data.business.customers.nodes).toEqual([]);
      const invited = payloadOf(await invite(owner.token, { email: ' New.Staff@Example.com ', role: 'STAFF' }));
      expect(invited.userErrors).toEqual([]);
      expect(invited.token).toMatch(/^inv_[A-Za-z0-9_-]{43}$/);
      expect(invited.invitation).toMatchObject({ email: 'new.staff@example.com', role: 'STAFF', acceptedAt: null, business: { slug: built.business.slug }, partner: null });
      expect(Date.parse(invited.invitation.expiresAt) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
      // Only the hash is kept.
      const stored = await sql<{ token_hash: string }>`SELECT token_hash FROM invitations WHERE email = 'new.staff@example.com'`.execute(api.db);
      expect(stored.rows).toHaveLength(1);
      expect(stored.rows[0].token_hash).not.toContain(invited.token.slice(4));

      const accepted = payloadOf(await api.gql(ACCEPT, { input: { token: invited.token } }, { token: invitee.token }));
      expect(accepted.userErrors).toEqual([]);
      expect(accepted.membership).toMatchObject({ role: 'STAFF', business: { slug: built.business.slug } });
      expect((await api.gql(CUSTOMERS, { slug: built.business.slug }, { token: invitee.token })).data.business.customers.nodes).toHaveLength(1);
      expect((await api.gql(MEMBERSHIPS, {}, { token: invitee.token })).data.viewer.memberships).toEqual([{ id: accepted.membership.id, role: 'STAFF', business: { slug: built.business.slug } }]);
      expect((await auditRows(api.db, (await sql<{ id: string }>`SELECT id FROM invitations WHERE email = 'new.staff@example.com'`.execute(api.db)).rows[0].id, 'invitation')).map((r: any) => r.action)).toEqual(['invitation.created']);
    });

    it('invites a partner for one partner record, and refuses a second account for it with ALREADY_MEMBER', async () => {
      const partner = await createPartner(api.db, built.business);
      const first = await member('PARTNER', partner.gid);
      const again = payloadOf(await invite(owner.token, { email: 'x@example.com', role: 'PARTNER', partnerId: partner.gid }));
      expect(again.userErrors).toEqual([expect.objectContaining({ code: 'ALREADY_MEMBER', field: ['input', 'partnerId'] })]);
      expect(first.membershipId).toBeTruthy();
    });

    it('answers each wrong input with its user error and invites nobody', async () => {
      const other = await createBookableBusiness(api.db);
      const cases: Array<[Record<string, unknown>, string, string[]]> = [
        [{ email: 'not an address', role: 'STAFF' }, 'INVALID_INPUT', ['input', 'email']],
        [{ email: 'p@example.com', role: 'PARTNER' }, 'INVALID_INPUT', ['input', 'partnerId']],
        [{ email: 'p@example.com', role: 'STAFF', partnerId: built.partners[0].gid }, 'INVALID_INPUT', ['input', 'partnerId']],
        [{ email: 'p@example.com', role: 'PARTNER', partnerId: other.partners[0].gid }, 'NOT_FOUND', ['input', 'partnerId']],
        [{ email: 'p@example.com', role: 'PARTNER', partnerId: toGlobalId('Partner', '999999999') }, 'NOT_FOUND', ['input', 'partnerId']],
      ];
      const before = await sql<{ n: number }>`SELECT count(*)::int AS n FROM invitations`.execute(api.db);
      for (const [input, code, field] of cases) {
        const res = payloadOf(await invite(owner.token, input));
        expect(res.userErrors, JSON.stringify(input)).toEqual([expect.objectContaining({ code, field })]);
        expect(res.invitation).toBeNull();
        expect(res.userErrors[0].message).toMatch(/\.$/);
      }
      expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM invitations`.execute(api.db)).rows).toEqual(before.rows);
    });

    it('lets staff invite staff and partners but not owners; refuses partners, customers, other businesses and anonymous callers', async () => {
      const staff = await member('STAFF');
      expect(payloadOf(await invite(staff.token, { email: 's2@example.com', role: 'STAFF' })).userErrors).toEqual([]);
      const asOwner = await invite(staff.token, { email: 'o2@example.com', role: 'OWNER' });
      expect(asOwner.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      const partner = await api.token({ sub: 'p', role: 'partner', business_id: built.business.gid, partner_id: built.partners[0].gid });
      const customer = await api.token({ sub: 'c', role: 'customer', business_id: built.business.gid, customer_id: built.customer.gid });
      const other = await createBookableBusiness(api.db);
      const otherOwner = await createAccount(api);
      await addMembership(api.db, otherOwner, other.business, 'owner');
      for (const token of [partner, customer, otherOwner.token]) {
        expect((await invite(token, { email: 'x@example.com', role: 'STAFF' })).errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      }
      expect((await api.gql(INVITE, { input: { businessId: built.business.gid, email: 'x@example.com', role: 'STAFF' } })).errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
      const admin = await api.token({ sub: 'admin', role: 'admin' });
      expect(payloadOf(await invite(admin, { email: 'o3@example.com', role: 'OWNER' })).userErrors).toEqual([]);
    });

    it('accepts a token once (INVITATION_USED after), refuses an expired one, an unknown one, a member, and a service token', async () => {
      const invited = payloadOf(await invite(owner.token, { email: 'once@example.com', role: 'STAFF' }));
      const first = await createAccount(api);
      const second = await createAccount(api);
      expect(payloadOf(await api.gql(ACCEPT, { input: { token: invited.token } }, { token: first.token })).userErrors).toEqual([]);
      expect(payloadOf(await api.gql(ACCEPT, { input: { token: invited.token } }, { token: second.token })).userErrors).toEqual([expect.objectContaining({ code: 'INVITATION_USED' })]);

      const stale = payloadOf(await invite(owner.token, { email: 'late@example.com', role: 'STAFF' }));
      await sql`UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE email = 'late@example.com'`.execute(api.db);
      expect(payloadOf(await api.gql(ACCEPT, { input: { token: stale.token } }, { token: second.token })).userErrors).toEqual([expect.objectContaining({ code: 'INVITATION_EXPIRED', field: ['input', 'token'] })]);
      expect(payloadOf(await api.gql(ACCEPT, { input: { token: 'inv_nope' } }, { token: second.token })).userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);

      const twice = payloadOf(await invite(owner.token, { email: 'twice@example.com', role: 'STAFF' }));
      expect(payloadOf(await api.gql(ACCEPT, { input: { token: twice.token } }, { token: first.token })).userErrors).toEqual([expect.objectContaining({ code: 'ALREADY_MEMBER' })]);
      const service = await api.token({ sub: 'staff-x', role: 'staff', business_id: built.business.gid });
      expect((await api.gql(ACCEPT, { input: { token: twice.token } }, { token: service })).errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    });

    it('gives a retry with the same idempotency key the same invitation, its token not again', async () => {
      const headers = { 'idempotency-key': `invite-${Date.now()}` };
      const first = payloadOf(await api.gql(INVITE, { input: { businessId: built.business.gid, email: 'retry@example.com', role: 'STAFF' } }, { token: owner.token, headers }));
      const retry = payloadOf(await api.gql(INVITE, { input: { businessId: built.business.gid, email: 'retry@example.com', role: 'STAFF' } }, { token: owner.token, headers }));
      expect(first.token).toBeTruthy();
      expect(retry).toMatchObject({ token: null, userErrors: [], invitation: { ...first.invitation } });
      expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM invitations WHERE email = 'retry@example.com'`.execute(api.db)).rows[0].n).toBe(1);
    });
  });

  describe('membershipRemove and membershipRoleSet', () => {
    it('removes a staff membership: its access stops with the next request, audited', async () => {
      const staff = await member('STAFF');
      expect((await api.gql(CUSTOMERS, { slug: built.business.slug }, { token: staff.token })).data.business.customers.nodes).toHaveLength(1);
      const removed = payloadOf(await api.gql(REMOVE, { input: { membershipId: staff.membershipId } }, { token: owner.token }));
      expect(removed).toEqual({ removedMembershipId: staff.membershipId, userErrors: [] });
      expect((await api.gql(CUSTOMERS, { slug: built.business.slug }, { token: staff.token })).data.business.customers.nodes).toEqual([]);
      const rawId = Buffer.from(staff.membershipId, 'base64url').toString().split(':')[1];
      expect((await auditRows(api.db, rawId, 'membership')).map((r: any) => r.action)).toEqual(['membership.created', 'membership.removed']);
    });

    it('lets a member leave, staff remove partners but not owners, and reads a foreign or missing membership as NOT_FOUND', async () => {
      const staff = await member('STAFF');
      const leaver = await member('STAFF');
      expect(payloadOf(await api.gql(REMOVE, { input: { membershipId: leaver.membershipId } }, { token: leaver.token })).userErrors).toEqual([]);
      const partner = await member('PARTNER', (await createPartner(api.db, built.business)).gid);
      expect(payloadOf(await api.gql(REMOVE, { input: { membershipId: partner.membershipId } }, { token: staff.token })).userErrors).toEqual([]);
      expect((await api.gql(REMOVE, { input: { membershipId: ownerMembership } }, { token: staff.token })).errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      const other = await createBookableBusiness(api.db);
      const stranger = await createAccount(api);
      await addMembership(api.db, stranger, other.business, 'owner');
      for (const membershipId of [staff.membershipId, toGlobalId('Membership', '999999999'), 'nonsense']) {
        expect(payloadOf(await api.gql(REMOVE, { input: { membershipId } }, { token: stranger.token })).userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', field: ['input', 'membershipId'] })]);
      }
    });

    it('never lets the last owner leave or be demoted (LAST_OWNER); with a second owner, one may go', async () => {
      const business = await createBookableBusiness(api.db);
      const only = await createAccount(api);
      const onlyMembership = toGlobalId('Membership', await addMembership(api.db, only, business.business, 'owner'));
      expect(payloadOf(await api.gql(REMOVE, { input: { membershipId: onlyMembership } }, { token: only.token })).userErrors).toEqual([expect.objectContaining({ code: 'LAST_OWNER' })]);
      expect(payloadOf(await api.gql(ROLE_SET, { input: { membershipId: onlyMembership, role: 'STAFF' } }, { token: only.token })).userErrors).toEqual([expect.objectContaining({ code: 'LAST_OWNER' })]);
      const second = await createAccount(api);
      const secondMembership = toGlobalId('Membership', await addMembership(api.db, second, business.business, 'owner'));
      expect(payloadOf(await api.gql(ROLE_SET, { input: { membershipId: onlyMembership, role: 'STAFF' } }, { token: only.token })).userErrors).toEqual([]);
      expect(payloadOf(await api.gql(REMOVE, { input: { membershipId: secondMembership } }, { token: second.token })).userErrors).toEqual([expect.objectContaining({ code: 'LAST_OWNER' })]);
    });

    it('changes roles: owners make owners, staff move staff to partner and back but never to owner', async () => {
      const staff = await member('STAFF');
      const target = await member('STAFF');
      const partner = await createPartner(api.db, built.business);
      const moved = payloadOf(await api.gql(ROLE_SET, { input: { membershipId: target.membershipId, role: 'PARTNER', partnerId: partner.gid } }, { token: staff.token }));
      expect(moved).toEqual({ membership: { id: target.membershipId, role: 'PARTNER', partner: { id: partner.gid } }, userErrors: [] });
      // A partner does not list the business's customers, as staff did a request ago.
      expect((await api.gql(CUSTOMERS, { slug: built.business.slug }, { token: target.token })).data.business.customers.nodes).toEqual([]);
      expect((await api.gql(ROLE_SET, { input: { membershipId: target.membershipId, role: 'OWNER' } }, { token: staff.token })).errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      expect(payloadOf(await api.gql(ROLE_SET, { input: { membershipId: target.membershipId, role: 'PARTNER' } }, { token: staff.token })).userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: ['input', 'partnerId'] })]);
      expect(payloadOf(await api.gql(ROLE_SET, { input: { membershipId: target.membershipId, role: 'OWNER' } }, { token: owner.token })).membership.role).toBe('OWNER');
      const taken = await createPartner(api.db, built.business);
      await member('PARTNER', taken.gid);
      expect(payloadOf(await api.gql(ROLE_SET, { input: { membershipId: staff.membershipId, role: 'PARTNER', partnerId: taken.gid } }, { token: target.token })).userErrors).toEqual([expect.objectContaining({ code: 'ALREADY_MEMBER' })]);
    });

    it.skipIf(!onRealPostgres)('leaves one owner when two owners remove each other at the same moment', async () => {
      for (let round = 0; round < 5; round++) {
        const business = await createBookableBusiness(api.db);
        const [x, y] = [await createAccount(api), await createAccount(api)];
        const xm = toGlobalId('Membership', await addMembership(api.db, x, business.business, 'owner'));
        const ym = toGlobalId('Membership', await addMembership(api.db, y, business.business, 'owner'));
        const [a, b] = await Promise.all([
          api.gql(REMOVE, { input: { membershipId: ym } }, { token: x.token }),
          api.gql(REMOVE, { input: { membershipId: xm } }, { token: y.token }),
        ]);
        // The later one is refused: LAST_OWNER, or FORBIDDEN when its caller was removed before its request began.
        const codes = [a, b].map((res) => (res.errors ? (res.errors[0] as any).extensions.code : payloadOf(res).userErrors[0]?.code ?? 'OK')).sort();
        expect(codes[1]).toBe('OK');
        expect(['FORBIDDEN', 'LAST_OWNER']).toContain(codes[0]);
        const owners = await sql<{ n: number }>`SELECT count(*)::int AS n FROM memberships WHERE business_id = ${business.business.id}::bigint AND role = 'owner' AND removed_at IS NULL`.execute(api.db);
        expect(owners.rows[0].n).toBe(1);
      }
    });
  });
});
