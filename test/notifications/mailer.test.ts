import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createMailer, FolderMailer, SmtpMailer } from '../../src/notifications/mailer.js';
import { startTestSmtpServer, type TestSmtpServer } from '../support/smtp.js';

const silent = { info() {}, warn() {}, error() {} } as never;
const calendar = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'METHOD:REQUEST', 'BEGIN:VEVENT', 'UID:b1@test', 'SEQUENCE:0', 'DTSTART:20261202T090000Z', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');

describe('Mailer', () => {
  let smtp: TestSmtpServer;
  beforeAll(async () => {
    smtp = await startTestSmtpServer();
  });
  afterAll(async () => {
    await smtp.close();
  });

  it('delivers over SMTP with its headers, text and calendar part', async () => {
    const mailer = new SmtpMailer(smtp.url, 'Salon <salon@example.test>');
    await mailer.send({ to: 'ana@example.test', subject: 'Booked: Haircut', text: 'See you.', headers: { 'List-Unsubscribe': '<https://example.test/u/1>' }, calendar: { method: 'REQUEST', content: calendar } });
    await mailer.close();
    const [mail] = await smtp.waitFor((r) => r.length === 1);
    expect(mail.to).toEqual(['ana@example.test']);
    expect(mail.parsed.subject).toBe('Booked: Haircut');
    expect(mail.parsed.text?.trim()).toBe('See you.');
    expect(mail.raw).toMatch(/^List-Unsubscribe: <https:\/\/example\.test\/u\/1>\r?$/m);
    expect(mail.raw).toMatch(/Content-Type: text\/calendar; charset=utf-8; method=REQUEST/i);
    expect(mail.raw).toContain('UID:b1@test');
  });

  it('writes each message to a file without SMTP_URL, and rejects an SMTP_URL that is not one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mail-'));
    try {
      const mailer = createMailer({ smtpUrl: undefined, from: 'a@example.test', dir }, silent);
      expect(mailer).toBeInstanceOf(FolderMailer);
      await mailer.send({ to: 'b@example.test', subject: 'Hello', text: 'Body' });
      const [file] = await readdir(dir);
      expect(await readFile(join(dir, file), 'utf8')).toMatch(/Subject: Hello[\s\S]*Body/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(() => loadConfig({ SMTP_URL: 'http://mail.example.test' })).toThrow(/Expected SMTP_URL to be an smtp:\/\/ or smtps:\/\/ URL/);
    expect(loadConfig({ SMTP_URL: 'smtp://u:p@mail.example.test:587' }).mail.smtpUrl).toBe('smtp://u:p@mail.example.test:587');
  });
});
