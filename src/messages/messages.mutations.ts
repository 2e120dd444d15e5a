import type { MessageSendInput, Resolvers } from '../__generated__/resolvers-types.js';
import type { Viewer } from '../auth/viewer.js';
import { bookingById } from '../bookings/bookings.loaders.js';
import { rememberById } from '../idempotency/idempotent-mutation.js';
import { mutation, signedIn } from '../shared/mutation.js';
import type { MessageModel } from './message.model.js';
import { chargeMessage, checkMessageBody, markRead, postMessage } from './messages.actions.js';
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


export const messageMutations: Resolvers = {
  Mutation: {
    // The other side hears of it live (MESSAGE_POSTED) and, if it has not read it a while later, by
    // e-mail: a job the relay makes from the event (notifications/notification-jobs.repository.ts).
    messageSend: send,
    messageThreadMarkRead: mutation({
      name: 'messageThreadMarkRead',
      who: { expected: 'a token to mark a thread read', scope: signedIn },
      inside: (trx, { viewer, input }) => markRead(trx, viewer, input),
      remember: (context) => rememberById((id) => bookingById(context.loaders).load(id)),
      payload: (booking) => ({ booking }),
    }),
  },
};
