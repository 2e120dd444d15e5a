import type { IncomingHttpHeaders } from 'node:http';
import { createHash } from 'node:crypto';
import { badUserInput } from '../shared/errors.js';

/** The longest key accepted; clients usually send a UUID (36 characters). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** The `Idempotency-Key` header, or null when absent or blank. Checked later, where it is used. */
export function idempotencyKeyOf(headers: IncomingHttpHeaders): string | null {
  const value = headers['idempotency-key'];
  const text = Array.isArray(value) ? value.join(', ') : value;
  return text?.trim() ? text.trim() : null;
}

/**
 * The key of one mutation: `input.idempotencyKey`, else the header. Both may be sent if they agree;
 * two different keys for one mutation are a malformed request, not something to guess about.
 */
export function chooseIdempotencyKey(header: string | null, inputKey: string | null | undefined): string | null {
  const fromInput = inputKey ?? null;
  if (fromInput !== null && header !== null && fromInput !== header) {
    throw badUserInput(`Expected one idempotency key, got "${header}" in the Idempotency-Key header and "${fromInput}" in \`input.idempotencyKey\`.`, 'input');
  }
  const key = fromInput ?? header;
  if (key !== null && (key.length < 1 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
    throw badUserInput(`Expected an idempotency key of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters, got ${key.length}.`, 'input');
  }
  return key;
}

/** A value with object keys sorted and null or absent fields dropped: the same input always prints the same. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const name of Object.keys(value).sort()) {
      const field = (value as Record<string, unknown>)[name];
      if (field !== null && field !== undefined) out[name] = canonical(field);
    }
    return out;
  }
  return value;
}

/**
 * What "the same body" means: the sha256 of the mutation's input in canonical form, without the key
 * itself. An explicit null and a missing field are the same request (every action reads them alike),
 * and DateTime inputs arrive already normalized to UTC by the scalar, so `+01:00` and `Z` forms of one
 * instant hash alike.
 */
export function hashInput(input: object): string {
  const { idempotencyKey: _key, ...rest } = input as { idempotencyKey?: unknown };
  return createHash('sha256').update(JSON.stringify(canonical(rest))).digest('hex');
}
