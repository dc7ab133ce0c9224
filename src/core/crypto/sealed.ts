/** Every sealed string starts with this, then the key id and a dot, then base64url(iv ‖ ciphertext ‖ tag). */
export const CIPHERTEXT_PREFIX = 'e1.';
/** The whole shape, so that text which merely starts with "e1." (a chess move) is never taken for it. */
const SEALED = /^e1\.[A-Za-z0-9_-]{4,32}\.[A-Za-z0-9_-]{38,}$/;

/** A value sealed by end-to-end encryption (crypto/cipher.ts); stores do not index it as text. */
export function isCiphertext(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(CIPHERTEXT_PREFIX) && SEALED.test(value);
}
