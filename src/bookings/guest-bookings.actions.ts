import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { GuestBookingConfirmInput, GuestBookingStartInput } from '../__generated__/resolvers-types.js';
import type { CustomerModel } from '../customers/customer.model.js';
import { upsertGuestCustomer } from '../customers/customer-accounts.repository.js';
import { claimLockedHold } from '../holds/hold-claims.js';
import { insertSlotHold, lockSlotHoldById } from '../holds/slot-holds.repository.js';
import type { Mailer } from '../notifications/mailer.js';
import type { SmsProvider } from '../notifications/sms.js';
import { refusalMessage, type RateLimits } from '../server/rate-limits.js';
import type { Db } from '../db/sql-helpers.js';
import { combine, type Step } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { abort } from '../shared/user-errors.js';
import { markSlotsHeld } from '../slots/slot-claims.repository.js';
import { claimTimeIn, rawIdOrAbort } from '../slots/slot-claims.js';
import type { BookingModel } from './booking.model.js';
import { bookClaim, transitionBooking } from './bookings.actions.js';
import { lockBookingById } from './bookings.repository.js';
import { countAttempt, findBookingIdByManageToken, findDeadVerification, insertGuestVerification, lockOpenVerification, markVerificationConfirmed, type GuestVerificationModel } from './guest-verifications.repository.js';

/**
 * Guest booking: someone without an account books with a name and an e-mail address or phone
 * number, proven by a one-time code. guestBookingStart holds the time exactly as slotHold does (the
 * same claim, the same locks) for GUEST_CODE_MINUTES, with no customer yet, and sends a 6-digit
 * code; guestBookingConfirm, given the code, finds or creates the business's customer for that
 * address and books the hold in one transaction through the booking's own step (bookClaim). Until
 * then no booking exists; an unconfirmed hold lapses like any other.
 *
 * Only a salted SHA-256 of the code is stored. A 6-digit code is guessable offline from its hash
 * in a million tries, which is why it lives 10 minutes and every attempt (right or wrong) is
 * counted in its own statement before the code is compared: at most 5, then it is dead.
 */

export const GUEST_CODE_MINUTES = 10;
export const GUEST_CODE_ATTEMPTS = 5;
const MAX_NAME = 200;
const MAX_EMAIL = 254;
const E164 = /^\+[1-9][0-9]{6,14}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const CODE = /^[0-9]{6}$/;
const PUBLIC_ID = /^[A-Za-z0-9_-]{22}$/;
const VERIFICATION_FIELD = ['input', 'verificationId'];

export interface GuestContact {
  name: string;
  email: string | null;
  phone: string | null;
}

/** The guest's name and address, checked and normalized: one of e-mail (lower-cased) or E.164 phone. */
export function checkGuestContact(input: Pick<GuestBookingStartInput, 'name' | 'email' | 'phone'>): GuestContact {
  const name = input.name.trim();
  if (!name.length || name.length > MAX_NAME) abort('INVALID_INPUT', `Expected a name of 1 to ${MAX_NAME} characters, got ${name.length}.`, ['input', 'name']);
  const email = input.email?.trim().toLowerCase() || null;
  const phone = input.phone?.replace(/[\s()-]/g, '') || null;
  if ((email === null) === (phone === null)) abort('INVALID_INPUT', 'Expected `email` or `phone`, exactly one of them.', ['input', email ? 'phone' : 'email']);
  if (email !== null && (email.length > MAX_EMAIL || !EMAIL.test(email))) abort('INVALID_INPUT', `Expected an e-mail address, got "${input.email}".`, ['input', 'email']);
  if (phone !== null && !E164.test(phone)) abort('INVALID_INPUT', `Expected a phone number in E.164 form (+819012345678), got "${input.phone}".`, ['input', 'phone']);
  return { name, email, phone };
}

