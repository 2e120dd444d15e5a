import type { BookingStatusColumn, BusinessKindColumn } from '../db/tables.js';

/**
 * The demo data itself: five businesses, their calendar and how many bookings of each status they
 * get. No code: demo-planner.ts places the bookings, demo-onboarding.ts creates the catalog through
 * the onboarding actions, demo-data.ts writes the rest.
 */

/** The demo businesses, one per kind; `urban-fix` doubles as the "already seeded" marker. */
export const DEMO_SLUGS = [
  'urban-fix',
  'glow-studio',
  'green-light-driving',
  'north-end-barbers',
  'clear-mind-clinic',
] as const;


/** A name (and description) in another locale than the business's default (`en`), keyed by locale. */
export type TranslationsSpec = Record<string, { name: string; description?: string }>;

export interface ServiceSpec {
  name: string;
  minutes: 30 | 60 | 90;
  priceCents: number;
  active?: false;
  translations?: TranslationsSpec;
}
export interface PartnerSpec {
  name: string;
  city?: string;
  active?: false;
}
export interface BusinessSpec {
  slug: (typeof DEMO_SLUGS)[number];
  name: string;
  kind: BusinessKindColumn;
  city: string;
  timeZone: string;
  currency: string;
  services: ServiceSpec[];
  partners: PartnerSpec[];
  customers: Array<[name: string, email: string]>;
  translations?: TranslationsSpec;
}

