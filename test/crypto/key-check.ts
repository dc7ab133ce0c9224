import { toBase64Url } from '../../src/core/base64.js';

/**
 * A key check value made the way another client would: `text` sealed under `key` with the check's
 * associated data for `keyId` (iv ‖ ciphertext ‖ tag, base64url). The real check text opens the key;
 * any other text is a check that decrypts but does not hold it.
 */
export async function keyCheck(key: CryptoKey, keyId: string, text: string): Promise<string> {
  const encoder = new TextEncoder();
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: encoder.encode(`engram/key-check/${keyId}`) },
      key,
      encoder.encode(text),
    ),
  );
  const check = new Uint8Array(12 + sealed.length);
  check.set(iv);
  check.set(sealed, 12);
  return toBase64Url(check);
}
