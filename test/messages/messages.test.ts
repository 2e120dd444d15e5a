import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { DEFAULT_RATE_LIMIT_CONFIG } from '../../src/config.js';
import { mutateOk, startTestApi, type TestApi } from '../support/api.js';
import { createBooking } from '../support/builders.js';
import { bookedScene } from '../support/scenes.js';
import { record, untilSubscribed, wsClient } from '../support/subscriptions.js';

const SEND = `mutation($input: MessageSendInput!) { messageSend(input: $input) { message { id body senderSide createdAt booking { id } } userErrors { field message code } } }`;
const MARK_READ = `mutation($input: MessageThreadMarkReadInput!) { messageThreadMarkRead(input: $input) { booking { id unreadCount } userErrors { field message code } } }`;
const THREAD = `query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Booking { unreadCount
  messages(first: $first, after: $after) { nodes { body senderSide } pageInfo { hasNextPage endCursor } } } } }`;
const PAGE = `query($id: ID!) { node(id: $id) { ... on Business { bookings(first: 50) { nodes { id unreadCount messages(first: 3) { nodes { id body senderSide } } } } } } }`;
const EVENTS = `subscription($businessId: ID!) { bookingEvents(businessId: $businessId) { cursor type booking { id } message { body senderSide booking { id } } } }`;
const THREAD_LIVE = `subscription($bookingId: ID!) { bookingMessages(bookingId: $bookingId) { cursor message { body senderSide } } }`;
const SINCE = `query($businessId: ID!, $after: String) { bookingEventsSince(businessId: $businessId, after: $after) { events { cursor type message { body senderSide } } endCursor } }`;

const MESSAGES_PER_WINDOW = 8;

