import type { MessageSideColumn } from '../db/tables.js';

export type MessageSide = MessageSideColumn;

/** A message of a booking's thread, as the layers above the repository see it. */
export interface MessageModel {
  id: string;
  businessId: string;
  bookingId: string;
  /** `customer` or `business`: which side of the thread wrote it. */
  senderSide: MessageSide;
  body: string;
  createdAt: string;
}
