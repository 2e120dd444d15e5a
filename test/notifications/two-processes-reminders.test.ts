import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevelopmentToken } from '../../src/auth/tokens.js';
import { rawIdOf } from '../../src/shared/global-id.js';
import { TEST_JWT_SECRET } from '../support/api.js';
import { startApiProcess, type ApiProcess } from '../support/api-process.js';
import { createBusiness, createCustomer, createPartner, createService, createSlots } from '../support/builders.js';
import { onRealPostgres, openIsolatedTestDatabase } from '../support/database.js';
import { startTestSmtpServer, type TestSmtpServer } from '../support/smtp.js';

const CREATE = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { code message } } }`;
const RESCHEDULE = `mutation($input: BookingRescheduleInput!) { bookingReschedule(input: $input) { booking { id } userErrors { code message } } }`;
const CANCEL = `mutation($input: BookingCancelInput!) { bookingCancel(input: $input) { booking { id } userErrors { code message } } }`;

/**
 * Two real API processes over one PostgreSQL, both running the notification worker every 50 ms
 * against one SMTP server: every e-mail arrives exactly once, reminders included. The processes
 * go by the real clock, so "the reminder time comes" is played by moving the reminders' run_at
 * into the past (the in-process test moves the clock instead).
 */
describe.skipIf(!onRealPostgres)('Notifications across two API processes', () => {
  let smtp: TestSmtpServer;
  let database: Awaited<ReturnType<typeof openIsolatedTestDatabase>>;
  let processes: ApiProcess[] = [];

  beforeAll(async () => {
    smtp = await startTestSmtpServer();
    database = await openIsolatedTestDatabase();
    const env = { DATABASE_URL: database.url!, SMTP_URL: smtp.url, MAIL_FROM: 'Bookings <bookings@two.example>', NOTIFICATION_POLL_INTERVAL_MS: '50', EVENT_RELAY_INTERVAL_MS: '200' };
    processes = await Promise.all([startApiProcess(env), startApiProcess(env)]);
  }, 60_000);
  afterAll(async () => {
    const codes = await Promise.all(processes.map((p) => p.stop()));
    await database?.close();
    await smtp?.close();
    expect(codes).toEqual(processes.map(() => 0));
  });

  it('sends each booking e-mail and each reminder once, moves the moved booking\'s reminder and drops the cancelled one\'s', async () => {
    const db = database.db;
    const business = await createBusiness(db, { timeZone: 'Europe/Berlin' });
    const service = await createService(db, business, { durationMinutes: 30 });
    const partner = await createPartner(db, business);
    const start = new Date(Date.now() + 3 * 24 * 3_600_000);
    start.setUTCMinutes(0, 0, 0);
    const slots = await createSlots(db, business, partner, start, 8, { minutes: 30 });
    const customers = await Promise.all(slots.slice(0, 6).map((_, i) => createCustomer(db, business, { email: `c${i}@two.example` })));
    const staff = await signDevelopmentToken(TEST_JWT_SECRET, { sub: 'staff', role: 'staff', business_id: business.gid });
    const send = async (process: ApiProcess, query: string, input: Record<string, unknown>) => {
      const res = await fetch(process.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${staff}` }, body: JSON.stringify({ query, variables: { input } }) });
      const payload = Object.values(((await res.json()) as any).data)[0] as any;
      expect(payload.userErrors).toEqual([]);
      return payload.booking.id as string;
    };
    // Alternating processes: each relays its own events, and both workers claim from one queue.
    const ids: string[] = [];
    for (const [i, customer] of customers.entries()) ids.push(await send(processes[i % 2], CREATE, { serviceId: service.gid, customerId: customer.gid, slotIds: [slots[i].gid] }));
    await send(processes[1], RESCHEDULE, { bookingId: ids[0], startsAt: slots[7].startsAt });
    await send(processes[0], CANCEL, { bookingId: ids[1] });
    await smtp.waitFor((received) => received.length >= 8, 10_000);

    // The reminder time comes for every pending reminder (the cancelled booking's was dropped).
    const due = await db.updateTable('notification_jobs').set({ run_at: new Date(Date.now() - 1000) }).where('kind', '=', 'booking_reminder_email').where('status', '=', 'pending').returning('key').execute();
    expect(due).toHaveLength(5);
    await smtp.waitFor((received) => received.length >= 13, 10_000);
    // Both workers keep polling meanwhile: nothing more arrives.
    await new Promise((r) => setTimeout(r, 500));

    const subjects = smtp.received.map((m) => `${m.to[0]} ${m.parsed.subject!.split(':')[0]}`).sort();
    expect(subjects).toEqual(
      [
        ...customers.map((c) => `${c.email} Your booking at ${'Business ' + business.slug}`),
        `${customers[0].email} Moved`,
        `${customers[1].email} Cancelled`,
        ...customers.filter((_, i) => i !== 1).map((c) => `${c.email} Reminder`),
      ].sort(),
    );
    const reminders = await db.selectFrom('notification_jobs').select(['key', 'status', 'attempts', 'payload']).where('kind', '=', 'booking_reminder_email').orderBy('key').execute();
    const rawIds = ids.map((id) => rawIdOf(id, 'Booking')!);
    expect(reminders.map((r) => [r.key, r.status]).sort()).toEqual(rawIds.map((id, i) => [id, i === 1 ? 'dropped' : 'done']).sort());
    expect((reminders.find((r) => r.key === rawIds[0])!.payload as { startsAt: string }).startsAt).toBe(slots[7].startsAt);
    expect(reminders.filter((r) => r.status === 'done').every((r) => r.attempts === 1)).toBe(true);
  });
});
