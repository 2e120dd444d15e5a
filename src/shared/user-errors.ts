import type { UserError, UserErrorCode } from '../__generated__/resolvers-types.js';

/**
 * Mutation errors are data: a payload carries `userErrors` and, when any, nothing changed.
 * Actions return either a value or user errors; they never throw for a caller's mistake.
 */
export type ActionResult<T> = { ok: true; value: T } | { ok: false; errors: UserError[] };

export function ok<T>(value: T): ActionResult<T> {
  return { ok: true, value };
}

export function userError(code: UserErrorCode, message: string, field?: string[]): ActionResult<never> {
  return { ok: false, errors: [{ code, message, field: field ?? null }] };
}

/**
 * Thrown inside a transaction to roll it back and answer with user errors; `runAction` turns it
 * back into a result. Lets a check deep inside a transaction undo everything done before it.
 */
export class UserErrorAbort extends Error {
  constructor(readonly result: { ok: false; errors: UserError[] }) {
    super(result.errors.map((e) => e.message).join(' '));
  }
}

export function abort(code: UserErrorCode, message: string, field?: string[]): never {
  throw new UserErrorAbort(userError(code, message, field) as { ok: false; errors: UserError[] });
}

export async function runAction<T>(work: () => Promise<T>): Promise<ActionResult<T>> {
  try {
    return ok(await work());
  } catch (error) {
    if (error instanceof UserErrorAbort) return error.result;
    throw error;
  }
}

/** The value of a result, or its user errors thrown as an abort (for a check that returns a result). */
export function valueOrAbort<T>(result: ActionResult<T>): T {
  if (!result.ok) throw new UserErrorAbort(result);
  return result.value;
}
