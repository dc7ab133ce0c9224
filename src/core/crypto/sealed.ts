/** Every sealed string starts with this, then the key id and a dot, then base64url(iv ‖ ciphertext ‖ tag). */
export const CIPHERTEXT_PREFIX = 'e1.';
/** The longest key id a namespace's key info may name (this release makes 8-character ones). */
export const KEY_ID_MAX = 32;
/** The whole shape, so that text which merely starts with "e1." (a chess move) is never taken for it. */
const SEALED = new RegExp(`^e1\\.[A-Za-z0-9_-]{4,${KEY_ID_MAX}}\\.[A-Za-z0-9_-]{38,}$`);
/** One piece of sealed tags (crypto/fields.ts): its index in base 36, `~`, then a slice of the sealed string. */
const TAG_PIECE = /^([0-9a-z]{2})~(.*)$/s;
/** An encrypted embedding packs three bytes a number: each below 2^24, which every store keeps exactly. */
export const EMBEDDING_BYTE_LIMIT = 2 ** 24;

/** A value sealed by end-to-end encryption (crypto/cipher.ts); stores do not index it as text. */
export function isCiphertext(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(CIPHERTEXT_PREFIX) && SEALED.test(value);
}

/** The id of the key a sealed string was sealed with; undefined for anything else (plaintext). */
export function sealedKeyId(value: unknown): string | undefined {
  if (!isCiphertext(value)) return undefined;
  return value.slice(CIPHERTEXT_PREFIX.length, value.indexOf('.', CIPHERTEXT_PREFIX.length));
}

/**
 * The sealed string that encrypted tags carry, cut into numbered pieces (`00~…`, `01~…`), or undefined
 * when the tags are not such pieces (plain tags).
 */
export function joinSealedTags(tags: readonly string[]): string | undefined {
  const pieces: Array<[number, string]> = [];
  for (const tag of tags) {
    const match = TAG_PIECE.exec(tag);
    if (!match) return undefined;
    pieces.push([Number.parseInt(match[1]!, 36), match[2]!]);
  }
  pieces.sort((a, b) => a[0] - b[0]);
  if (pieces.length === 0 || pieces.some(([index], i) => index !== i)) return undefined;
  return pieces.map(([, text]) => text).join('');
}

/**
 * The sealed string that an encrypted embedding packs (its byte count, then three bytes a number), or
 * undefined when the numbers are not such a packing (a plain vector).
 */
export function unpackSealedEmbedding(numbers: readonly number[]): string | undefined {
  const length = numbers[0];
  if (length === undefined || !Number.isInteger(length) || Math.ceil(length / 3) !== numbers.length - 1) {
    return undefined;
  }
  let text = '';
  for (let i = 0; i < length; i++) {
    const n = numbers[1 + Math.floor(i / 3)]!;
    if (!Number.isInteger(n) || n < 0 || n >= EMBEDDING_BYTE_LIMIT) return undefined;
    text += String.fromCharCode((n >> (8 * (2 - (i % 3)))) & 0xff);
  }
  return text;
}
