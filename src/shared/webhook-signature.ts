import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The webhook signature scheme, for payment providers' events coming in (header
 * `Payment-Signature`) and for outbound webhooks going out (header `Webhook-Signature`, keyed with
 * the endpoint's secret, see src/webhooks/): `t=<unix seconds>,v1=<hex>` where the hex is
 * HMAC-SHA256, keyed with the shared secret, of `<t>.<raw body>`.
 *
 * The timestamp is signed with the body, so a captured request cannot be replayed once it is older
 * than the tolerance; within it, the event id deduplicates. Several `v1` entries may be sent
 * (during a secret rotation); one matching is enough.
 */
export const SIGNATURE_HEADER = 'payment-signature';

export function computeSignature(secret: string, timestamp: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

export function signatureHeader(secret: string, timestamp: number, rawBody: string | Buffer): string {
  return `t=${timestamp},v1=${computeSignature(secret, timestamp, rawBody)}`;
}

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: string };

const HEX_SHA256 = /^[0-9a-f]{64}$/;

export function verifySignature(secret: string, header: string | undefined, rawBody: Buffer, options: { nowSeconds: number; toleranceSeconds: number }): SignatureCheck {
  if (!header) return { ok: false, reason: `Expected a ${SIGNATURE_HEADER} header "t=<unix seconds>,v1=<hex HMAC-SHA256>", got none.` };
  let timestamp: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && HEX_SHA256.test(value)) candidates.push(value);
  }
  if (timestamp === undefined || !candidates.length) {
    // Quoted without its signature values: the reason is logged, and a mangled header may still carry a real one.
    return { ok: false, reason: `Expected a ${SIGNATURE_HEADER} header "t=<unix seconds>,v1=<hex HMAC-SHA256>", got "${header.slice(0, 200).replace(/(v\d+=)[^,]*/g, '$1...')}".` };
  }
  const skew = Math.abs(options.nowSeconds - timestamp);
  if (skew > options.toleranceSeconds) {
    return { ok: false, reason: `Expected a signature timestamp within ${options.toleranceSeconds} s of now, got one ${skew} s away.` };
  }
  const expected = Buffer.from(computeSignature(secret, timestamp, rawBody), 'hex');
  // Every candidate is compared in constant time, so the timing says nothing about the secret.
  const matches = candidates.map((c) => timingSafeEqual(expected, Buffer.from(c, 'hex')));
  if (!matches.includes(true)) return { ok: false, reason: 'The signature does not match the body: expected HMAC-SHA256 of "<t>.<raw body>" with the shared secret.' };
  return { ok: true, timestamp };
}

/** Checks a provider's request: its signature header (one or several) over the raw body, within the tolerance. */
export function verifySignedRequest(
  secret: string,
  toleranceSeconds: number,
  request: { headers: Record<string, string | string[] | undefined>; rawBody: Buffer; nowSeconds: number },
): SignatureCheck {
  const header = request.headers[SIGNATURE_HEADER];
  return verifySignature(secret, Array.isArray(header) ? header.join(',') : header, request.rawBody, { nowSeconds: request.nowSeconds, toleranceSeconds });
}
