import type { CustomerCreateInput, CustomerNotificationPreferencesUpdateInput, CustomerUpdateInput } from '../__generated__/resolvers-types.js';
import { customerIdIn, isStaffOf } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { businessNotFoundMessage } from '../businesses/business-input.js';
import { lockLiveBusinessById } from '../businesses/businesses.repository.js';
import { rawIdOf } from '../shared/global-id.js';
import { MAX_NAME_LENGTH, requiredText } from '../shared/input-checks.js';
import type { Step } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { abort } from '../shared/user-errors.js';
import type { CustomerModel } from './customer.model.js';
import { insertCustomer, isCustomerEmailTaken, lockLiveCustomerById, updateCustomer, updateCustomerNotificationSettings } from './customers.repository.js';

/**
 * Customer records kept by staff, as steps of their mutations (src/shared/mutation.ts). A customer
 * of a business the caller may not manage reads exactly like a missing one. (Self-registration and
 * erasure are the accounts' side: they write customer records of their own.)
 */

/** RFC 5321's limit on a forward path. */
export const MAX_EMAIL_LENGTH = 254;

const CUSTOMER_ID_FIELD = ['input', 'customerId'];

function customerNotFound(gid: string): never {
  abort('NOT_FOUND', `Expected the ID of a customer you may manage, got "${gid}".`, CUSTOMER_ID_FIELD);
}

/** The raw id of the customer an input names; a malformed ID reads NOT_FOUND, before any statement. */
export function customerIdOf(input: { customerId: string }): string {
  return rawIdOf(input.customerId, 'Customer') ?? customerNotFound(input.customerId);
}

/** An address with something before and after one `@` and no spaces: what a person can be mailed at. */
function checkedEmail(email: string): string {
  const address = email.trim();
  if (address.length > MAX_EMAIL_LENGTH || !/^[^\s@]+@[^\s@]+$/.test(address)) {
    abort('INVALID_INPUT', `Expected an e-mail address such as "ada@example.com" of at most ${MAX_EMAIL_LENGTH} characters, got "${address.slice(0, 100)}".`, ['input', 'email']);
  }
  return address;
}

function emailTaken(email: string): never {
  abort('EMAIL_TAKEN', `Expected an e-mail address no other customer of the business has, got "${email}".`, ['input', 'email']);
}

export function checkCustomerCreate(input: CustomerCreateInput): { email: string; name: string } {
  return { email: checkedEmail(input.email), name: requiredText(input.name, ['input', 'name'], MAX_NAME_LENGTH) };
}

export async function createCustomer(trx: Trx, businessId: string, input: CustomerCreateInput, draft: { email: string; name: string }): Promise<Step<CustomerModel>> {
  if (!(await lockLiveBusinessById(trx, businessId))) abort('NOT_FOUND', businessNotFoundMessage(input.businessId), ['input', 'businessId']);
  const customer = await insertCustomer(trx, { businessId, ...draft });
  if (!customer) emailTaken(draft.email);
  return {
    value: customer,
    audit: [{ businessId, entity: 'customer', entityId: customer.id, action: 'customer.created', changes: { after: draft } }],
  };
}

export async function updateCustomerById(trx: Trx, viewer: Viewer, id: string, input: CustomerUpdateInput): Promise<Step<CustomerModel>> {
  const before = await lockLiveCustomerById(trx, id);
  if (!before || !isStaffOf(viewer, before.businessId)) customerNotFound(input.customerId);
  const next = {
    email: input.email == null ? before.email : checkedEmail(input.email),
    name: input.name == null ? before.name : requiredText(input.name, ['input', 'name'], MAX_NAME_LENGTH),
  };
  const keys = (['email', 'name'] as const).filter((key) => next[key] !== before[key]);
  if (!keys.length) return { value: before };
  if (keys.includes('email') && (await isCustomerEmailTaken(trx, { businessId: before.businessId, email: next.email, exceptId: id }))) emailTaken(next.email);
  const updated = await updateCustomer(trx, id, next);
  return {
    value: updated,
    audit: [{ businessId: updated.businessId, entity: 'customer', entityId: id, action: 'customer.updated',
      changes: { before: Object.fromEntries(keys.map((k) => [k, before[k]])), after: Object.fromEntries(keys.map((k) => [k, next[k]])) } }],
  };
}

// The CHECKs on customers.phone and customers.locale (migration 20261202000400).
const E164 = /^\+[1-9][0-9]{6,14}$/;
const LOCALE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

/** `''` clears; otherwise the value must match, or the input is refused. */
function checkedOptional(value: string | null | undefined, pattern: RegExp, field: string, expected: string): string | null | undefined {
  if (value == null) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return null;
  if (!pattern.test(trimmed)) abort('INVALID_INPUT', `Expected ${expected}, got "${trimmed.slice(0, 40)}".`, ['input', field]);
  return trimmed;
}

/**
 * A customer's notification preferences, changed by the customer themselves (their own record)
 * or by staff of its business. Audited without the phone number itself.
 */
export async function updateCustomerNotificationPreferences(trx: Trx, viewer: Viewer, id: string, input: CustomerNotificationPreferencesUpdateInput): Promise<Step<CustomerModel>> {
  const before = await lockLiveCustomerById(trx, id);
  if (!before || !(isStaffOf(viewer, before.businessId) || customerIdIn(viewer, before.businessId) === id)) customerNotFound(input.customerId);
  const phone = checkedOptional(input.phone, E164, 'phone', 'a phone number in E.164 form such as "+819012345678" (or "" to remove it)');
  const locale = checkedOptional(input.locale, LOCALE, 'locale', 'a BCP 47 locale such as "ja" (or "" for the business\'s default)');
  const optedOut = input.reminders == null ? undefined : !input.reminders;
  const after = await updateCustomerNotificationSettings(trx, id, { optedOut, phone, locale });
  if (!after) customerNotFound(input.customerId);
  return {
    value: after,
    audit: [{ businessId: after.businessId, entity: 'customer', entityId: id, action: 'customer.notification_preferences_updated',
      changes: { after: { reminders: after.remindersOptedOutAt === null, phone: after.phone === null ? 'none' : 'set', locale: after.locale } } }],
  };
}
