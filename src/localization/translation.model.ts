/** A business's or service's name and description in one locale other than its business's default. */
export interface TranslationModel {
  locale: string;
  name: string;
  description: string | null;
}

/** What a translation belongs to: a business, or a service (with its business, the tenant key). */
export type TranslationTarget = { kind: 'business'; businessId: string } | { kind: 'service'; businessId: string; serviceId: string };
