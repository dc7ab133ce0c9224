import { describe, expect, it } from 'vitest';
import { bytesToBase64 } from '../../src/core/base64.js';

describe('bytesToBase64', () => {
  it("spells bytes as base64, with Node's Buffer or without it (a browser)", () => {
    // Every byte value, at an offset into a larger buffer (as PackedRows.data() and typed-array views
    // are), longer than one btoa slice.
    const all = Uint8Array.from({ length: 0x8000 * 2 + 77 }, (_, i) => (i * 131 + (i >> 8)) & 0xff);
    const bytes = all.subarray(5, all.length - 3);
    const expected = Buffer.from(bytes).toString('base64');
    expect(bytesToBase64(bytes)).toBe(expected);
    const { Buffer: kept } = globalThis;
    try {
      (globalThis as { Buffer?: unknown }).Buffer = undefined;
      expect(bytesToBase64(bytes)).toBe(expected);
      expect(bytesToBase64(new Uint8Array(0))).toBe('');
    } finally {
      globalThis.Buffer = kept;
    }
  });
});
