import type { BookingModel } from '../bookings/booking.model.js';
import type { MessageModel, MessageSide } from './message.model.js';

/**
 * THE HOOK for "e-mail the other side when they are not connected" (issue 15). The composition
 * root passes one to startApp (`messageRecipients`); messageSend calls `messagePosted` after its
 * transaction has committed, outside it, once per message posted (an idempotent retry of the same
 * messageSend may call it again with the same message: key any job on `message.id`).
 *
 * Whether the recipient is "connected" is best judged later and from the database, not here: a
 * job that runs a few minutes on and e-mails when `unreadCountForSide(recipientSide)` still counts
 * the message works across API processes (a subscriber may be on any of them, and customers do not
 * subscribe at all). A hook must not throw for a delivery problem: the message is already posted.
 */
export interface MessageRecipients {
  messagePosted(posted: { message: MessageModel; booking: BookingModel; recipientSide: MessageSide }): Promise<void>;
}

/** No e-mail: the default until the notification jobs are wired in. */
export const NO_MESSAGE_RECIPIENTS: MessageRecipients = { messagePosted: async () => {} };
