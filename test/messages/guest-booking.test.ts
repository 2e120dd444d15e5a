import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { DEFAULT_RATE_LIMIT_CONFIG } from '../../src/config.js';
import { TestSmsProvider } from '../../src/notifications/sms.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { createBookableBusiness } from '../support/builders.js';
import { onRealPostgres } from '../support/database.js';
import { startTestSmtpServer, type TestSmtpServer } from '../support/smtp.js';

const START = `mutation($input: GuestBookingStartInput!) { guestBookingStart(input: $input) { verificationId channel expiresAt userErrors { field message code } } }`;
const CONFIRM = `mutation($input: GuestBookingConfirmInput!) { guestBookingConfirm(input: $input) {
  booking { id status startsAt customer { name email } service { id } partner { id } } manageToken userErrors { field message code } } }`;
const CANCEL = `mutation($input: GuestBookingCancelInput!) { guestBookingCancel(input: $input) { booking { id status cancelReason customer { email } } userErrors { field message code } } }`;
const BOOK = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { code } } }`;

/** Guest starts per client IP for the whole file: every test's starts come from 127.0.0.1. */
const IP_BUDGET = 20;

describe('Guest booking with a one-time code', () => {
  let api: TestApi;
  let smtp: TestSmtpServer;
  let sms: TestSmsProvider;

  beforeAll(async () => {
    smtp = await startTestSmtpServer();
    api = await startTestApi({
      isolated: true,
      config: {
        mail: { smtpUrl: smtp.url, from: 'Bookings <bookings@test.example>', dir: '.data/mail-unused' },
        rateLimits: { ...DEFAULT_RATE_LIMIT_CONFIG, guestCodes: { points: 3, durationSeconds: 3600 }, guestCodesByIp: { points: IP_BUDGET, durationSeconds: 3600 } },
      },
    });
    // The app's default text message provider is the test one: it records what it sends.
    sms = api.app.sms as TestSmsProvider;
  });
  afterAll(async () => {
    await api.close();
    await smtp.close();
  });

  const codeMailedTo = async (address: string) => {
    const [mail] = (await smtp.waitFor((r) => r.some((m) => m.to.includes(address)))).filter((m) => m.to.includes(address)).slice(-1);
    return /\b(\d{6})\b/.exec(mail.parsed.text ?? '')![1];
  };
  const slotState = async (slotId: string) =>
    (await sql<{ held: boolean; booked: boolean }>`SELECT COALESCE(held_until > now(), false) AS held, booking_id IS NOT NULL AS booked FROM partner_slots WHERE id = ${slotId}::bigint`.execute(api.db)).rows[0];
  const counts = async (businessId: string) =>
    (await sql<{ bookings: number; customers: number }>`SELECT (SELECT count(*)::int FROM bookings WHERE business_id = ${businessId}::bigint) AS bookings,
      (SELECT count(*)::int FROM customers WHERE business_id = ${businessId}::bigint) AS customers`.execute(api.db)).rows[0];

  it('holds the time, e-mails a code (stored only hashed), and books it for a new customer record on the right code', async () => {
    const b = await createBookableBusiness(api.db);
    const slot = b.partners[0].slots[1];
    const email = `guest-${Date.now()}@guests.example`;
    const started = await api.gql(START, { input: { businessId: b.business.gid, serviceId: b.service.gid, startsAt: slot.startsAt, name: 'Grace Guest', email: email.toUpperCase() } });
    expect(started.errors).toBeUndefined();
    expect(started.data.guestBookingStart).toMatchObject({ channel: 'EMAIL', verificationId: expect.any(String), userErrors: [] });
    const expiresIn = Date.parse(started.data.guestBookingStart.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(9 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(10 * 60_000 + 1000);

    const code = await codeMailedTo(email);
    const mail = smtp.received.find((m) => m.to.includes(email))!;
    expect(mail.parsed.subject).toBe(`Your booking code: ${code}`);
    expect(mail.parsed.text).toContain('Hello Grace Guest');
    const stored = await sql<{ code_hash: string }>`SELECT code_hash FROM guest_verifications WHERE email = ${email}`.execute(api.db);
    expect(stored.rows[0].code_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.rows[0].code_hash).not.toContain(code);

    // Until confirmed: no booking, and the slot is held (nobody else may book it).
    expect(await slotState(slot.id)).toEqual({ held: true, booked: false });
    expect(await counts(b.business.id)).toEqual({ bookings: 0, customers: 1 });
    const other = await api.token({ sub: 'c-other', role: 'customer', business_id: b.business.gid, customer_id: b.customer.gid });
    expect((await api.gql(BOOK, { input: { serviceId: b.service.gid, startsAt: slot.startsAt } }, { token: other })).data.bookingCreate.userErrors).toMatchObject([{ code: 'SLOT_UNAVAILABLE' }]);

    const confirmed = await api.gql(CONFIRM, { input: { verificationId: started.data.guestBookingStart.verificationId, code } });
    expect(confirmed.errors).toBeUndefined();
    expect(confirmed.data.guestBookingConfirm).toMatchObject({
      booking: { status: 'PENDING', startsAt: slot.startsAt, customer: { name: 'Grace Guest', email }, service: { id: b.service.gid }, partner: { id: b.partners[0].gid } },
      manageToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      userErrors: [],
    });
    expect(await slotState(slot.id)).toEqual({ held: false, booked: true });
    expect(await counts(b.business.id)).toEqual({ bookings: 1, customers: 2 });

    // The code is single-use; a second guest booking with the same address finds the same customer.
    const again = await api.gql(CONFIRM, { input: { verificationId: started.data.guestBookingStart.verificationId, code } });
    expect(again.data.guestBookingConfirm).toMatchObject({ booking: null, userErrors: [{ code: 'CODE_EXPIRED' }] });
    smtp.received.length = 0;
    const second = await api.gql(START, { input: { businessId: b.business.gid, serviceId: b.service.gid, startsAt: b.partners[0].slots[3].startsAt, name: 'Grace', email } });
    const secondCode = await codeMailedTo(email);
    const secondBooking = await api.gql(CONFIRM, { input: { verificationId: second.data.guestBookingStart.verificationId, code: secondCode } });
    expect(await counts(b.business.id)).toEqual({ bookings: 2, customers: 2 });

    // The manage token cancels the booking, as its customer would; nothing else does.
    const manageToken = confirmed.data.guestBookingConfirm.manageToken;
    expect((await api.gql(CANCEL, { input: { manageToken: 'x'.repeat(43) } })).data.guestBookingCancel).toMatchObject({ booking: null, userErrors: [{ code: 'NOT_FOUND', field: ['input', 'manageToken'] }] });
    const cancelled = await api.gql(CANCEL, { input: { manageToken, reason: 'Plans changed' } });
    expect(cancelled.data.guestBookingCancel).toEqual({ booking: { id: confirmed.data.guestBookingConfirm.booking.id, status: 'CANCELLED', cancelReason: 'Plans changed', customer: { email } }, userErrors: [] });
    expect(await slotState(slot.id)).toEqual({ held: false, booked: false });
    expect((await api.gql(CANCEL, { input: { manageToken } })).data.guestBookingCancel.userErrors).toMatchObject([{ code: 'INVALID_TRANSITION' }]);

    // A manage token reads its own booking only, and lends nothing to the rest of the document: a
    // second mutation, by another customer of the business, on the guest's other booking is that
    // customer's own, which may not see it (with the token's grant it would have reached the
    // booking and answered INVALID_TRANSITION: it is cancelled).
    const both = await api.gql(
      `mutation($t: String!, $other: ID!) { guestBookingCancel(input: { manageToken: $t }) { booking { id status } userErrors { code } }
        other: bookingCancel(input: { bookingId: $other }) { booking { id } userErrors { code } } }`,
      { t: secondBooking.data.guestBookingConfirm.manageToken, other: confirmed.data.guestBookingConfirm.booking.id },
      { token: other },
    );
    expect(both.errors).toBeUndefined();
    expect(both.data.guestBookingCancel).toEqual({ booking: { id: secondBooking.data.guestBookingConfirm.booking.id, status: 'CANCELLED' }, userErrors: [] });
    expect(both.data.other).toEqual({ booking: null, userErrors: [expect.objectContaining({ code: 'NOT_FOUND' })] });
  });

  it('texts the code to a phone, and kills it after 5 attempts; a wrong, dead or lapsed code books nothing', async () => {
    const b = await createBookableBusiness(api.db);
    const slot = b.partners[0].slots[2];
    const started = await api.gql(START, { input: { businessId: b.business.gid, serviceId: b.service.gid, startsAt: slot.startsAt, name: 'Hiro', phone: '+81 90 1234 5678' } });
    expect(started.data.guestBookingStart).toMatchObject({ channel: 'SMS', userErrors: [] });
    const text = sms.sent.at(-1)!;
    expect(text.to).toBe('+819012345678');
    const code = /\b(\d{6})\b/.exec(text.body)![1];
    const wrong = code === '000000' ? '111111' : '000000';
    const verificationId = started.data.guestBookingStart.verificationId;
    const tries = [];
    for (let i = 0; i < 5; i++) tries.push((await api.gql(CONFIRM, { input: { verificationId, code: wrong } })).data.guestBookingConfirm.userErrors[0]);
    expect(tries.map((e) => [e.code, e.message])).toEqual([
      ['CODE_INVALID', 'Wrong code; 4 attempts left.'],
      ['CODE_INVALID', 'Wrong code; 3 attempts left.'],
      ['CODE_INVALID', 'Wrong code; 2 attempts left.'],
      ['CODE_INVALID', 'Wrong code; 1 attempt left.'],
      ['CODE_ATTEMPTS_EXCEEDED', expect.stringContaining('last of 5 attempts')],
    ]);
    // Even the right code is refused now.
    expect((await api.gql(CONFIRM, { input: { verificationId, code } })).data.guestBookingConfirm.userErrors).toMatchObject([{ code: 'CODE_ATTEMPTS_EXCEEDED' }]);
    expect(await counts(b.business.id)).toEqual({ bookings: 0, customers: 1 });

    // A lapsed code (and hold): expired, nothing booked; the slot is free again.
    const next = await api.gql(START, { input: { businessId: b.business.gid, serviceId: b.service.gid, startsAt: b.partners[0].slots[4].startsAt, name: 'Hiro', phone: '+819012345678' } });
    const nextCode = /\b(\d{6})\b/.exec(sms.sent.at(-1)!.body)![1];
    await sql`UPDATE guest_verifications SET expires_at = now() - interval '1 second' WHERE phone = '+819012345678' AND confirmed_at IS NULL`.execute(api.db);
    await sql`UPDATE slot_holds SET expires_at = now() - interval '1 second' WHERE business_id = ${b.business.id}::bigint`.execute(api.db);
    await sql`UPDATE partner_slots SET held_until = now() - interval '1 second' WHERE business_id = ${b.business.id}::bigint AND hold_id IS NOT NULL`.execute(api.db);
    const lapsed = await api.gql(CONFIRM, { input: { verificationId: next.data.guestBookingStart.verificationId, code: nextCode } });
    expect(lapsed.data.guestBookingConfirm.userErrors).toMatchObject([{ code: 'CODE_EXPIRED' }]);
    expect(await counts(b.business.id)).toEqual({ bookings: 0, customers: 1 });
    expect(await slotState(b.partners[0].slots[4].id)).toEqual({ held: false, booked: false });
  });

  it('refuses bad input and a taken slot, and rate limits codes per address, changing nothing', async () => {
    const b = await createBookableBusiness(api.db);
    const at = (i: number) => ({ businessId: b.business.gid, serviceId: b.service.gid, startsAt: b.partners[0].slots[i].startsAt, name: 'Rita' });
    const refused = async (input: Record<string, unknown>) => (await api.gql(START, { input })).data.guestBookingStart;
    expect(await refused({ ...at(0), email: 'rita@x.example', phone: '+15551234567' })).toMatchObject({ verificationId: null, userErrors: [{ code: 'INVALID_INPUT' }] });
    expect(await refused({ ...at(0) })).toMatchObject({ userErrors: [{ code: 'INVALID_INPUT' }] });
    expect(await refused({ ...at(0), phone: '555-1234' })).toMatchObject({ userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'phone'] }] });
    expect(await refused({ ...at(0), email: 'not-an-address' })).toMatchObject({ userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'email'] }] });
    for (const verificationId of ['bm9wZQ', '1', 'A'.repeat(22)]) {
      expect((await api.gql(CONFIRM, { input: { verificationId, code: '123456' } })).data.guestBookingConfirm.userErrors).toMatchObject([{ code: 'NOT_FOUND', field: ['input', 'verificationId'] }]);
    }

    const email = `rita-${Date.now()}@guests.example`;
    expect(await refused({ ...at(0), email })).toMatchObject({ userErrors: [] });
    // The same time again: held by the first guest.
    expect(await refused({ ...at(0), email: `other-${email}` })).toMatchObject({ userErrors: [{ code: 'SLOT_UNAVAILABLE' }] });
    expect(await refused({ ...at(1), email })).toMatchObject({ userErrors: [] });
    expect(await refused({ ...at(2), email })).toMatchObject({ userErrors: [] });
    const over = await refused({ ...at(3), email });
    expect(over).toMatchObject({ verificationId: null, userErrors: [{ code: 'RATE_LIMITED', field: ['input', 'email'] }] });
    const holds = await sql<{ n: number }>`SELECT count(*)::int AS n FROM slot_holds WHERE business_id = ${b.business.id}::bigint`.execute(api.db);
    expect(holds.rows[0].n).toBe(3);
    expect(await slotState(b.partners[0].slots[3].id)).toEqual({ held: false, booked: false });
  });

  it('gives one slot asked for by several guests at once to one of them, and books a code confirmed twice at once exactly once', async () => {
    const b = await createBookableBusiness(api.db);
    const slot = b.partners[0].slots[5];
    const guests = onRealPostgres ? 8 : 3;
    const starts = await Promise.all(
      Array.from({ length: guests }, (_, i) =>
        api.gql(START, { input: { businessId: b.business.gid, serviceId: b.service.gid, partnerId: b.partners[0].gid, startsAt: slot.startsAt, name: `Racer ${i}`, phone: `+1555000${String(i).padStart(4, '0')}` } }),
      ),
    );
    const won = starts.filter((r) => r.data.guestBookingStart.userErrors.length === 0);
    expect(won).toHaveLength(1);
    expect(starts.filter((r) => r.data.guestBookingStart.userErrors[0]?.code === 'SLOT_UNAVAILABLE')).toHaveLength(guests - 1);

    const verificationId = won[0].data.guestBookingStart.verificationId;
    const phone = (await sql<{ phone: string }>`SELECT phone FROM guest_verifications WHERE public_id = ${verificationId}`.execute(api.db)).rows[0].phone;
    const code = /\b(\d{6})\b/.exec(sms.sent.filter((m) => m.to === phone).at(-1)!.body)![1];
    const confirms = await Promise.all([0, 1].map(() => api.gql(CONFIRM, { input: { verificationId, code } })));
    const codes = confirms.map((r) => r.data.guestBookingConfirm.userErrors[0]?.code ?? 'BOOKED').sort();
    expect(codes).toEqual(['BOOKED', 'CODE_EXPIRED']);
    expect(await counts(b.business.id)).toEqual({ bookings: 1, customers: 2 });
  });

  it('refuses guest starts from one client IP past its budget, whatever the address, making no hold', async () => {
    const b = await createBookableBusiness(api.db, { slotCount: 8 });
    let refused: any = null;
    let held = 0;
    // Each earlier test spent part of the file's budget; every start here spends one more.
    for (let i = 0; i < IP_BUDGET && !refused; i++) {
      const res = await api.gql(START, { input: { businessId: b.business.gid, serviceId: b.service.gid, startsAt: b.partners[0].slots[i % 8].startsAt, name: 'Ivy', email: `ivy-${i}-${Date.now()}@guests.example` } });
      const [error] = res.data.guestBookingStart.userErrors;
      if (error?.code === 'RATE_LIMITED') refused = error;
      else if (!error) held++;
    }
    expect(refused).toMatchObject({ field: ['input', 'businessId'], message: expect.stringMatching(/^Too many guest bookings from this network: expected at most 20 per 3600 s/) });
    const holds = await sql<{ n: number }>`SELECT count(*)::int AS n FROM slot_holds WHERE business_id = ${b.business.id}::bigint`.execute(api.db);
    expect(holds.rows[0].n).toBe(held);
  });
});
