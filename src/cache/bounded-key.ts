import { createHash } from 'node:crypto';

/** Key parts longer than this are stored as their hash: no client-chosen text can make a key large. */
export const MAX_KEY_PART_LENGTH = 64;

/** `text` itself when short (operators can read it in Redis), else `sha256:` and its base64url digest (51 characters). */
export function boundedKeyPart(text: string): string {
  return text.length <= MAX_KEY_PART_LENGTH ? text : `sha256:${createHash('sha256').update(text).digest('base64url')}`;
}