/** One point per start from the address's and the client IP's budgets, in one round trip; RATE_LIMITED when either is spent. */
export async function chargeGuestCode(rateLimits: RateLimits, contact: GuestContact, clientIp: string | undefined): Promise<void> {
  const address = contact.email ? `email:${contact.email}` : `phone:${contact.phone}`;
  const verdict = await rateLimits.consume([
    { bucket: 'guestCodes', key: createHash('sha256').update(address).digest('base64url'), points: 1 },
    { bucket: 'guestCodesByIp', key: `ip:${clientIp ?? 'unknown'}`, points: 1 },
  ]);
  if (!verdict.allowed) abort('RATE_LIMITED', refusalMessage(verdict), ['input', verdict.bucket === 'guestCodes' ? (contact.email ? 'email' : 'phone') : 'businessId']);
}

function hashCode(salt: string, code: string): string {
  return createHash('sha256').update(`${salt}:${code}`).digest('hex');
}

/** A fresh code and what is stored of it. */
export function newGuestCode(): { code: string; salt: string; codeHash: string } {
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const salt = randomBytes(16).toString('base64url');
  return { code, salt, codeHash: hashCode(salt, code) };
}

export interface StartedGuestBooking {
  id: string;
  verification: GuestVerificationModel;
  /** The code to send; only in the run that made it (a replay has none). */
  code?: string;
}

/** Holds the time for the guest and records the verification; the code is sent after the commit. */
export async function startGuestBooking(trx: Trx, input: GuestBookingStartInput, prepared: { contact: GuestContact; code: string; salt: string; codeHash: string }): Promise<Step<StartedGuestBooking>> {
  const businessId = rawIdOrAbort(input.businessId, 'Business', 'businessId');
  const claim = await claimTimeIn(trx, businessId, input);
  const hold = await insertSlotHold(trx, { businessId, customerId: null, partnerId: claim.partnerId, serviceId: claim.service.id, startsAt: claim.startsAt, endsAt: claim.endsAt, minutes: GUEST_CODE_MINUTES });
  const slotIds = claim.slots.map((s) => s.id);
  await markSlotsHeld(trx, slotIds, hold.id, hold.expiresAt);
  const { contact } = prepared;
  const verification = await insertGuestVerification(trx, { publicId: randomBytes(16).toString('base64url'), businessId, holdId: hold.id, ...contact, salt: prepared.salt, codeHash: prepared.codeHash, maxAttempts: GUEST_CODE_ATTEMPTS, expiresAt: hold.expiresAt });
  return {
    value: { id: verification.id, verification, code: prepared.code },
    changes: [{ action: 'slot.held', businessId, partnerIds: [hold.partnerId], ranges: [{ startsAt: hold.startsAt, endsAt: hold.endsAt }] }],
    // No name or address in the audit row (customerErase could not take them back out).
    audit: [{ businessId, entity: 'hold', entityId: hold.id, action: 'hold.created', changes: { after: { guest: true, verificationId: verification.id, partnerId: hold.partnerId, serviceId: hold.serviceId, startsAt: hold.startsAt, endsAt: hold.endsAt, expiresAt: hold.expiresAt, slotIds } } }],
  };
}

/** Sends the code by e-mail or text message (outside any transaction). */
export async function deliverGuestCode(services: { mailer: Mailer; sms: SmsProvider }, verification: GuestVerificationModel, code: string): Promise<void> {
  const text = `Your booking code is ${code}. It is valid for ${GUEST_CODE_MINUTES} minutes; the time is held for you until then. If you did not ask for it, ignore this message.`;
  if (verification.email) await services.mailer.send({ to: verification.email, subject: `Your booking code: ${code}`, text: `Hello ${verification.name},\n\n${text}\n` });
  else await services.sms.send({ to: verification.phone!, body: text });
}

/**
 * Counts the attempt and compares the code, outside the transaction (the count must outlive a
 * refusal). Every refusal is a user error and changes nothing but the count.
 */
