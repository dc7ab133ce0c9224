const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** `bytes` random bytes as lower-case hex: client ids, node ids, dev secrets. */
export function randomHex(bytes: number): string {
  let out = '';
  for (const b of crypto.getRandomValues(new Uint8Array(bytes))) out += HEX[b];
  return out;
}

let lastMs = -1;
let lastRandom = new Uint8Array(10);

/**
 * A UUIDv7 (RFC 9562): 48-bit millisecond timestamp then random bits, so ids sort by creation time.
 * Within one millisecond the random tail is incremented, keeping ids from one process strictly increasing.
 */
export function uuidv7(now: number = Date.now()): string {
  const bytes = new Uint8Array(16);
  if (now > lastMs) {
    lastMs = now;
    lastRandom = crypto.getRandomValues(new Uint8Array(10));
    lastRandom[0] = lastRandom[0]! & 0x0f; // leave headroom so increments rarely overflow into the version
  } else {
    incrementTail(lastRandom);
  }
  const ms = lastMs;
  bytes[0] = Math.floor(ms / 2 ** 40) & 0xff;
  bytes[1] = Math.floor(ms / 2 ** 32) & 0xff;
  bytes[2] = (ms >>> 24) & 0xff;
  bytes[3] = (ms >>> 16) & 0xff;
  bytes[4] = (ms >>> 8) & 0xff;
  bytes[5] = ms & 0xff;
  bytes.set(lastRandom, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  let out = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out += '-';
    out += HEX[bytes[i]!];
  }
  return out;
}

function incrementTail(tail: Uint8Array): void {
  for (let i = tail.length - 1; i >= 0; i--) {
    if (i === 2) continue; // byte 8 of the uuid holds the variant bits; skip its high bits by not carrying through it
    tail[i] = (tail[i]! + 1) & 0xff;
    if (tail[i] !== 0) return;
  }
}

/**
 * Caller-supplied ids and namespaces: 1-128 chars of [A-Za-z0-9._:-], except `.` and `..`, which every
 * URL parser folds away as path segments (ids travel in edge URLs).
 */
export const ID_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9._:-]{1,128}$/;
