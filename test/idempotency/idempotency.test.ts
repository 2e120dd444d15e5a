import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteExpiredIdempotencyKeys } from '../../src/idempotency/idempotency-keys.repository.js';
import { withIdempotency } from '../../src/idempotency/idempotent-mutation.js';
import { ChangeFeed } from '../../src/shared/change-feed.js';
import { createRequestContext, type AppServices } from '../../src/server/context.js';
import { ok } from '../../src/shared/user-errors.js';
import { rawIdOf } from '../../src/shared/global-id.js';
import { loggedErrors, startTestApi, tokensFor, type GraphQLResponse, type TestApi } from '../support/api.js';
import { onRealPostgres } from '../support/database.js';
import { businessState, createBookableBusiness, createBooking } from '../support/builders.js';
import { ANONYMOUS, type Viewer } from '../../src/auth/viewer.js';

const CREATE = `mutation($input: BookingCreateInput!) {
  bookingCreate(input: $input) { booking { id status partner { id } } userErrors { field message code } }
}`;
const CANCEL = `mutation($input: BookingCancelInput!) {
  bookingCancel(input: $input) { booking { id status cancelReason } userErrors { field message code } }
}`;
const CONFIRM = `mutation($input: BookingConfirmInput!) { bookingConfirm(input: $input) { booking { id status } userErrors { code } } }`;
const HOLD = `mutation($input: SlotHoldInput!) { slotHold(input: $input) { hold { id } userErrors { code } } }`;

const backend = onRealPostgres ? 'postgres' : 'pglite';
let keyCounter = 0;
const newKey = () => `key-${Date.now()}-${++keyCounter}`;

