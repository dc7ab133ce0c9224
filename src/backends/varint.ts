import { EngramError } from '../core/errors.js';

// Unsigned LEB128 varints: the stored text indexes' codec (SQL posting blocks, IndexedDB shard rows).

/**
 * Writes `value` (a non-negative safe integer) as a varint into `out` at `at`, returning where the next
 * byte goes; `out` needs room for 8 bytes. Shifts below 2^31; above, division (JavaScript shifts are 32-bit).
 */
export function putVarint(out: Uint8Array, at: number, value: number): number {
  if (value < 0x80) {
    // Most counts, lengths and gaps between documents: one byte.
    out[at] = value;
    return at + 1;
  }
  if (value < 0x80000000) {
    // 31 bits: shifts are exact, and much cheaper than the division below.
    do {
      out[at++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    } while (value >= 0x80);
    out[at++] = value;
    return at;
  }
  while (value >= 0x80) {
    out[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[at++] = value;
  return at;
}

/** The most bytes a varint of a safe integer takes (7 bits each, 53 bits). */
const VARINT_MAX_BYTES = 8;

/**
 * Reads unsigned LEB128 varints from `bytes`, in order; `at` may be moved past raw bytes between reads. A
 * varint that runs past the end or past VARINT_MAX_BYTES is corrupt: a STORAGE error, where reading on
 * would never stop (past the end every byte reads as undefined, which is never below 0x80).
 */
export class VarintReader {
  at = 0;
  constructor(readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.at >= this.bytes.length;
  }

  next(): number {
    let value = 0;
    let scale = 1;
    const end = Math.min(this.bytes.length, this.at + VARINT_MAX_BYTES);
    while (this.at < end) {
      const byte = this.bytes[this.at++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
    throw new EngramError(
      'STORAGE',
      `corrupt text index: a number at byte ${this.at} of a ${this.bytes.length}-byte posting list never ends`,
    );
  }
}
