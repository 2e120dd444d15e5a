/** One text message. */
export interface OutgoingSms {
  /** E.164 phone number, e.g. +819012345678. */
  to: string;
  body: string;
}

/** Sends text messages; a real provider (Twilio, Vonage...) plugs in behind this, next to `test`. */
export interface SmsProvider {
  readonly name: string;
  send(message: OutgoingSms): Promise<{ id: string }>;
}

/**
 * Records what it is asked to send and sends nothing: development and tests (tests read `sent`).
 * Stands where a real provider's client would, behind the same interface.
 */
export class TestSmsProvider implements SmsProvider {
  readonly name = 'test';
  readonly sent: Array<OutgoingSms & { id: string; at: Date }> = [];
  private next = 1;

  async send(message: OutgoingSms): Promise<{ id: string }> {
    const id = `sms_test_${this.next++}`;
    this.sent.push({ ...message, id, at: new Date() });
    return { id };
  }
}