describe('Idempotent mutations', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  /** A salon with two partners of 4 free 30-minute slots from tomorrow 09:00 UTC, a customer, and tokens. */
  async function scene() {
    const built = await createBookableBusiness(api.db, { partners: 2, slotCount: 4 });
    const tokens = await tokensFor(api, { businessGid: built.business.gid, partnerGid: built.partners[0].gid, customerGid: built.customer.gid });
    return { ...built, tokens };
  }
  type Scene = Awaited<ReturnType<typeof scene>>;

  /** Book 10:00 with any partner: a second run (not a replay) would take the other partner. */
  const tenAnyPartner = (s: Scene) => ({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt });

  function create(s: Scene, input: Record<string, unknown>, key?: string) {
    return api.gql(CREATE, { input }, { token: s.tokens.customer, headers: key ? { 'idempotency-key': key } : {} });
  }

  function bookingIdOf(res: GraphQLResponse): string {
    expect(res.errors).toBeUndefined();
    expect(res.data.bookingCreate.userErrors).toEqual([]);
    return res.data.bookingCreate.booking.id;
  }

  it('returns the first booking to a retry with the same Idempotency-Key header and does nothing again', async () => {
    const s = await scene();
    const key = newKey();
    const plain = await api.countStatements(() => create(s, { serviceId: s.service.gid, startsAt: s.partners[0].slots[0].startsAt, partnerId: s.partners[0].gid }));
    const { result: first, statements: firstStatements } = await api.countStatements(() => create(s, tenAnyPartner(s), key));
    // A new key adds six: the lock timeout set and reset, the claim, SAVEPOINT, RELEASE and the outcome.
    expect(firstStatements - plain.statements).toBe(6);
    const before = await businessState(api.db, s.business.id);
    const { result: retry, statements } = await api.countStatements(() => create(s, tenAnyPartner(s), key));
    expect(retry.data).toEqual(first.data);
    expect(await businessState(api.db, s.business.id)).toEqual(before);
    expect(before.bookings).toHaveLength(2);
    expect(before.audit.map((row) => row.action)).toEqual(['booking.created', 'booking.created']);
    // BEGIN, lock timeout, claim, lock timeout, read the outcome, COMMIT; then the booking and its partner.
    console.info(`[idempotency:${backend}] bookingCreate: ${plain.statements} statements without a key, ${firstStatements} with a new key, ${statements} for a replay`);
    expect(statements).toBe(8);
  });

  it('takes the key from `input.idempotencyKey` as well, and header and input name the same key', async () => {
    const s = await scene();
    const key = newKey();
    const first = await create(s, { ...tenAnyPartner(s), idempotencyKey: key });
    const byInput = await create(s, { ...tenAnyPartner(s), idempotencyKey: key });
    const byHeader = await create(s, tenAnyPartner(s), key);
    expect(bookingIdOf(byInput)).toBe(bookingIdOf(first));
    expect(bookingIdOf(byHeader)).toBe(bookingIdOf(first));
    expect((await businessState(api.db, s.business.id)).bookings).toHaveLength(1);
  });

  it('refuses the same key with a different input with IDEMPOTENCY_KEY_REUSED, and does nothing', async () => {
    const s = await scene();
    const key = newKey();
    bookingIdOf(await create(s, tenAnyPartner(s), key));
    const before = await businessState(api.db, s.business.id);
    const res = await create(s, { serviceId: s.service.gid, startsAt: s.partners[0].slots[3].startsAt }, key);
    expect(res.data ?? null).toBeNull();
    expect(res.errors).toMatchObject([{ extensions: { code: 'IDEMPOTENCY_KEY_REUSED' } }]);
    expect(await businessState(api.db, s.business.id)).toEqual(before);
  });

  it('refuses two different keys in the header and the input with BAD_USER_INPUT', async () => {
    const s = await scene();
    const res = await create(s, { ...tenAnyPartner(s), idempotencyKey: newKey() }, newKey());
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect((await businessState(api.db, s.business.id)).bookings).toEqual([]);
  });

  it('runs the work again once the key has expired (24 hours)', async () => {
    const s = await scene();
    const key = newKey();
    const first = bookingIdOf(await create(s, tenAnyPartner(s), key));
    await sql`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = ${key}`.execute(api.db);
    const second = bookingIdOf(await create(s, tenAnyPartner(s), key));
    expect(second).not.toBe(first);
    expect((await businessState(api.db, s.business.id)).bookings).toHaveLength(2);
    const row = await api.db.selectFrom('idempotency_keys').select(['expires_at']).where('key', '=', key).executeTakeFirstOrThrow();
    expect(Date.parse(row.expires_at) - Date.now()).toBeGreaterThan(23.9 * 3600_000);
  });

  it('replays a refusal too: the user errors of the first request, even once the time has become free', async () => {
    const s = await scene();
    const key = newKey();
    const input = { serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, partnerId: s.partners[0].gid };
    const taken = await createBooking(api.db, { business: s.business, service: s.service, partner: s.partners[0], customer: s.customer, slots: [s.partners[0].slots[2]] });
    const first = await create(s, input, key);
    expect(first.data.bookingCreate.userErrors.map((e: { code: string }) => e.code)).toEqual(['SLOT_UNAVAILABLE']);
    await api.gql(CANCEL, { input: { bookingId: taken.gid } }, { token: s.tokens.staff });
    expect((await create(s, input, key)).data).toEqual(first.data);
  });

  it('scopes keys by caller and by mutation: the same key elsewhere is a new request', async () => {
    const s = await scene();
    const key = newKey();
    const mine = bookingIdOf(await create(s, tenAnyPartner(s), key));
    const staffCreate = await api.gql(CREATE, { input: { ...tenAnyPartner(s), customerId: s.customer.gid } }, { token: s.tokens.staff, headers: { 'idempotency-key': key } });
    expect(bookingIdOf(staffCreate)).not.toBe(mine);
    const cancel = await api.gql(CANCEL, { input: { bookingId: mine, reason: 'Changed my mind' } }, { token: s.tokens.customer, headers: { 'idempotency-key': key } });
    expect(cancel.data.bookingCancel).toMatchObject({ booking: { id: mine, status: 'CANCELLED' }, userErrors: [] });
  });

  it('makes bookingCancel, bookingConfirm and slotHold idempotent: a retry writes no second audit row', async () => {
    const s = await scene();
    const booking = await createBooking(api.db, { business: s.business, service: s.service, partner: s.partners[0], customer: s.customer, slots: [s.partners[0].slots[0]] });
    const confirmKey = newKey();
    const confirm = () => api.gql(CONFIRM, { input: { bookingId: booking.gid } }, { token: s.tokens.staff, headers: { 'idempotency-key': confirmKey } });
    expect((await confirm()).data.bookingConfirm.userErrors).toEqual([]);
    // Not INVALID_TRANSITION (CONFIRMED to CONFIRMED): the retry gets the first answer.
    expect((await confirm()).data.bookingConfirm).toEqual({ booking: { id: booking.gid, status: 'CONFIRMED' }, userErrors: [] });
    const cancelKey = newKey();
    const cancel = () => api.gql(CANCEL, { input: { bookingId: booking.gid, reason: 'Ill', idempotencyKey: cancelKey } }, { token: s.tokens.customer });
    expect((await cancel()).data.bookingCancel.userErrors).toEqual([]);
    expect((await cancel()).data.bookingCancel).toEqual({ booking: { id: booking.gid, status: 'CANCELLED', cancelReason: 'Ill' }, userErrors: [] });
    const holdKey = newKey();
    const hold = () => api.gql(HOLD, { input: { ...tenAnyPartner(s), idempotencyKey: holdKey } }, { token: s.tokens.customer });
    const firstHold = (await hold()).data.slotHold.hold.id;
    expect((await hold()).data.slotHold).toEqual({ hold: { id: firstHold }, userErrors: [] });
    const audit = (await businessState(api.db, s.business.id)).audit.map((row) => row.action);
    expect(audit).toEqual(['booking.confirmed', 'booking.cancelled', 'hold.created']);
  });

  it('creates one booking for 20 simultaneous retries of one key, and gives all of them that booking', async () => {
    const s = await scene();
    const key = newKey();
    await api.gql('{ viewer { role } }');
    const errorsBefore = loggedErrors.length;
    const responses = await Promise.all(Array.from({ length: 20 }, () => create(s, tenAnyPartner(s), key)));
    expect(loggedErrors.slice(errorsBefore)).toEqual([]);
    const ids = responses.map(bookingIdOf);
    expect(new Set(ids).size).toBe(1);
    const state = await businessState(api.db, s.business.id);
    expect(state.bookings.map((b) => b.id)).toEqual([rawIdOf(ids[0], 'Booking')]);
    expect(state.audit).toHaveLength(1);
    expect(state.partners.map((p) => p.active_booking_count).sort()).toEqual([0, 1]);
  });

  describe('the mechanism', () => {
    const viewer: Viewer = { ...ANONYMOUS, role: 'CUSTOMER', subject: 'mechanism', businessId: '1', customerId: '1', customers: [{ businessId: '1', customerId: '1' }] };
    const memory = { save: (value: { id: string }) => value.id, restore: async (saved: unknown) => ({ id: String(saved) }) };
    function context(key: string) {
      // withIdempotency uses only the database and the change feed of the application's services.
      const services = { db: api.db, log: { info() {}, error() {} }, changes: new ChangeFeed(), holdMinutes: 5 } as Partial<AppServices> as AppServices;
      return createRequestContext(services, viewer, key);
    }

    it('keeps no key when the work fails unexpectedly, so a retry runs the work', async () => {
      const key = newKey();
      await expect(withIdempotency(context(key), 'test', { n: 1 }, async () => { throw new Error('boom'); }, memory)).rejects.toThrow('boom');
      expect(await api.db.selectFrom('idempotency_keys').select('key').where('key', '=', key).execute()).toEqual([]);
      let runs = 0;
      const run = async () => ok({ id: String(++runs) });
      expect(await withIdempotency(context(key), 'test', { n: 1 }, run, memory)).toEqual(ok({ id: '1' }));
      expect(await withIdempotency(context(key), 'test', { n: 1 }, run, memory)).toEqual(ok({ id: '1' }));
      expect(runs).toBe(1);
    });

    it('announces the changes of the work only after its transaction commits, and not on a replay', async () => {
      const key = newKey();
      const ctx = context(key);
      const seen: string[] = [];
      ctx.app.changes.subscribe(async (change) => {
        // Committed: another connection (or, on PGlite, the next statement) sees the key.
        const rows = await api.db.selectFrom('idempotency_keys').select('key').where('key', '=', key).execute();
        seen.push(`${change.action}:${rows.length}`);
      });
      const run = async (unit: { changes: ChangeFeed }) => {
        await unit.changes.publish({ action: 'test.done', businessId: '1', partnerIds: [], ranges: [] });
        return ok({ id: '7' });
      };
      await withIdempotency(ctx, 'test', {}, run, memory);
      await withIdempotency(ctx, 'test', {}, run, memory);
      expect(seen).toEqual(['test.done:1']);
    });

    it.runIf(onRealPostgres)('answers IDEMPOTENCY_KEY_IN_USE when a request with the same key runs longer than the wait', async () => {
      const key = newKey();
      const blocker = await api.db.startTransaction().execute();
      try {
        await sql`INSERT INTO idempotency_keys (caller, operation, key, request_hash, expires_at)
          VALUES ('customer:mechanism@CUSTOMER:1:1', 'test', ${key}, 'x', now() + interval '1 hour')`.execute(blocker);
        const waited = withIdempotency(context(key), 'test', {}, async () => ok({ id: '1' }), memory, { waitMs: 200 });
        await expect(waited).rejects.toMatchObject({ extensions: { code: 'IDEMPOTENCY_KEY_IN_USE' } });
      } finally {
        await blocker.rollback().execute();
      }
    });

    it('purges expired keys and leaves live ones', async () => {
      const live = newKey();
      const expired = newKey();
      await sql`INSERT INTO idempotency_keys (caller, operation, key, request_hash, outcome, expires_at) VALUES
        ('customer:mechanism', 'purge', ${live}, 'x', '{}', now() + interval '1 hour'),
        ('customer:mechanism', 'purge', ${expired}, 'x', '{}', now() - interval '1 second')`.execute(api.db);
      expect(await deleteExpiredIdempotencyKeys(api.db, new Date(), 1000)).toBeGreaterThanOrEqual(1);
      const left = await api.db.selectFrom('idempotency_keys').select('key').where('operation', '=', 'purge').execute();
      expect(left.map((row) => row.key)).toContain(live);
      expect(left.map((row) => row.key)).not.toContain(expired);
    });
  });
});
