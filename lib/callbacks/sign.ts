/**
 * Signing status callbacks: an HMAC-SHA256 of the exact request body with a secret shared
 * with the receiver, sent as `X-Faxline-Signature: sha256=<hex>`. The body carries the event's
 * timestamp, so a receiver that also checks the timestamp's age rejects replays.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The request header that carries the signature. */
export const SIGNATURE_HEADER = 'X-Faxline-Signature';

/** The signature header's value for a body: `sha256=` and the HMAC-SHA256 in lowercase hex. */
export function signBody(body: string | Buffer, secret: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Whether a signature header value matches the body (compared in constant time). For a
 * receiver: pass the raw body bytes as received, before any JSON parsing.
 */
export function verifySignature(body: string | Buffer, header: string | undefined, secret: string | Buffer): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(signBody(body, secret));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}
