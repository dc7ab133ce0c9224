type NodeBuffer = {
  from(b: ArrayBufferLike, at: number, length: number): { toString(as: 'base64'): string };
};

/**
 * `bytes` as standard base64. Through Node's `Buffer` where there is one (Node, Workers with
 * nodejs_compat), which writes it from the bytes in native code; else `btoa` over a binary string built
 * a slice at a time (one `fromCharCode` call per 32 KiB stays under engines' argument limits).
 */
export function bytesToBase64(bytes: Uint8Array): string {
  const buffer = (globalThis as { Buffer?: NodeBuffer }).Buffer;
  if (buffer !== undefined)
    return buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let binary = '';
  for (let at = 0; at < bytes.length; at += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  }
  return btoa(binary);
}
