/**
 * The words of booking messages, per locale. A locale without templates falls back to English;
 * `templateLocaleOf` picks the one used ("ja-JP" -> "ja").
 */

/** `reassigned`: the partner a booking moved away from (to another partner). */
export type MessageKind = 'created' | 'confirmed' | 'rescheduled' | 'cancelled' | 'reminder' | 'reassigned';
export type Audience = 'customer' | 'partner';

export interface MessageFacts {
  businessName: string;
  serviceName: string;
  partnerName: string;
  customerName: string;
  /** The start in the business's time zone, formatted for the locale. */
  when: string;
  /** Before a reschedule, formatted the same way. */
  previousWhen: string | null;
  manageUrl: string;
  unsubscribeUrl: string | null;
}

export interface RenderedMessage {
  subject: string;
  text: string;
  /** The calendar event's title. */
  summary: string;
}

interface LocaleTemplates {
  subject(kind: MessageKind, audience: Audience, f: MessageFacts): string;
  lead(kind: MessageKind, audience: Audience, f: MessageFacts): string;
  details(f: MessageFacts): string[];
  manage: string;
  unsubscribe: string;
  summary(f: MessageFacts): string;
}

const EN: LocaleTemplates = {
  subject(kind, audience, f) {
    if (audience === 'partner') {
      return { created: `New booking: ${f.customerName}, ${f.when}`, confirmed: `Booking confirmed: ${f.customerName}, ${f.when}`, rescheduled: `Booking moved: ${f.customerName}, now ${f.when}`, cancelled: `Booking cancelled: ${f.customerName}, ${f.when}`, reminder: `Reminder: ${f.customerName}, ${f.when}`, reassigned: `Booking moved to another partner: ${f.customerName}, ${f.previousWhen}` }[kind];
    }
    return { created: `Your booking at ${f.businessName}`, confirmed: `Confirmed: your booking at ${f.businessName}`, rescheduled: `Moved: your booking at ${f.businessName}`, cancelled: `Cancelled: your booking at ${f.businessName}`, reminder: `Reminder: ${f.businessName}, ${f.when}`, reassigned: `Moved: your booking at ${f.businessName}` }[kind];
  },
  lead(kind, audience, f) {
    if (audience === 'partner') {
      return { created: `${f.customerName} booked ${f.serviceName} with you.`, confirmed: `The booking of ${f.customerName} is confirmed.`, rescheduled: `The booking of ${f.customerName} moved from ${f.previousWhen}.`, cancelled: `The booking of ${f.customerName} was cancelled.`, reminder: `You have a booking with ${f.customerName}.`, reassigned: `The booking of ${f.customerName} on ${f.previousWhen} moved to another partner: it is off your calendar.` }[kind];
    }
    return {
      created: `Hello ${f.customerName}, we received your booking at ${f.businessName}.`,
      confirmed: `Hello ${f.customerName}, your booking at ${f.businessName} is confirmed.`,
      rescheduled: `Hello ${f.customerName}, your booking at ${f.businessName} moved from ${f.previousWhen}.`,
      cancelled: `Hello ${f.customerName}, your booking at ${f.businessName} was cancelled.`,
      reminder: `Hello ${f.customerName}, a reminder of your booking at ${f.businessName}.`,
      reassigned: `Hello ${f.customerName}, your booking at ${f.businessName} moved.`,
    }[kind];
  },
  details: (f) => [`When: ${f.when}`, `What: ${f.serviceName}`, `With: ${f.partnerName}`],
  manage: 'See, move or cancel it:',
  unsubscribe: 'No more reminders:',
  summary: (f) => `${f.serviceName} at ${f.businessName}`,
};

const JA: LocaleTemplates = {
  subject(kind, audience, f) {
    if (audience === 'partner') {
      return { created: `新しい予約: ${f.customerName}様 ${f.when}`, confirmed: `予約確定: ${f.customerName}様 ${f.when}`, rescheduled: `予約変更: ${f.customerName}様 ${f.when}`, cancelled: `予約キャンセル: ${f.customerName}様 ${f.when}`, reminder: `リマインダー: ${f.customerName}様 ${f.when}`, reassigned: `担当変更: ${f.customerName}様 ${f.previousWhen}` }[kind];
    }
    return { created: `${f.businessName}のご予約を承りました`, confirmed: `${f.businessName}のご予約が確定しました`, rescheduled: `${f.businessName}のご予約が変更されました`, cancelled: `${f.businessName}のご予約がキャンセルされました`, reminder: `リマインダー: ${f.businessName} ${f.when}`, reassigned: `${f.businessName}のご予約が変更されました` }[kind];
  },
  lead(kind, audience, f) {
    if (audience === 'partner') {
      return { created: `${f.customerName}様から${f.serviceName}のご予約が入りました。`, confirmed: `${f.customerName}様のご予約が確定しました。`, rescheduled: `${f.customerName}様のご予約が${f.previousWhen}から変更されました。`, cancelled: `${f.customerName}様のご予約がキャンセルされました。`, reminder: `${f.customerName}様のご予約があります。`, reassigned: `${f.customerName}様の${f.previousWhen}のご予約は別の担当者に変更されました。` }[kind];
    }
    return {
      created: `${f.customerName}様、${f.businessName}のご予約を承りました。`,
      confirmed: `${f.customerName}様、${f.businessName}のご予約が確定しました。`,
      rescheduled: `${f.customerName}様、${f.businessName}のご予約が${f.previousWhen}から変更されました。`,
      cancelled: `${f.customerName}様、${f.businessName}のご予約はキャンセルされました。`,
      reminder: `${f.customerName}様、${f.businessName}のご予約のお知らせです。`,
      reassigned: `${f.customerName}様、${f.businessName}のご予約が変更されました。`,
    }[kind];
  },
  details: (f) => [`日時: ${f.when}`, `メニュー: ${f.serviceName}`, `担当: ${f.partnerName}`],
  manage: 'ご予約の確認・変更・キャンセル:',
  unsubscribe: 'リマインダーの配信停止:',
  summary: (f) => `${f.businessName} ${f.serviceName}`,
};

const TEMPLATES: Record<string, LocaleTemplates> = { en: EN, ja: JA };

/** The template locale for a BCP 47 locale: its language when we have templates for it, else English. */
export function templateLocaleOf(locale: string): string {
  const language = locale.split('-')[0].toLowerCase();
  return language in TEMPLATES ? language : 'en';
}

/** A start time as the recipient reads it: the business's time zone, the locale's format, the zone named. */
export function localTime(instant: string, timeZone: string, locale: string): string {
  return new Intl.DateTimeFormat(templateLocaleOf(locale) === 'ja' ? 'ja-JP' : 'en-GB', { timeZone, weekday: 'long', year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }).format(new Date(instant));
}

export function renderMessage(locale: string, kind: MessageKind, audience: Audience, facts: MessageFacts): RenderedMessage {
  const t = TEMPLATES[templateLocaleOf(locale)];
  const lines = [t.lead(kind, audience, facts), '', ...t.details(facts), '', t.manage, facts.manageUrl];
  if (facts.unsubscribeUrl) lines.push('', t.unsubscribe, facts.unsubscribeUrl);
  return { subject: t.subject(kind, audience, facts), text: `${lines.join('\n')}\n`, summary: t.summary(facts) };
}