export async function checkGuestCode(db: Db, input: GuestBookingConfirmInput): Promise<GuestVerificationModel> {
  const id = input.verificationId;
  if (!PUBLIC_ID.test(id)) abort('NOT_FOUND', `No guest booking verification with ID "${id}".`, VERIFICATION_FIELD);
  if (!CODE.test(input.code)) abort('INVALID_INPUT', `Expected the 6 digits sent, got "${input.code}".`, ['input', 'code']);
  const attempt = await countAttempt(db, id);
  if (!attempt) {
    const dead = await findDeadVerification(db, id);
    if (!dead) abort('NOT_FOUND', `No guest booking verification with ID "${input.verificationId}".`, VERIFICATION_FIELD);
    if (dead.confirmed) abort('CODE_EXPIRED', 'The code was used already: the booking is made.', VERIFICATION_FIELD);
    if (dead.expired) abort('CODE_EXPIRED', `The code lapsed ${GUEST_CODE_MINUTES} minutes after it was sent, and the hold with it; start again.`, VERIFICATION_FIELD);
    abort('CODE_ATTEMPTS_EXCEEDED', `The code was tried ${GUEST_CODE_ATTEMPTS} times and is dead; start again.`, VERIFICATION_FIELD);
  }
  const given = Buffer.from(hashCode(attempt.salt, input.code), 'hex');
  if (!timingSafeEqual(given, Buffer.from(attempt.codeHash, 'hex'))) {
    const left = attempt.maxAttempts - attempt.attempts;
    if (left === 0) abort('CODE_ATTEMPTS_EXCEEDED', `Wrong code, and that was the last of ${attempt.maxAttempts} attempts: the code is dead; start again.`, ['input', 'code']);
    abort('CODE_INVALID', `Wrong code; ${left} attempt${left === 1 ? '' : 's'} left.`, ['input', 'code']);
  }
  const { salt: _salt, codeHash: _hash, attempts: _attempts, maxAttempts: _max, ...verification } = attempt;
  return verification;
}

export interface ConfirmedGuestBooking {
  id: string;
  booking: BookingModel;
  customer: CustomerModel;
  /** Shown once; only its SHA-256 is kept. Absent on a replay. */
  manageToken?: string;
}

export function hashManageToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The customer record and the booking from the hold, in one transaction; the verification is used up. */
export async function confirmGuestBooking(trx: Trx, checked: GuestVerificationModel): Promise<Step<ConfirmedGuestBooking>> {
  const verification = await lockOpenVerification(trx, checked.id);
  if (!verification) abort('CODE_EXPIRED', 'The code was used already: the booking is made.', VERIFICATION_FIELD);
  const hold = await lockSlotHoldById(trx, verification.holdId);
  if (!hold || hold.customerId !== null) throw new Error(`Expected guest verification ${verification.id} to hold guest hold ${verification.holdId}, got ${hold ? 'a customer\'s hold' : 'none'}.`);
  const { created, ...customer } = await upsertGuestCustomer(trx, { businessId: verification.businessId, name: verification.name, email: verification.email, phone: verification.phone });
  const claim = await claimLockedHold(trx, hold, customer, {}, VERIFICATION_FIELD);
  const booked = await bookClaim(trx, { ...claim, customer, registration: {} });
  const manageToken = randomBytes(32).toString('base64url');
  await markVerificationConfirmed(trx, verification.id, booked.value.id, hashManageToken(manageToken));
  const registered = created
    ? { audit: [{ businessId: customer.businessId, entity: 'customer' as const, entityId: customer.id, action: 'customer.registered', changes: { after: { guest: true, verificationId: verification.id } } }] }
    : {};
  const confirmed = { audit: [{ businessId: customer.businessId, entity: 'guest_verification' as const, entityId: verification.id, action: 'guest_verification.confirmed', changes: { after: { bookingId: booked.value.id, customerId: customer.id } } }] };
  return { value: { id: booked.value.id, booking: booked.value, customer, manageToken }, ...combine(registered, booked, confirmed) };
}

const MANAGE_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Cancels the booking a manage token was handed out for, through the one status change every cancellation takes. */
export async function cancelGuestBooking(trx: Trx, manageToken: string, reason: string | null): Promise<Step<BookingModel>> {
  const bookingId = MANAGE_TOKEN.test(manageToken) ? await findBookingIdByManageToken(trx, hashManageToken(manageToken)) : undefined;
  const booking = bookingId ? await lockBookingById(trx, bookingId) : undefined;
  if (!booking) abort('NOT_FOUND', 'No booking for this manage token.', ['input', 'manageToken']);
  return transitionBooking(trx, booking, 'CANCELLED', { cancelReason: reason, note: { by: 'guest manage token' } });
}
