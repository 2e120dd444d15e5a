/** A customer as the layers above the repository see it. */
export interface CustomerModel {
  id: string;
  businessId: string;
  email: string;
  name: string;
  /** E.164, for text reminders. */
  phone: string | null;
  /** The locale of the customer's messages; null: the business's default locale. */
  locale: string | null;
  /** When the customer turned reminders off; null while they get them. */
  remindersOptedOutAt: string | null;
}
