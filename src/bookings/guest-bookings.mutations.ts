import type { Resolvers } from '../__generated__/resolvers-types.js';
import type { Viewer } from '../auth/viewer.js';
import type { RequestContext } from '../server/context.js';
import type { RateLimits } from '../server/rate-limits.js';
import { LoaderRegistry } from '../shared/loader-registry.js';
import { runMutation, type MutationDefinition } from '../shared/mutation.js';
import type { UserError } from '../__generated__/resolvers-types.js';
import { checkCancelReason } from './bookings.actions.js';
import type { BookingModel } from './booking.model.js';
import {
  cancelGuestBooking,
  chargeGuestCode,
  checkGuestCode,
  checkGuestContact,
  confirmGuestBooking,
  deliverGuestCode,
  newGuestCode,
  startGuestBooking,
  type ConfirmedGuestBooking,
  type StartedGuestBooking,
} from './guest-bookings.actions.js';
import { killVerification } from './guest-verifications.repository.js';
import type { GuestBookingCancelInput, GuestBookingConfirmInput, GuestBookingStartInput } from '../__generated__/resolvers-types.js';

/** Guests have no token: anyone may call these (rate limits and the code are the guard). */
const anyone = { expected: 'no token or any token', scope: (viewer: Viewer) => viewer };
/**
 * A guest's calls take no idempotency key (the header is ignored): a retry of a start asks for a
 * new code (the address's budget counts it), a retry of a confirmation tries the code again.
 */
const notKept = { save: () => null, restore: async (): Promise<never> => { throw new Error('Guest booking results are never kept for a retry.'); } };
const withoutKey = (context: RequestContext): RequestContext => ({ ...context, idempotencyKey: null });

const start: MutationDefinition<GuestBookingStartInput, Viewer, Awaited<ReturnType<typeof prepareStart>>, StartedGuestBooking> = {
  name: 'guestBookingStart',
  who: anyone,
  outside: ({ input, app }, _db) => prepareStart(input, app, undefined),
  inside: (trx, { input, prepared }) => startGuestBooking(trx, input, prepared),
  remember: () => notKept,
  payload: () => ({}),
};

async function prepareStart(input: GuestBookingStartInput, app: { rateLimits: RateLimits }, clientIp: string | undefined) {
  const contact = checkGuestContact(input);
  await chargeGuestCode(app.rateLimits, contact, clientIp);
  return { contact, ...newGuestCode() };
}

const confirm: MutationDefinition<GuestBookingConfirmInput, Viewer, Awaited<ReturnType<typeof checkGuestCode>>, ConfirmedGuestBooking> = {
  name: 'guestBookingConfirm',
  who: anyone,
  outside: ({ input }, db) => checkGuestCode(db, input),
  inside: (trx, { prepared }) => confirmGuestBooking(trx, prepared),
  remember: () => notKept,
  payload: () => ({}),
};

const cancel: MutationDefinition<GuestBookingCancelInput, Viewer, string | null, BookingModel> = {
  name: 'guestBookingCancel',
  who: anyone,
  outside: async ({ input }) => checkCancelReason(input.reason),
  inside: (trx, { input, prepared: reason }) => cancelGuestBooking(trx, input.manageToken, reason),
  remember: () => notKept,
  payload: () => ({}),
};

/**
 * The payload's booking (its customer, slots, payments) reads as the guest's: the request's loaders
 * see that one booking of the customer record, and nothing else of it. The request's viewer is left
 * as it was, so a manage token never lets another field of the same document (a second mutation)
 * act as the customer, nor read the customer's other bookings (a registered customer's, when the
 * guest used their e-mail address).
 */
function readAsGuest(context: RequestContext, grant: { businessId: string; customerId: string; bookingId: string }): void {
  context.loaders = new LoaderRegistry(context.app.db, { ...context.viewer, customers: [...context.viewer.customers, grant] });
}

const noUserErrors: UserError[] = [];

export const guestBookingMutations: Resolvers = {
  Mutation: {
    guestBookingStart: async (_, { input }, context) => {
      context.loaders.stayOnPrimary();
      // The client's address is the per-IP budget's key: the step outside gets it through this definition.
      const definition: typeof start = { ...start, outside: ({ app }) => prepareStart(input, app, context.clientIp) };
      const result = await runMutation(definition, withoutKey(context), input);
      if (!result.ok) return { verificationId: null, channel: null, expiresAt: null, userErrors: result.errors };
      const { verification, code } = result.value;
      if (code) {
        try {
          await deliverGuestCode(context.app, verification, code);
        } catch (error) {
          context.app.log.error('A guest booking code could not be sent; the code is dead and its hold lapses', { verificationId: verification.id, message: (error as Error).message });
          await killVerification(context.app.db, verification.id);
          return {
            verificationId: null,
            channel: null,
            expiresAt: null,
            userErrors: [{ field: ['input', verification.email ? 'email' : 'phone'], message: 'The code could not be sent; try again in a few minutes.', code: 'PROVIDER_ERROR' as const }],
          };
        }
      }
      return { verificationId: verification.publicId, channel: verification.email ? ('EMAIL' as const) : ('SMS' as const), expiresAt: verification.expiresAt, userErrors: noUserErrors };
    },
    guestBookingConfirm: async (_, { input }, context) => {
      context.loaders.stayOnPrimary();
      const result = await runMutation(confirm, withoutKey(context), input);
      if (!result.ok) return { booking: null, manageToken: null, userErrors: result.errors };
      const { booking, customer, manageToken } = result.value;
      readAsGuest(context, { businessId: customer.businessId, customerId: customer.id, bookingId: booking.id });
      return { booking, manageToken: manageToken ?? null, userErrors: noUserErrors };
    },
    guestBookingCancel: async (_, { input }, context) => {
      context.loaders.stayOnPrimary();
      const result = await runMutation(cancel, withoutKey(context), input);
      if (!result.ok) return { booking: null, userErrors: result.errors };
      readAsGuest(context, { businessId: result.value.businessId, customerId: result.value.customerId, bookingId: result.value.id });
      return { booking: result.value, userErrors: noUserErrors };
    },
  },
};