describe('Booking conversations', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi({ isolated: true, config: { rateLimits: { ...DEFAULT_RATE_LIMIT_CONFIG, messages: { points: MESSAGES_PER_WINDOW, durationSeconds: 60 } } } });
  });
  afterAll(() => api.close());

  const send = (bookingId: string, body: string, token: string | undefined) => api.gql(SEND, { input: { bookingId, body } }, { token });

  it('keeps a thread per booking, newest first and keyset-paged, with unread counts per side until each side marks it read', async () => {
    const s = await bookedScene(api);
    const id = s.booking.gid;
    const first = await mutateOk(api, SEND, { bookingId: id, body: '  Can I come 10 minutes late?  ' }, s.tokens.customer);
    expect(first.message).toMatchObject({ body: 'Can I come 10 minutes late?', senderSide: 'CUSTOMER', booking: { id } });
    await mutateOk(api, SEND, { bookingId: id, body: 'Sure, see you then.' }, s.tokens.partner);
    await mutateOk(api, SEND, { bookingId: id, body: 'Thanks!' }, s.tokens.customer);

    const page1 = await api.gql(THREAD, { id, first: 2 }, { token: s.tokens.staff });
    expect(page1.errors).toBeUndefined();
    expect(page1.data.node.messages.nodes).toEqual([{ body: 'Thanks!', senderSide: 'CUSTOMER' }, { body: 'Sure, see you then.', senderSide: 'BUSINESS' }]);
    expect(page1.data.node.messages.pageInfo.hasNextPage).toBe(true);
    const page2 = await api.gql(THREAD, { id, first: 2, after: page1.data.node.messages.pageInfo.endCursor }, { token: s.tokens.staff });
    expect(page2.data.node.messages).toEqual({ nodes: [{ body: 'Can I come 10 minutes late?', senderSide: 'CUSTOMER' }], pageInfo: { hasNextPage: false, endCursor: expect.any(String) } });

    // The business has two unread customer messages, the customer one business message.
    expect(page1.data.node.unreadCount).toBe(2);
    expect((await api.gql(THREAD, { id }, { token: s.tokens.customer })).data.node.unreadCount).toBe(1);
    const read = await mutateOk(api, MARK_READ, { bookingId: id }, s.tokens.staff);
    expect(read.booking).toEqual({ id, unreadCount: 0 });
    // The partner shares the business's marker; the customer's is untouched.
    expect((await api.gql(THREAD, { id }, { token: s.tokens.partner })).data.node.unreadCount).toBe(0);
    expect((await api.gql(THREAD, { id }, { token: s.tokens.customer })).data.node.unreadCount).toBe(1);
    await mutateOk(api, SEND, { bookingId: id, body: 'One more thing.' }, s.tokens.customer);
    expect((await api.gql(THREAD, { id }, { token: s.tokens.partner })).data.node.unreadCount).toBe(1);

    // Each message's event became one e-mail job for the other side (sent later if still unread).
    await api.app.relay.kick();
    const ids = await api.db.selectFrom('messages').select('id').where('booking_id', '=', s.booking.id).orderBy('id').execute();
    const jobs = await api.db.selectFrom('notification_jobs').select(['key', 'payload']).where('kind', '=', 'message_email').where('key', 'in', ids.map((m) => String(m.id))).orderBy('id').execute();
    expect(jobs.map((j) => [j.key, (j.payload as { senderSide: string }).senderSide])).toEqual(ids.map((m, i) => [String(m.id), ['customer', 'business', 'customer', 'customer'][i]]));
  });

  it('refuses, changing nothing, a blank or too long message, a booking the caller may not see, and a sender over the rate limit', async () => {
    const s = await bookedScene(api);
    const other = await bookedScene(api);
    const id = s.booking.gid;
    const refusals = [
      [await send(id, '   ', s.tokens.customer), 'INVALID_INPUT', ['input', 'body']],
      [await send(id, 'x'.repeat(2001), s.tokens.customer), 'INVALID_INPUT', ['input', 'body']],
      // Another partner of the same business, and another business's staff and customer: as if missing.
      [await send(id, 'hello', await api.token({ sub: 'partner-2', role: 'partner', business_id: s.business.gid, partner_id: s.partners[1].gid })), 'NOT_FOUND', ['input', 'bookingId']],
      [await send(id, 'hello', other.tokens.staff), 'NOT_FOUND', ['input', 'bookingId']],
      [await send(id, 'hello', other.tokens.customer), 'NOT_FOUND', ['input', 'bookingId']],
    ] as const;
    for (const [res, code, field] of refusals) {
      expect(res.errors).toBeUndefined();
      expect(res.data.messageSend).toMatchObject({ message: null, userErrors: [{ code, field }] });
    }
    const foreignRead = await api.gql(THREAD, { id }, { token: other.tokens.staff });
    expect(foreignRead.data.node).toBeNull();
    const markForeign = await api.gql(MARK_READ, { input: { bookingId: id } }, { token: other.tokens.customer });
    expect(markForeign.data.messageThreadMarkRead.userErrors).toMatchObject([{ code: 'NOT_FOUND' }]);
    expect(await api.db.selectFrom('messages').select('id').where('booking_id', '=', s.booking.id).execute()).toEqual([]);

    for (let i = 0; i < MESSAGES_PER_WINDOW; i++) await mutateOk(api, SEND, { bookingId: id, body: `message ${i}` }, s.tokens.customer);
    const over = await send(id, 'one too many', s.tokens.customer);
    expect(over.data.messageSend.userErrors).toMatchObject([{ code: 'RATE_LIMITED', field: ['input', 'body'], message: expect.stringMatching(/^Too many messages: expected at most 8 per 60 s/) }]);
    // The budget is the sender's: the business still answers.
    await mutateOk(api, SEND, { bookingId: id, body: 'We got it.' }, s.tokens.staff);
    const count = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE booking_id = ${s.booking.id}::bigint`.execute(api.db);
    expect(count.rows[0].n).toBe(MESSAGES_PER_WINDOW + 1);
  });

  it('reads threads and unread counts of a page of bookings in the same number of statements for 2 bookings as for 8', async () => {
    const s = await bookedScene(api);
    const measure = async () => (await api.countStatements(() => api.gql(PAGE, { id: s.business.gid }, { token: s.tokens.staff }))).statements;
    const addBooking = async (i: number) => {
      const slot = s.partners[1].slots[i];
      const booking = await createBooking(api.db, { business: s.business, service: s.service, partner: s.partners[1], customer: s.customer, slots: [slot] });
      await mutateOk(api, SEND, { bookingId: booking.gid, body: `hi ${i}` }, s.tokens.customer);
    };
    await addBooking(0);
    // Warms the catalog cache (the page's service and partners): both counts below are of warm requests.
    await measure();
    const two = await measure();
    for (let i = 1; i < 7; i++) await addBooking(i);
    const res = await api.gql(PAGE, { id: s.business.gid }, { token: s.tokens.staff });
    expect(res.data.node.bookings.nodes).toHaveLength(8);
    expect(res.data.node.bookings.nodes.filter((b: any) => b.unreadCount === 1 && b.messages.nodes.length === 1)).toHaveLength(7);
    expect(await measure()).toBe(two);
  });

  it('delivers MESSAGE_POSTED live to the business, with the text read through the booking\'s visibility, and replays it after a reconnect', async () => {
    const s = await bookedScene(api);
    const client = wsClient(api.app.wsUrl, s.tokens.staff);
    try {
      const live = record(client, EVENTS, { businessId: s.business.gid });
      await untilSubscribed(api.app, 1);
      await mutateOk(api, SEND, { bookingId: s.booking.gid, body: 'Is parking free?' }, s.tokens.customer);
      const [first] = await live.waitFor(1);
      expect(first.bookingEvents).toMatchObject({ type: 'MESSAGE_POSTED', booking: { id: s.booking.gid }, message: { body: 'Is parking free?', senderSide: 'CUSTOMER', booking: { id: s.booking.gid } } });
      const cursor = first.bookingEvents.cursor;
      live.unsubscribe();
      await untilSubscribed(api.app, 0);

      // Disconnected: two more messages; the replay from the last cursor brings both, in order.
      await mutateOk(api, SEND, { bookingId: s.booking.gid, body: 'Also, do you take cards?' }, s.tokens.customer);
      await mutateOk(api, SEND, { bookingId: s.booking.gid, body: 'Yes to both.' }, s.tokens.staff);
      await api.app.relay.kick();
      const replay = await api.gql(SINCE, { businessId: s.business.gid, after: cursor }, { token: s.tokens.staff });
      expect(replay.errors).toBeUndefined();
      expect(replay.data.bookingEventsSince.events.map((e: any) => [e.type, e.message?.body, e.message?.senderSide])).toEqual([
        ['MESSAGE_POSTED', 'Also, do you take cards?', 'CUSTOMER'],
        ['MESSAGE_POSTED', 'Yes to both.', 'BUSINESS'],
      ]);
      // The outbox row names the message, never its text.
      const rows = await sql<{ data: any }>`SELECT data FROM booking_events WHERE booking_id = ${s.booking.id}::bigint AND type = 'MESSAGE_POSTED'`.execute(api.db);
      expect(rows.rows).toHaveLength(3);
      expect(JSON.stringify(rows.rows)).not.toMatch(/parking|cards|both/);
    } finally {
      await client.dispose();
      await untilSubscribed(api.app, 0);
    }
  });

  it('delivers a thread\'s messages live to its customer, refuses another tenant\'s booking like a missing one, and catches up from Booking.messages after a reconnect', async () => {
    const s = await bookedScene(api);
    const other = await bookedScene(api);
    const clients = [wsClient(api.app.wsUrl, s.tokens.customer), wsClient(api.app.wsUrl, other.tokens.customer)];
    try {
      const foreign = record(clients[1], THREAD_LIVE, { bookingId: s.booking.gid });
      const missing = record(clients[1], THREAD_LIVE, { bookingId: Buffer.from('Booking:999999999').toString('base64url') });
      const [foreignError, missingError] = [await foreign.waitForError(), await missing.waitForError()];
      expect(foreignError).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT' } }]);
      const shape = (errors: any, id: string) => errors.map((e: any) => ({ message: e.message.replace(id, 'ID'), code: e.extensions.code }));
      expect(shape(foreignError, s.booking.gid)).toEqual(shape(missingError, Buffer.from('Booking:999999999').toString('base64url')));

      const live = record(clients[0], THREAD_LIVE, { bookingId: s.booking.gid });
      await untilSubscribed(api.app, 1);
      await mutateOk(api, SEND, { bookingId: other.booking.gid, body: 'Not for you.' }, other.tokens.staff);
      await mutateOk(api, SEND, { bookingId: s.booking.gid, body: 'Your stylist is running 5 minutes late.' }, s.tokens.partner);
      const [first] = await live.waitFor(1);
      expect(first.bookingMessages.message).toEqual({ body: 'Your stylist is running 5 minutes late.', senderSide: 'BUSINESS' });
      live.unsubscribe();
      await untilSubscribed(api.app, 0);

      // Offline: the customer catches up from the thread, newest first, down to the last message seen.
      await mutateOk(api, SEND, { bookingId: s.booking.gid, body: 'Now 10, sorry.' }, s.tokens.partner);
      const thread = await api.gql(THREAD, { id: s.booking.gid }, { token: s.tokens.customer });
      expect(thread.data.node.messages.nodes.map((m: any) => m.body)).toEqual(['Now 10, sorry.', 'Your stylist is running 5 minutes late.']);
      expect(thread.data.node.unreadCount).toBe(2);
      expect(live.results).toHaveLength(1);
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
      await untilSubscribed(api.app, 0);
    }
  });

  it('leaves a booking\'s reminders as they are when a message is posted (a message is not a booking change)', async () => {
    const s = await bookedScene(api);
    await sql`UPDATE businesses SET reminder_hours = 1 WHERE id = ${s.business.id}::bigint`.execute(api.db);
    const created = await mutateOk(api, `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { code } } }`, { slotIds: s.partners[1].slots.slice(5, 7).map((x) => x.gid) }, s.tokens.customer);
    const bookingId = Buffer.from(created.booking.id, 'base64url').toString().split(':')[1];
    await api.app.relay.kick();
    const reminders = () => sql<{ status: string }>`SELECT status FROM notification_jobs WHERE kind = 'booking_reminder_email' AND key = ${bookingId}`.execute(api.db).then((r) => r.rows.map((x) => x.status));
    expect(await reminders()).toEqual(['pending']);
    await mutateOk(api, SEND, { bookingId: created.booking.id, body: 'See you!' }, s.tokens.customer);
    await api.app.relay.kick();
    expect(await reminders()).toEqual(['pending']);
  });
});
