/** A review as the layers above the repository see it (times are RFC 3339 UTC strings). */
export interface ReviewModel {
  id: string;
  businessId: string;
  bookingId: string;
  customerId: string;
  partnerId: string;
  serviceId: string;
  rating: number;
  text: string | null;
  reply: string | null;
  repliedAt: string | null;
  hiddenAt: string | null;
  hideReason: string | null;
  createdAt: string;
}

/** What a rating is summed up for. */
export type RatingSubject = 'business' | 'partner' | 'service';

/** A rating: counts of visible reviews by rating, index 0 for 1 star. */
export interface RatingModel {
  distribution: [number, number, number, number, number];
}

export const NO_RATING: RatingModel = { distribution: [0, 0, 0, 0, 0] };
