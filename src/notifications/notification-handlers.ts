import type { Db } from '../db/sql-helpers.js';
import type { BookingSnapshot } from '../events/booking-event.model.js';
import { toGlobalId } from '../shared/global-id.js';
import type { Logger } from '../shared/logger.js';
import { bookingCalendar, type CalendarMethod } from './icalendar.js';
import type { JobHandler } from './job-queue.js';
import type { Mailer, OutgoingMail } from './mailer.js';
import { findBookingMessageContext, findThreadMessageForEmail, JobKind, type BookingMessageContext } from './notification-jobs.repository.js';
import type { SmsProvider } from './sms.js';
import { localTime, renderMessage, type Audience, type MessageKind } from './templates.js';
import { unsubscribeUrl } from './unsubscribe-links.js';

export interface NotificationLinks {
  /** The public base URL of the app customers use (PUBLIC_APP_URL): manage/cancel links. */
  publicAppUrl: string;
  /** The public base URL of this API (PUBLIC_API_URL): the one-click unsubscribe route. */
  publicApiUrl: string;
  /** Signs unsubscribe links (NOTIFICATION_LINK_SECRET). */
  linkSecret: string;
}

export interface NotificationHandlerDeps {
  db: Db;
  mailer: Mailer;
  sms: SmsProvider;
  log: Logger;
  links: NotificationLinks;
  /** The From address (MAIL_FROM): the calendar invitation's organizer. */
  from: string;
  now: () => Date;
}

/** A booking e-mail job's payload, written by insertJobsForEvents. */
interface BookingEmailPayload {
  eventId: string;
  bookingId: string;
  type: 'BOOKING_CREATED' | 'BOOKING_CONFIRMED' | 'BOOKING_RESCHEDULED' | 'BOOKING_CANCELLED';
  audience: Audience | 'previous_partner';
  sequence: number;
  booking: BookingSnapshot;
  previous: Pick<BookingSnapshot, 'partnerId' | 'startsAt' | 'endsAt'> | null;
}

/** A reminder job's payload: the start it reminds of (a moved booking's reminder is rewritten). */
interface MessageEmailPayload {
  bookingId: string;
  messageId: string;
  senderSide: 'customer' | 'business';
}

interface ReminderPayload {
  bookingId: string;
  startsAt: string;
}

const KIND_OF_EVENT: Record<BookingEmailPayload['type'], MessageKind> = {
  BOOKING_CREATED: 'created',
  BOOKING_CONFIRMED: 'confirmed',
  BOOKING_RESCHEDULED: 'rescheduled',
  BOOKING_CANCELLED: 'cancelled',
};

function addressOf(from: string): string {
  return /<([^>]+)>/.exec(from)?.[1] ?? from.trim();
}

/** One UID per booking, for its whole life: calendars update the event in place. */
export function bookingUid(bookingId: string, from: string): string {
  return `booking-${bookingId}@${addressOf(from).split('@')[1] ?? 'booking-api'}`;
}

function localeOf(context: BookingMessageContext): string {
  return context.customerLocale ?? context.defaultLocale;
}

/**
 * The handlers of the notification jobs. Each reads what it needs when it runs (so an erased
 * customer or a cancelled booking is seen), and throws on a failed send to have the job retried.
 */
