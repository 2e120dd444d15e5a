/** A start time at which a service fits, and the raw ids of the partners free for it, least busy first. */
export interface AvailableStartModel {
  startsAt: string;
  endsAt: string;
  partnerIds: string[];
}