export const BUSINESSES: BusinessSpec[] = [
  {
    slug: 'urban-fix',
    name: 'Urban Fix',
    kind: 'marketplace',
    city: 'Berlin',
    timeZone: 'Europe/Berlin',
    currency: 'EUR',
    services: [
      { name: 'Leaking tap repair', minutes: 30, priceCents: 4900 },
      { name: 'Emergency plumbing call-out', minutes: 60, priceCents: 11900 },
      { name: 'Electrical safety inspection', minutes: 90, priceCents: 14900 },
      { name: 'Light and socket installation', minutes: 60, priceCents: 7900 },
      { name: 'Apartment deep clean', minutes: 90, priceCents: 9900 },
      // Kept (inactive) so that past bookings of a withdrawn service still have their service.
      { name: 'Gas boiler service', minutes: 60, priceCents: 12900, active: false },
    ],
    partners: [
      { name: 'Jonas Becker', city: 'Berlin' },
      { name: 'Lena Fischer', city: 'Berlin' },
      { name: 'Mehmet Yilmaz', city: 'Hamburg' },
      { name: 'Sophie Wagner', city: 'Hamburg' },
      { name: 'Tomasz Nowak', city: 'Hamburg', active: false },
    ],
    customers: [
      ['Amira Haddad', 'amira.haddad@example.com'],
      ['Felix Hoffmann', 'felix.hoffmann@example.com'],
      ['Katarzyna Zielinska', 'katarzyna.zielinska@example.com'],
      ['Lukas Schneider', 'lukas.schneider@example.com'],
      ['Elif Demir', 'elif.demir@example.com'],
      ['Johanna Krause', 'johanna.krause@example.com'],
      ['Nikolai Petrov', 'nikolai.petrov@example.com'],
      ['Marie Dubois', 'marie.dubois@example.com'],
    ],
  },
  {
    slug: 'glow-studio',
    name: 'Glow Studio',
    kind: 'salon',
    city: 'London',
    timeZone: 'Europe/London',
    currency: 'GBP',
    // Japanese and English customers side by side: everything the catalog shows, in both.
    translations: { ja: { name: 'グロー・スタジオ', description: 'ロンドンのヘアサロン。日本語でご予約いただけます。' } },
    services: [
      { name: "Women's cut and blow-dry", minutes: 60, priceCents: 6500, translations: { ja: { name: 'レディース カット＆ブロー' } } },
      { name: "Men's cut", minutes: 30, priceCents: 3200, translations: { ja: { name: 'メンズ カット' } } },
      { name: 'Blow-dry', minutes: 30, priceCents: 2800, translations: { ja: { name: 'ブロー' } } },
      { name: 'Full head colour', minutes: 90, priceCents: 11500, translations: { ja: { name: 'フルカラー' } } },
      { name: 'Balayage', minutes: 90, priceCents: 14500, translations: { ja: { name: 'バレイヤージュ' } } },
    ],
    partners: [
      { name: 'Amelia Clarke' },
      { name: 'Priya Patel' },
      { name: 'Olivia Bennett' },
      { name: 'Chloe Evans' },
      { name: 'Marcus Reid' },
    ],
    customers: [
      ['Grace Thompson', 'grace.thompson@example.com'],
      ['Oliver Hughes', 'oliver.hughes@example.com'],
      ['Aaliyah Okafor', 'aaliyah.okafor@example.com'],
      ['Hannah Walsh', 'hannah.walsh@example.com'],
      ['Rhys Morgan', 'rhys.morgan@example.com'],
      ['Sofia Rossi', 'sofia.rossi@example.com'],
      ['Imogen Fraser', 'imogen.fraser@example.com'],
      ['Zainab Hussain', 'zainab.hussain@example.com'],
      ['Ewan Campbell', 'ewan.campbell@example.com'],
    ],
  },
  {
    slug: 'green-light-driving',
    name: 'Green Light Driving School',
    kind: 'driving_school',
    city: 'Toronto',
    timeZone: 'America/Toronto',
    currency: 'CAD',
    services: [
      { name: 'Standard driving lesson', minutes: 60, priceCents: 6500 },
      { name: 'Extended driving lesson', minutes: 90, priceCents: 9500 },
      { name: 'Highway driving lesson', minutes: 90, priceCents: 10500 },
      { name: 'G2 road test preparation', minutes: 60, priceCents: 8000 },
    ],
    partners: [
      { name: 'Daniel Tremblay' },
      { name: 'Aisha Mohammed' },
      { name: 'Kevin Nguyen' },
      { name: 'Sarah MacDonald' },
    ],
    customers: [
      ['Ethan Roy', 'ethan.roy@example.com'],
      ['Mei Lin', 'mei.lin@example.com'],
      ['Arjun Sharma', 'arjun.sharma@example.com'],
      ['Chloe Gagnon', 'chloe.gagnon@example.com'],
      ['Mateo Alvarez', 'mateo.alvarez@example.com'],
      ['Fatima Siddiqui', 'fatima.siddiqui@example.com'],
      ['Liam O’Brien', 'liam.obrien@example.com'],
    ],
  },
  {
    slug: 'north-end-barbers',
    name: 'North End Barbers',
    kind: 'barber_shop',
    city: 'New York',
    timeZone: 'America/New_York',
    currency: 'USD',
    services: [
      { name: 'Classic haircut', minutes: 30, priceCents: 3500 },
      { name: 'Skin fade', minutes: 30, priceCents: 4000 },
      { name: 'Beard trim', minutes: 30, priceCents: 2000 },
      { name: 'Haircut and beard', minutes: 60, priceCents: 5500 },
      { name: 'Hot towel shave', minutes: 30, priceCents: 3000 },
    ],
    partners: [
      { name: 'Tony Russo' },
      { name: 'Malik Johnson' },
      { name: 'Carlos Rivera' },
      { name: 'Eli Goldberg' },
    ],
    customers: [
      ['Marcus Williams', 'marcus.williams@example.com'],
      ['Darnell Brooks', 'darnell.brooks@example.com'],
      ['Jake Sullivan', 'jake.sullivan@example.com'],
      ['Luis Ramirez', 'luis.ramirez@example.com'],
      ['Samuel Cohen', 'samuel.cohen@example.com'],
      ['Kenji Watanabe', 'kenji.watanabe@example.com'],
      ['Andre Baptiste', 'andre.baptiste@example.com'],
      ['Noah Kim', 'noah.kim@example.com'],
      ['Omar Farouk', 'omar.farouk@example.com'],
      ['Ryan Doyle', 'ryan.doyle@example.com'],
    ],
  },
  {
    slug: 'clear-mind-clinic',
    name: 'Clear Mind Clinic',
    kind: 'appointments',
    city: 'Sydney',
    timeZone: 'Australia/Sydney',
    currency: 'AUD',
    services: [
      { name: 'Initial consultation', minutes: 90, priceCents: 26000 },
      { name: 'Follow-up session', minutes: 60, priceCents: 19000 },
      { name: 'Brief check-in', minutes: 30, priceCents: 9500 },
      { name: 'Couples session', minutes: 90, priceCents: 29000 },
    ],
    partners: [{ name: 'Dr Hannah Wright' }, { name: 'Dr James Chen' }, { name: 'Dr Maya Singh' }],
    customers: [
      ['Charlotte Nguyen', 'charlotte.nguyen@example.com'],
      ['Jack Murphy', 'jack.murphy@example.com'],
      ['Isla Papadopoulos', 'isla.papadopoulos@example.com'],
      ['Tane Parata', 'tane.parata@example.com'],
      ['Ruby Anderson', 'ruby.anderson@example.com'],
      ['Vikram Iyer', 'vikram.iyer@example.com'],
      ['Emily Tran', 'emily.tran@example.com'],
      ['Lachlan Scott', 'lachlan.scott@example.com'],
    ],
  },
];

/** Working day: 16 half-hour slots from 09:00 to 17:00 local time, Monday to Saturday (also the partners' weekly hours). */
export const SLOTS_PER_DAY = 16;
export const FIRST_SLOT_HOUR = 9;
/** Saturdays close early: the slots from 15:00 on are 'blocked', so the demo has all slot statuses. */
export const SATURDAY_BLOCKED_FROM = 12;
export const PAST_DAYS = 7;
export const FUTURE_DAYS = 14;

export const CANCEL_REASONS = [
  'Customer rescheduled',
  'Customer cancelled by phone',
  'Partner unavailable (illness)',
  'Booked by mistake',
];

/** How many bookings of each status a business gets; past ones first (day offsets < 0). */
export const STATUS_PLAN: Array<{ status: BookingStatusColumn; past: boolean; count: (businessIndex: number) => number }> = [
  { status: 'completed', past: true, count: (i) => 8 + (i % 3) },
  { status: 'no_show', past: true, count: (i) => 2 + (i % 2) },
  { status: 'cancelled', past: true, count: () => 1 },
  { status: 'confirmed', past: false, count: (i) => 8 + ((i * 2) % 5) },
  { status: 'pending', past: false, count: (i) => 5 + (i % 2) },
  { status: 'cancelled', past: false, count: () => 2 },
];