export function notificationHandlers(deps: NotificationHandlerDeps): Record<string, JobHandler> {
  const { db, mailer, sms, links, from, now } = deps;
  const manageUrl = (bookingId: string) => `${links.publicAppUrl}/bookings/${encodeURIComponent(toGlobalId('Booking', bookingId))}`;

  function mailFor(context: BookingMessageContext, kind: MessageKind, audience: Audience, snapshot: Pick<BookingSnapshot, 'startsAt' | 'endsAt'>, previousStartsAt: string | null, sequence: number | null): OutgoingMail[] {
    // The partner reads the business's locale; the customer their own, else the business's.
    const locale = audience === 'customer' ? localeOf(context) : context.defaultLocale;
    const optional = kind === 'reminder' && audience === 'customer';
    const unsubscribe = optional ? unsubscribeUrl(links, context.customerId) : null;
    const rendered = renderMessage(locale, kind, audience, {
      businessName: context.businessName,
      serviceName: context.serviceName,
      partnerName: context.partnerName,
      customerName: context.customerName,
      when: localTime(snapshot.startsAt, context.timeZone, locale),
      previousWhen: previousStartsAt ? localTime(previousStartsAt, context.timeZone, locale) : null,
      manageUrl: manageUrl(context.bookingId),
      unsubscribeUrl: unsubscribe,
    });
    // `.invalid` receives nothing (RFC 2606): erased records and phone-only guests carry such an address.
    const recipients = (audience === 'customer' ? [{ name: context.customerName, email: context.customerEmail }] : context.partnerEmails.map((email) => ({ name: context.partnerName, email }))).filter(
      (to) => !to.email.endsWith('.invalid'),
    );
    const method: CalendarMethod = kind === 'cancelled' || kind === 'reassigned' ? 'CANCEL' : 'REQUEST';
    return recipients.map((to) => ({
      to: to.email,
      subject: rendered.subject,
      text: rendered.text,
      headers: unsubscribe ? { 'List-Unsubscribe': `<${unsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : undefined,
      // Reminders carry no invitation: nothing changed, and a calendar would count it as an update.
      calendar:
        sequence === null
          ? undefined
          : {
              method,
              content: bookingCalendar({
                method,
                uid: bookingUid(context.bookingId, from),
                sequence,
                startsAt: snapshot.startsAt,
                endsAt: snapshot.endsAt,
                stamp: now(),
                summary: rendered.summary,
                description: rendered.text,
                url: manageUrl(context.bookingId),
                organizer: { name: context.businessName, email: addressOf(from) },
                attendee: { name: context.customerName, email: context.customerEmail },
              }),
            },
    }));
  }

  const sendBookingEmail: JobHandler = async (job) => {
    const p = job.payload as BookingEmailPayload;
    // The partner a booking moved away from: a cancellation of the old time for their calendar.
    const left = p.audience === 'previous_partner' && p.previous ? p.previous : null;
    const context = await findBookingMessageContext(db, p.bookingId, left ? left.partnerId : p.booking.partnerId);
    if (!context || context.erased) return;
    const mails = left
      ? mailFor(context, 'reassigned', 'partner', left, left.startsAt, p.sequence)
      : mailFor(context, KIND_OF_EVENT[p.type], p.audience as Audience, p.booking, p.previous?.startsAt ?? null, p.sequence);
    for (const mail of mails) await mailer.send(mail);
  };

  /** Whether a reminder still applies when it runs: the booking is live and still starts when the job says. */
  async function reminderContext(payload: ReminderPayload): Promise<BookingMessageContext | undefined> {
    const context = await findBookingMessageContext(db, payload.bookingId, null);
    if (!context || context.erased || context.remindersOptedOut) return undefined;
    if (context.status !== 'PENDING' && context.status !== 'CONFIRMED') return undefined;
    if (new Date(context.startsAt).getTime() !== new Date(payload.startsAt).getTime()) return undefined;
    return context;
  }

  const sendReminderEmail: JobHandler = async (job) => {
    const context = await reminderContext(job.payload as ReminderPayload);
    if (!context) return;
    for (const mail of mailFor(context, 'reminder', 'customer', context, null, null)) await mailer.send(mail);
  };

  const sendReminderSms: JobHandler = async (job) => {
    const context = await reminderContext(job.payload as ReminderPayload);
    if (!context?.customerPhone) return;
    const locale = localeOf(context);
    const when = localTime(context.startsAt, context.timeZone, locale);
    const body = locale.startsWith('ja') ? `リマインダー: ${context.businessName} ${when} ${manageUrl(context.bookingId)}` : `Reminder: ${context.businessName}, ${when}. ${manageUrl(context.bookingId)}`;
    await sms.send({ to: context.customerPhone, body });
  };

  /**
   * A message of a booking's thread, to the side that did not write it, if that side has not read
   * the thread that far since it was posted (the job runs MESSAGE_EMAIL_DELAY_SECONDS later): the
   * customer, or the members of the booking's partner. Nothing for an erased customer or an
   * address that receives nothing (`.invalid`: phone-only guests, erased records).
   */
  const sendMessageEmail: JobHandler = async (job) => {
    const p = job.payload as MessageEmailPayload;
    const message = await findThreadMessageForEmail(db, p.messageId);
    if (!message || !message.unread) return;
    const context = await findBookingMessageContext(db, message.bookingId, null);
    if (!context || context.erased) return;
    const toCustomer = message.senderSide === 'business';
    const locale = toCustomer ? localeOf(context) : context.defaultLocale;
    const recipients = (toCustomer ? [context.customerEmail] : context.partnerEmails).filter((email) => !email.endsWith('.invalid'));
    const ja = locale.startsWith('ja');
    const when = localTime(context.startsAt, context.timeZone, locale);
    const from = toCustomer ? context.businessName : context.customerName;
    const subject = ja ? `${from}から新しいメッセージ（${context.serviceName}、${when}）` : `New message from ${from} about ${context.serviceName} on ${when}`;
    const text = [ja ? `${from}からのメッセージ:` : `${from} wrote:`, '', message.body, '', `${ja ? '返信・予約の確認' : 'Reply or manage the booking'}: ${manageUrl(context.bookingId)}`, ''].join('\n');
    for (const to of recipients) await mailer.send({ to, subject, text });
  };

  return {
    [JobKind.BookingEmail]: sendBookingEmail,
    [JobKind.ReminderEmail]: sendReminderEmail,
    [JobKind.ReminderSms]: sendReminderSms,
    [JobKind.MessageEmail]: sendMessageEmail,
  };
}
