import type { MessageSendInput, Resolvers, UserError } from '../__generated__/resolvers-types.js';
import type { Viewer } from '../auth/viewer.js';
import { bookingById } from '../bookings/bookings.loaders.js';
import { rememberById } from '../idempotency/idempotent-mutation.js';
import type { RequestContext } from '../server/context.js';
import { mutation, signedIn } from '../shared/mutation.js';
import type { MessageModel } from './message.model.js';
import { chargeMessage, checkMessageBody, markRead, otherSide, postMessage } from './messages.actions.js';
import { messageById } from './messages.loaders.js';

const send = mutation<MessageSendInput, Viewer, string, MessageModel>({
  name: 'messageSend',
  // Whoever may see the booking may write in its thread; the step's read decides (NOT_FOUND otherwise).
  who: { expected: 'a token to post a message', scope: signedIn },
  outside: async ({ input, viewer, app }) => {
    const body = checkMessageBody(input.body);
    await chargeMessage(app.rateLimits, viewer);
    return body;
  },
  inside: (trx, { viewer, actor, input, prepared: body }) => postMessage(trx, viewer, actor, input, body),
  remember: (context) => rememberById((id) => messageById(context.loaders).load(id)),
  payload: (message) => ({ message }),
});

/** After the commit: the hook for telling the other side (messages/message-recipients.ts). Its failure is logged, never the caller's. */
async function tellRecipients(context: RequestContext, message: MessageModel): Promise<void> {
  try {
    const booking = await bookingById(context.loaders).load(message.bookingId);
    if (booking) await context.app.messageRecipients.messagePosted({ message, booking, recipientSide: otherSide(message.senderSide) });
  } catch (error) {
    context.app.log.error('Telling the other side of a booking thread about a message failed; the message is posted', { messageId: message.id, message: (error as Error).message });
  }
}

export const messageMutations: Resolvers = {
  Mutation: {
    messageSend: async (parent, args, context) => {
      const payload = (await send(parent, args, context)) as { message: MessageModel | null; userErrors: UserError[] };
      if (payload.message) await tellRecipients(context, payload.message);
      return payload;
    },
    messageThreadMarkRead: mutation({
      name: 'messageThreadMarkRead',
      who: { expected: 'a token to mark a thread read', scope: signedIn },
      inside: (trx, { viewer, input }) => markRead(trx, viewer, input),
      remember: (context) => rememberById((id) => bookingById(context.loaders).load(id)),
      payload: (booking) => ({ booking }),
    }),
  },
};
