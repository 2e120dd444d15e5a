/**
 * How many notifications one API process sends per second, and the queue's SQL statements per job.
 *
 * Starts the app in this process on a fresh database (PostgreSQL from DATABASE_URL, else embedded),
 * with an in-process SMTP server as the relay, writes BOOKINGS bookings and their BOOKING_CREATED
 * events (each makes two e-mail jobs: customer and partner, and two reminder jobs), lets the relay
 * create the jobs, then runs the worker until every due job is done and times it.
 *   DATABASE_URL=postgres://... npx tsx bench/notifications.ts      # BOOKINGS=400
 * The SMTP server parses every message (mailparser) in the same process: the rate is a lower bound.
 */
import { sql } from 'kysely';
import { startApp } from '../src/app.js';
import { TEST_JWT_SECRET } from '../test/support/api.js';
import { addMembership } from '../test/support/accounts.js';
import { createBooking, createBusiness, createCustomers, createPartner, createService, createSlots } from '../test/support/builders.js';
import { openIsolatedTestDatabase } from '../test/support/database.js';
import { startTestSmtpServer } from '../test/support/smtp.js';
import { upsertAccount } from '../src/accounts/accounts.repository.js';
import type { Mailer } from '../src/notifications/mailer.js';

const count = Number(process.env.BOOKINGS ?? 400);

/** Counts what it is given as received, sends nothing. */
function nullMailer(smtp: { received: unknown[] }): Mailer {
  let n = 0;
  return { send: async () => (smtp.received.push({}), { messageId: `null-${n++}` }), close: async () => {} };
}

async function main() {
  const database = await openIsolatedTestDatabase();
  const smtp = await startTestSmtpServer();
  const app = await startApp(
    { host: '127.0.0.1', port: 0, auth: { jwtSecret: TEST_JWT_SECRET, jwksUrl: undefined, issuer: undefined, audience: undefined }, slowQueryMs: 60_000,
      mail: { smtpUrl: smtp.url, from: 'Bench <bench@bench.example>', dir: '' },
      notifications: { pollIntervalMs: 600_000, maxAttempts: 3, retryBaseMs: 1000, publicAppUrl: 'https://app.example', publicApiUrl: 'https://api.example', linkSecret: 'bench', messageEmailDelaySeconds: 0 } },
    database,
    // NULL_MAILER=1: a mailer that accepts at once, to tell the queue's cost from SMTP's.
    { log: { info() {}, error: (m, c) => console.error(m, c) }, mailer: process.env.NULL_MAILER ? nullMailer(smtp) : undefined },
  );
  const db = database.db;
  const business = await createBusiness(db);
  const service = await createService(db, business, { durationMinutes: 30 });
  const partner = await createPartner(db, business);
  const account = await upsertAccount(db, { issuer: '', subject: 'bench-partner', email: 'partner@bench.example', name: 'Partner' });
  await addMembership(db, { id: account }, business, 'partner', partner);
  const customers = await createCustomers(db, business, count);
  const slots = await createSlots(db, business, partner, new Date(Date.now() + 3 * 86_400_000), count, { minutes: 30 });
  const bookings = [];
  for (let i = 0; i < count; i++) bookings.push(await createBooking(db, { business, service, partner, customer: customers[i], slots: [slots[i]] }));
  await sql`INSERT INTO booking_events (business_id, booking_id, partner_ids, type, data)
    SELECT ${business.id}::bigint, b.id, ARRAY[b.partner_id], 'BOOKING_CREATED',
           jsonb_build_object('booking', jsonb_build_object('status', 'PENDING', 'partnerId', b.partner_id::text, 'startsAt', to_char(b.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'endsAt', to_char(b.ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
    FROM bookings b WHERE b.business_id = ${business.id}::bigint`.execute(db);

  let before = database.backgroundStatementCount();
  await app.relay.kick();
  const relayStatements = database.backgroundStatementCount() - before;
  const jobs = Number((await sql<{ n: string }>`SELECT count(*) AS n FROM notification_jobs WHERE kind = 'booking_email'`.execute(db)).rows[0].n);

  before = database.backgroundStatementCount();
  const started = performance.now();
  await app.notifications!.kick();
  await smtp.waitFor((r) => r.length >= 2 * count, 120_000);
  const seconds = (performance.now() - started) / 1000;
  const workerStatements = database.backgroundStatementCount() - before;
  const done = Number((await sql<{ n: string }>`SELECT count(*) AS n FROM notification_jobs WHERE status = 'done'`.execute(db)).rows[0].n);

  console.log(JSON.stringify({
    backend: database.backend,
    bookings: count,
    emailJobs: jobs,
    done,
    mailsReceived: smtp.received.length,
    seconds: Number(seconds.toFixed(2)),
    mailsPerSecond: Math.round(smtp.received.length / seconds),
    relayStatements,
    workerStatements,
    workerStatementsPerJob: Number((workerStatements / done).toFixed(2)),
  }));
  await app.stop();
  await smtp.close();
  await database.close();
}

void main().catch((error) => {
  console.error(error);
  process.exit(1);
});
