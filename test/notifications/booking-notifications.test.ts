import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { addMembership, createAccount } from '../support/accounts.js';
import { mutateOk, startTestApi, type TestApi } from '../support/api.js';
import { createBusiness, createCustomer, createPartner, createService, createSlots, type BuiltBusiness, type BuiltCustomer, type BuiltPartner, type BuiltService, type BuiltSlot } from '../support/builders.js';
import { startTestSmtpServer, type ReceivedMail, type TestSmtpServer } from '../support/smtp.js';
import type { TestSmsProvider } from '../../src/notifications/sms.js';

const CREATE = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id startsAt } userErrors { code message } } }`;
const CONFIRM = `mutation($input: BookingConfirmInput!) { bookingConfirm(input: $input) { booking { id status } userErrors { code message } } }`;
const RESCHEDULE = `mutation($input: BookingRescheduleInput!) { bookingReschedule(input: $input) { booking { id startsAt } userErrors { code message } } }`;
const CANCEL = `mutation($input: BookingCancelInput!) { bookingCancel(input: $input) { booking { id status } userErrors { code message } } }`;

const HOUR = 3_600_000;

/** The text/calendar part of a received message, as sent (CRLF line endings kept). */
function calendarOf(mail: ReceivedMail): string {
  const part = /Content-Type: text\/calendar[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n([\s\S]*?)\r?\n--/i.exec(mail.raw);
  expect(part, `a text/calendar part in "${mail.parsed.subject}"`).not.toBeNull();
  const encoding = /Content-Type: text\/calendar[^]*?Content-Transfer-Encoding: ([\w-]+)/i.exec(mail.raw)?.[1]?.toLowerCase();
  const body = part![1];
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  return body;
}

/** The unfolded value of an iCalendar property. */
function property(ics: string, name: string): string | undefined {
  const unfolded = ics.replace(/\r\n[ \t]/g, '');
  return new RegExp(`^${name}(?:;[^:\\r\\n]*)?:(.*)$`, 'm').exec(unfolded)?.[1]?.replace(/\r$/, '');
}

/** A header as sent (unfolded), from the raw message. */
function header(mail: ReceivedMail, name: string): string | undefined {
  const head = mail.raw.slice(0, mail.raw.search(/\r?\n\r?\n/)).replace(/\r?\n[ \t]+/g, ' ');
  return new RegExp(`^${name}: (.*)$`, 'mi').exec(head)?.[1]?.trim();
}

function utc(iso: string): string {
  return iso.replace(/[-:]/g, '').replace(/\.\d+/, '');
}

describe('Booking notifications: e-mails with calendar invitations through SMTP, reminders by the clock', () => {
  let smtp: TestSmtpServer;
  let api: TestApi;
  let now = new Date();
  let business: BuiltBusiness;
  let service: BuiltService;
  let partner: BuiltPartner;
  let customer: BuiltCustomer;
  let firstSlots: BuiltSlot[];
  let laterSlots: BuiltSlot[];
  let staff: string;
  let partnerEmail: string;

  beforeAll(async () => {
    smtp = await startTestSmtpServer();
    api = await startTestApi({
      isolated: true,
      clock: () => now,
      config: {
        mail: { smtpUrl: smtp.url, from: 'Glow Bookings <bookings@glow.example>', dir: '' },
        // No timer: the worker runs after each commit, and when a test kicks it after moving the clock.
        notifications: { pollIntervalMs: 600_000, maxAttempts: 3, retryBaseMs: 1000, publicAppUrl: 'https://book.example', publicApiUrl: 'https://api.example', linkSecret: 'test-link-secret', messageEmailDelaySeconds: 60 },
      },
    });
    business = await createBusiness(api.db, { name: 'Glow, Studio; Tokyo', timeZone: 'Asia/Tokyo' });
    service = await createService(api.db, business, { name: 'Cut', durationMinutes: 60 });
    partner = await createPartner(api.db, business, { name: 'Aiko' });
    customer = await createCustomer(api.db, business, { name: 'Hana', email: 'hana@customers.example' });
    await api.db.updateTable('customers').set({ locale: 'ja', phone: '+819012345678' }).where('id', '=', customer.id).execute();
    const account = await createAccount(api, { email: 'aiko@partners.example' });
    partnerEmail = account.email;
    await addMembership(api.db, account, business, 'partner', partner);
    const day = (n: number, hour: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + n, hour));
    firstSlots = await createSlots(api.db, business, partner, day(3, 1), 2, { minutes: 30 });
    laterSlots = await createSlots(api.db, business, partner, day(4, 2), 2, { minutes: 30 });
    staff = await api.token({ sub: 'staff-n', role: 'staff', business_id: business.gid });
  }, 90_000);
  afterAll(async () => {
    await api?.close();
    await smtp?.close();
  });

  /** Runs the relay and the worker to completion (both also run by themselves after a commit). */
  async function settle(): Promise<void> {
    await api.app.relay.kick();
    await api.app.notifications!.kick();
  }

  it('sends the customer every change and the partner all but the confirmation, each with one UID and a growing SEQUENCE; reminds once at the moved time', async () => {
    const steps: ReceivedMail[][] = [];
    /** What arrived since the last step, the customer's first (messages of one step are sent at once, in any order). */
    const step = () => {
      const seen = steps.flat().length;
      steps.push(smtp.received.slice(seen).sort((a, b) => Number(b.to[0] === customer.email) - Number(a.to[0] === customer.email)));
    };
    const created = await mutateOk(api, CREATE, { serviceId: service.gid, slotIds: firstSlots.map((s) => s.gid), customerId: customer.gid }, staff);
    const bookingId = created.booking.id as string;
    await settle();
    step();
    await mutateOk(api, CONFIRM, { bookingId }, staff);
    await settle();
    step();
    await mutateOk(api, RESCHEDULE, { bookingId, startsAt: laterSlots[0].startsAt }, staff);
    await settle();
    step();

    // The old reminder time passes: nothing (it moved); the new one: one e-mail and one text.
    now = new Date(new Date(firstSlots[0].startsAt).getTime() - 24 * HOUR + 60_000);
    await settle();
    step();
    now = new Date(new Date(laterSlots[0].startsAt).getTime() - 24 * HOUR + 60_000);
    await settle();
    step();
    await settle();
    await mutateOk(api, CANCEL, { bookingId, reason: 'Changed plans' }, staff);
    await settle();
    step();

    expect(steps.map((mails) => mails.map((m) => ({ to: m.to, subject: m.parsed.subject })))).toEqual([
      [
        { to: ['hana@customers.example'], subject: 'Glow, Studio; Tokyoのご予約を承りました' },
        { to: [partnerEmail], subject: expect.stringMatching(/^New booking: Hana, /) },
      ],
      [{ to: ['hana@customers.example'], subject: 'Glow, Studio; Tokyoのご予約が確定しました' }],
      [
        { to: ['hana@customers.example'], subject: 'Glow, Studio; Tokyoのご予約が変更されました' },
        { to: [partnerEmail], subject: expect.stringMatching(/^Booking moved: Hana, now /) },
      ],
      [],
      [{ to: ['hana@customers.example'], subject: expect.stringMatching(/^リマインダー: Glow, Studio; Tokyo /) }],
      [
        { to: ['hana@customers.example'], subject: 'Glow, Studio; Tokyoのご予約がキャンセルされました' },
        { to: [partnerEmail], subject: expect.stringMatching(/^Booking cancelled: Hana, /) },
      ],
    ]);
    expect(smtp.received).toHaveLength(8);
    // Local time in the business's zone (Asia/Tokyo, UTC+9), in the reader's language.
    const [[createdMail, partnerMail], , [movedMail], , [reminder], [cancelled]] = steps;
    const inOrder = steps.flat();
    expect(createdMail.parsed.text).toContain('Hana様、Glow, Studio; Tokyoのご予約を承りました。');
    expect(createdMail.parsed.text).toMatch(/日時: .*10:00/);
    expect(createdMail.parsed.text).toContain(`https://book.example/bookings/${encodeURIComponent(bookingId)}`);
    expect(partnerMail.parsed.text).toMatch(/When: .*10:00/);
    expect(movedMail.parsed.text).toMatch(/日時: .*11:00/);
    expect(createdMail.parsed.from?.value[0].address).toBe('bookings@glow.example');

    // The invitations: one UID, SEQUENCE 0, 1, 2 then 3 for the cancellation; UTC times; CRLF; folded.
    const invitations = [0, 1, 2, 3, 4, 6, 7].map((i) => calendarOf(inOrder[i]));
    const uid = property(invitations[0], 'UID');
    expect(uid).toMatch(/^booking-\d+@glow\.example$/);
    for (const ics of invitations) {
      expect(property(ics, 'UID')).toBe(uid);
      expect(ics.split('\r\n').every((line) => Buffer.byteLength(line) <= 75)).toBe(true);
      expect(ics.replace(/\r\n/g, '')).not.toMatch(/\n/);
      expect(property(ics, 'DTSTAMP')).toMatch(/^\d{8}T\d{6}Z$/);
    }
    expect(invitations.map((ics) => [property(ics, 'METHOD'), property(ics, 'SEQUENCE')])).toEqual([
      ['REQUEST', '0'], ['REQUEST', '0'], ['REQUEST', '1'], ['REQUEST', '2'], ['REQUEST', '2'], ['CANCEL', '3'], ['CANCEL', '3'],
    ]);
    expect(property(invitations[0], 'DTSTART')).toBe(utc(firstSlots[0].startsAt));
    expect(property(invitations[0], 'DTEND')).toBe(utc(firstSlots[1].endsAt));
    expect(property(invitations[3], 'DTSTART')).toBe(utc(laterSlots[0].startsAt));
    expect(property(invitations[0], 'SUMMARY')).toBe('Glow\\, Studio\\; Tokyo Cut');
    expect(property(invitations[0], 'ORGANIZER')).toBe('mailto:bookings@glow.example');
    expect(property(invitations[0], 'ATTENDEE')).toBe('mailto:hana@customers.example');

    // The reminder: no invitation (nothing changed), one-click unsubscribe (RFC 8058); a text too.
    expect(reminder.raw).not.toMatch(/text\/calendar/);
    const unsubscribe = /^<(https:\/\/api\.example\/notifications\/unsubscribe\?c=\d+&s=[\w-]+)>$/.exec(header(reminder, 'List-Unsubscribe') ?? '');
    expect(unsubscribe).not.toBeNull();
    expect(header(reminder, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(header(cancelled, 'List-Unsubscribe')).toBeUndefined();
    const texts = (api.app.sms as TestSmsProvider).sent;
    expect(texts.map((t) => t.to)).toEqual(['+819012345678']);
    expect(texts[0].body).toMatch(/^リマインダー: Glow, Studio; Tokyo .*11:00/);

    // The link opts the customer out with one POST (a GET only asks); a forged one changes nothing.
    const path = unsubscribe![1].replace('https://api.example', new URL(api.app.url).origin);
    expect((await fetch(path.replace(/s=[\w-]+/, 's=forged'), { method: 'POST', body: 'List-Unsubscribe=One-Click' })).status).toBe(404);
    expect((await fetch(path)).status).toBe(200);
    const before = await api.db.selectFrom('customers').select('reminders_opted_out_at').where('id', '=', customer.id).executeTakeFirstOrThrow();
    expect(before.reminders_opted_out_at).toBeNull();
    const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(res.status).toBe(200);
    const after = await api.db.selectFrom('customers').select('reminders_opted_out_at').where('id', '=', customer.id).executeTakeFirstOrThrow();
    expect(after.reminders_opted_out_at).not.toBeNull();

    // Every job is finished: done, or the cancelled booking's second reminder never existed.
    const jobs = await api.db.selectFrom('notification_jobs').select(['kind', 'status']).orderBy('id').execute();
    expect(jobs.filter((j) => j.status !== 'done')).toEqual([]);
    expect(jobs.filter((j) => j.kind !== 'booking_email').map((j) => j.kind).sort()).toEqual(['booking_reminder_email', 'booking_reminder_sms']);
  });

  it('tells the partner a booking moved away from, with a cancellation for their calendar, and the new partner with an invitation', async () => {
    const other = await createPartner(api.db, business, { name: 'Ren' });
    const account = await createAccount(api, { email: 'ren@partners.example' });
    await addMembership(api.db, account, business, 'partner', other);
    const [target] = await createSlots(api.db, business, other, new Date(new Date(laterSlots[0].startsAt).getTime() + 24 * HOUR), 2, { minutes: 30 });
    const created = await mutateOk(api, CREATE, { serviceId: service.gid, slotIds: laterSlots.map((s) => s.gid), customerId: customer.gid }, staff);
    await settle();
    const seen = smtp.received.length;
    await mutateOk(api, RESCHEDULE, { bookingId: created.booking.id, startsAt: target.startsAt, partnerId: other.gid }, staff);
    await settle();
    const moved = smtp.received.slice(seen);
    const of = (email: string) => moved.find((m) => m.to[0] === email)!;
    expect(moved.map((m) => m.to[0]).sort()).toEqual([partnerEmail, 'hana@customers.example', 'ren@partners.example'].sort());
    expect(of(partnerEmail).parsed.subject).toMatch(/^Booking moved to another partner: Hana, .*11:00/);
    expect(of('ren@partners.example').parsed.subject).toMatch(/^Booking moved: Hana, now /);
    const [left, joined, customerIcs] = [partnerEmail, 'ren@partners.example', 'hana@customers.example'].map((email) => calendarOf(of(email)));
    expect([property(left, 'METHOD'), property(joined, 'METHOD'), property(customerIcs, 'METHOD')]).toEqual(['CANCEL', 'REQUEST', 'REQUEST']);
    expect(new Set([left, joined, customerIcs].map((ics) => property(ics, 'UID'))).size).toBe(1);
    expect(new Set([left, joined, customerIcs].map((ics) => property(ics, 'SEQUENCE')))).toEqual(new Set(['1']));
    expect(property(left, 'DTSTART')).toBe(utc(laterSlots[0].startsAt));
    expect(property(joined, 'DTSTART')).toBe(utc(target.startsAt));
  });

  it('lets the customer turn reminders off and set a phone and locale, refusing malformed ones; an owner sets the reminder lead time', async () => {
    const PREFERENCES = `mutation($input: CustomerNotificationPreferencesUpdateInput!) { customerNotificationPreferencesUpdate(input: $input) {
      customer { notificationPreferences { reminders phone locale } } userErrors { field code } } }`;
    const own = await api.token({ sub: 'customer-n', role: 'customer', business_id: business.gid, customer_id: customer.gid });
    const refused = await api.gql(PREFERENCES, { input: { customerId: customer.gid, reminders: true, phone: '090-1234' } }, { token: own });
    expect(refused.data.customerNotificationPreferencesUpdate).toEqual({ customer: null, userErrors: [{ field: ['input', 'phone'], code: 'INVALID_INPUT' }] });
    const changed = await mutateOk(api, PREFERENCES, { customerId: customer.gid, reminders: true, phone: '', locale: 'en' }, own);
    expect(changed.customer.notificationPreferences).toEqual({ reminders: true, phone: null, locale: 'en' });
    const other = await createCustomer(api.db, business);
    const stranger = await api.gql(PREFERENCES, { input: { customerId: other.gid, reminders: false } }, { token: own });
    expect(stranger.data.customerNotificationPreferencesUpdate.userErrors).toEqual([{ field: ['input', 'customerId'], code: 'NOT_FOUND' }]);

    const UPDATE = `mutation($input: BusinessUpdateInput!) { businessUpdate(input: $input) { business { reminderHours } userErrors { field code } } }`;
    const admin = await api.token({ sub: 'admin-n', role: 'admin' });
    const tooFar = await api.gql(UPDATE, { input: { businessId: business.gid, settings: { reminderHours: 721 } } }, { token: admin });
    expect(tooFar.data.businessUpdate.userErrors).toEqual([{ field: ['input', 'settings', 'reminderHours'], code: 'INVALID_INPUT' }]);
    expect((await mutateOk(api, UPDATE, { businessId: business.gid, settings: { reminderHours: 2 } }, admin)).business).toEqual({ reminderHours: 2 });
  });

  it("e-mails a thread message to the side that has not read it when the delay has passed, and nothing once it has read it", async () => {
    const SEND = `mutation($input: MessageSendInput!) { messageSend(input: $input) { message { id } userErrors { code message } } }`;
    const READ = `mutation($input: MessageThreadMarkReadInput!) { messageThreadMarkRead(input: $input) { booking { id } userErrors { code message } } }`;
    const slots = await createSlots(api.db, business, partner, new Date(now.getTime() + 6 * 24 * HOUR), 2, { minutes: 30 });
    const booked = await mutateOk(api, CREATE, { serviceId: service.gid, slotIds: slots.map((s) => s.gid), customerId: customer.gid }, staff);
    const bookingId = booked.booking.id as string;
    const customerToken = await api.token({ sub: 'hana-n', role: 'customer', business_id: business.gid, customer_id: customer.gid });
    await settle();
    const threadMails = () => smtp.received.filter((m) => /新しいメッセージ|New message/.test(m.parsed.subject ?? ''));
    const later = async (seconds: number) => {
      now = new Date(now.getTime() + seconds * 1000);
      await settle();
    };

    await mutateOk(api, SEND, { bookingId, body: 'Is there parking nearby?' }, customerToken);
    await settle();
    await later(30);
    expect(threadMails()).toHaveLength(0); // not yet: the partner may still read it live
    await later(31);
    expect(threadMails().map((m) => ({ to: m.to, subject: m.parsed.subject }))).toEqual([{ to: [partnerEmail], subject: expect.stringMatching(/^New message from Hana about Cut on /) }]);
    expect(threadMails()[0].parsed.text).toContain('Is there parking nearby?');

    // Read before the delay: no e-mail. Not read: one, in the customer's language.
    await mutateOk(api, SEND, { bookingId, body: 'Yes, behind the shop.' }, staff);
    await mutateOk(api, READ, { bookingId }, customerToken);
    await later(61);
    expect(threadMails()).toHaveLength(1);
    await mutateOk(api, SEND, { bookingId, body: 'See you on Friday!' }, staff);
    await settle();
    await later(61);
    const toCustomer = threadMails().slice(1);
    expect(toCustomer.map((m) => m.to)).toEqual([['hana@customers.example']]);
    expect(toCustomer[0].parsed.text).toContain('See you on Friday!');
    expect(toCustomer[0].parsed.text).not.toContain('Yes, behind the shop.');
    const jobs = await api.db.selectFrom('notification_jobs').select('status').where('kind', '=', 'message_email').execute();
    expect(jobs.map((j) => j.status)).toEqual(['done', 'done', 'done']);
  });

  it('retries a message the SMTP relay does not take with growing waits, then marks it dead and counts it in the metrics', async () => {
    // The relay answers every message with a temporary failure (as nodemailer reports a 421).
    const mailer = api.app.mailer;
    const send = mailer.send;
    mailer.send = async () => {
      throw new Error('421 4.3.2 Service not available, try again later');
    };
    onTestFinished(() => void (mailer.send = send));
    const created = await mutateOk(api, CREATE, { serviceId: service.gid, slotIds: firstSlots.map((s) => s.gid), customerId: customer.gid }, staff);
    await settle();
    const jobsOf = () => api.db.selectFrom('notification_jobs').select(['status', 'attempts', 'run_at', 'last_error']).where('key', 'like', '%:customer').orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    const first = await jobsOf();
    expect(first).toMatchObject({ status: 'pending', attempts: 1 });
    expect(first.last_error).toBe('421 4.3.2 Service not available, try again later');
    const firstWait = new Date(first.run_at).getTime() - now.getTime();
    expect(firstWait).toBeGreaterThanOrEqual(500);
    expect(firstWait).toBeLessThanOrEqual(1000);
    // Not due yet: a kick now changes nothing.
    await api.app.notifications!.kick();
    expect((await jobsOf()).attempts).toBe(1);
    now = new Date(now.getTime() + 60_000);
    await api.app.notifications!.kick();
    const second = await jobsOf();
    expect(second).toMatchObject({ status: 'pending', attempts: 2 });
    const secondWait = new Date(second.run_at).getTime() - now.getTime();
    expect(secondWait).toBeGreaterThanOrEqual(1000);
    expect(secondWait).toBeLessThanOrEqual(2000);
    now = new Date(now.getTime() + 60_000);
    await api.app.notifications!.kick();
    expect(await jobsOf()).toMatchObject({ status: 'dead', attempts: 3 });
    expect(created.booking.id).toBeTruthy();
    // The booking's customer and partner e-mails, and its reminder e-mail (the test clock is past
    // its time, and the customer turned reminders back on): all three dead.
    const dead = await api.db.selectFrom('notification_jobs').select('kind').where('status', '=', 'dead').orderBy('kind').execute();
    expect(dead.map((j) => j.kind)).toEqual(['booking_email', 'booking_email', 'booking_reminder_email']);
    expect(await api.metricsText()).toMatch(/^notification_jobs\{state="dead"\} 3$/m);
  });
});
