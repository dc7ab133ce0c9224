type NodeBuffer = {
  from(b: ArrayBufferLike, at: number, length: number): { toString(as: 'base64' | 'base64url'): string };
  from(text: string, as: 'base64url'): Uint8Array;
};

/** Node's `Buffer` where there is one (Node, Workers with nodejs_compat): base64 in native code. */
const nodeBuffer = () => (globalThis as { Buffer?: NodeBuffer }).Buffer;

/**
 * `bytes` as standard base64. Through Node's `Buffer` where there is one (Node, Workers with
 * nodejs_compat), which writes it from the bytes in native code; else `btoa` over a binary string built
 * a slice at a time (one `fromCharCode` call per 32 KiB stays under engines' argument limits).
 */
export function bytesToBase64(bytes: Uint8Array): string {
  const buffer = nodeBuffer();
  if (buffer !== undefined)
    return buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let binary = '';
  for (let at = 0; at < bytes.length; at += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  }
  return btoa(binary);
}

/** `bytes` as base64url without padding (RFC 4648 §5). */
export function toBase64Url(bytes: Uint8Array): string {
  const buffer = nodeBuffer();
  if (buffer) return buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
  return bytesToBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Bytes of base64url text, padded or not; a character outside its alphabet throws. */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const buffer = nodeBuffer();
  // Buffer skips characters it does not know; only the alphabet's own are handed to it.
  if (buffer && /^[A-Za-z0-9_-]*$/.test(text)) {
    // A fresh copy: Buffer's small results share one pool, which WebCrypto must not be handed.
    return new Uint8Array(buffer.from(text, 'base64url'));
  }
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
