import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { MailConfig } from '../config.js';
import type { Logger } from '../shared/logger.js';

/** A file sent with a message. */
export interface MailAttachment {
  filename: string;
  content: string;
  contentType: string;
}

/** An iCalendar invitation sent as the message's text/calendar alternative (calendars update in place). */
export interface CalendarPart {
  /** RFC 5546 method: REQUEST for a new or changed booking, CANCEL for a cancelled one. */
  method: 'REQUEST' | 'CANCEL' | 'PUBLISH';
  /** The whole VCALENDAR object. */
  content: string;
}

/** One e-mail, as every transport takes it. `from` defaults to MAIL_FROM. */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html?: string;
  from?: string;
  /** Extra headers, e.g. List-Unsubscribe. */
  headers?: Record<string, string>;
  attachments?: MailAttachment[];
  calendar?: CalendarPart;
}

/** Sends e-mail. SMTP in earnest (SMTP_URL); without it, development writes messages to a folder and the log. */
export interface Mailer {
  /** Resolves once the transport accepted the message; rejects when it did not (the caller retries). */
  send(mail: OutgoingMail): Promise<{ messageId: string }>;
  close(): Promise<void>;
}

type NodemailerMessage = Parameters<Transporter['sendMail']>[0];

function toNodemailer(mail: OutgoingMail, from: string): NodemailerMessage {
  return {
    from: mail.from ?? from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    headers: mail.headers,
    attachments: mail.attachments?.map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType })),
    icalEvent: mail.calendar ? { method: mail.calendar.method, content: mail.calendar.content, filename: 'invite.ics' } : undefined,
  };
}

/** SMTP connections kept open by one process (a setting in the URL, `?maxConnections=`, wins). */
const SMTP_POOL_CONNECTIONS = 5;

/** Through an SMTP server (`smtp://user:pass@host:port`, `smtps://...` for implicit TLS). */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(
    url: string,
    private readonly from: string,
  ) {
    // Pooled: a few connections kept open and reused. Unpooled, nodemailer opens (and greets, and
    // quits) one SMTP connection per message: 23 messages/s here instead of the pool's rate.
    this.transport = nodemailer.createTransport({ url, pool: true, maxConnections: SMTP_POOL_CONNECTIONS, maxMessages: 1000 });
  }

  async send(mail: OutgoingMail): Promise<{ messageId: string }> {
    const info = await this.transport.sendMail(toNodemailer(mail, this.from));
    return { messageId: info.messageId };
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/**
 * Development without SMTP: each message is built exactly as SMTP would carry it and written to
 * `dir` as an .eml file (open it in any mail client); the log gets one line with its recipient,
 * subject and file. Never used in production (config.ts refuses MAIL_DIR there).
 */
export class FolderMailer implements Mailer {
  private readonly transport: Transporter;
  private ready: Promise<unknown> | null = null;

  constructor(
    private readonly dir: string,
    private readonly from: string,
    private readonly log: Logger,
  ) {
    this.transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  }

  async send(mail: OutgoingMail): Promise<{ messageId: string }> {
    this.ready ??= mkdir(this.dir, { recursive: true });
    await this.ready;
    const info = (await this.transport.sendMail(toNodemailer(mail, this.from))) as { messageId: string; message: Buffer };
    const file = join(this.dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${info.messageId.replace(/[^A-Za-z0-9]/g, '').slice(0, 24)}.eml`);
    await writeFile(file, info.message);
    this.log.info('E-mail written to a file (no SMTP_URL)', { to: mail.to, subject: mail.subject, file });
    return { messageId: info.messageId };
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/** SMTP when SMTP_URL is set, else the development folder. */
export function createMailer(config: MailConfig, log: Logger): Mailer {
  return config.smtpUrl ? new SmtpMailer(config.smtpUrl, config.from) : new FolderMailer(config.dir, config.from, log);
}
