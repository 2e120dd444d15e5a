import { ErrorCode } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

/**
 * The answer sent instead of one larger than RESPONSE_MAX_BYTES: a backstop behind the cost limit,
 * for answers whose objects are larger than estimated (long texts, many slots). The operation has
 * run (a mutation's changes stay); only its answer is withheld. Status 400 like the other refusals
 * of an operation that asks for too much.
 */
export function oversizedResponse(body: string, maxBytes: number, log: Logger): { status: number; body: string } | null {
  // A UTF-8 byte is at least a UTF-16 unit and at most three: most answers are decided without counting.
  if (body.length * 3 <= maxBytes) return null;
  const bytes = Buffer.byteLength(body);
  if (bytes <= maxBytes) return null;
  log.info('An answer larger than RESPONSE_MAX_BYTES was withheld', { bytes, maxBytes });
  const message = `Expected an answer of at most ${maxBytes} bytes (RESPONSE_MAX_BYTES), got ${bytes} bytes; ask for smaller pages or fewer fields.`;
  return {
    status: 400,
    body: JSON.stringify({ errors: [{ message, extensions: { code: ErrorCode.ResponseTooLarge, maximum: maxBytes, measured: bytes } }] }),
  };
}
