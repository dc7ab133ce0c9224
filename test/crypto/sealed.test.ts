import { describe, expect, it } from 'vitest';
import { NamespaceCipher } from '../../src/core/crypto/cipher.js';
import { assertWholeRecord, decryptMemoryValues, encryptMemoryValues } from '../../src/core/crypto/fields.js';
import { isCiphertext, joinSealedTags, unpackSealedEmbedding } from '../../src/core/crypto/sealed.js';
import { LIMITS } from '../../src/core/validate.js';

/* The shapes sealed values travel in (crypto/fields.ts), as stores and the edge recognise them. */

const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);

describe('sealed shapes', () => {
  it('takes for ciphertext only the whole shape: text that merely starts with e1. is plaintext', async () => {
    const cipher = await NamespaceCipher.create({ key });
    const sealed = await cipher.encryptString('', 'ns/memory/m1/content');
    expect(isCiphertext(sealed)).toBe(true);
    const [, keyId, body] = sealed.split('.');
    // The shortest sealed body is an IV and a tag: 28 bytes, 38 base64url characters.
    expect(body).toHaveLength(38);
    expect(isCiphertext(`e1.${keyId}.${body!.slice(0, 37)}`)).toBe(false);
    expect(isCiphertext(`${sealed} and then some text`)).toBe(false);
    for (const text of ['e1.Nf3.e4', 'e1.e4e5.Nf3Nc6', 'e1.abcd.efgh'])
      expect(isCiphertext(text), text).toBe(false);
  });

  it('joins tag pieces by their index, whatever order they come in, and refuses a gap', () => {
    expect(joinSealedTags(['01~def', '00~abc', '02~ghi'])).toBe('abcdefghi');
    expect(joinSealedTags(['00~abc', '02~ghi'])).toBeUndefined();
    expect(joinSealedTags(['01~def'])).toBeUndefined();
    expect(joinSealedTags([])).toBeUndefined();
    expect(joinSealedTags(['work'])).toBeUndefined();
  });

  it('unpacks only a packing whose count matches its numbers, each three bytes', () => {
    const packed = [4, 0x616263, 0x640000];
    expect(unpackSealedEmbedding(packed)).toBe('abcd');
    expect(unpackSealedEmbedding([4, 0x616263])).toBeUndefined();
    expect(unpackSealedEmbedding([4, 0x616263, 0x640000, 0])).toBeUndefined();
    expect(unpackSealedEmbedding([4, 0x616263, 2 ** 24 + 0x64])).toBeUndefined();
    expect(unpackSealedEmbedding([4, 0x616263, 2 ** 24])).toBeUndefined();
    expect(unpackSealedEmbedding([4, 0x616263, 2 ** 24 - 1])).toBe('abc\xff');
    expect(unpackSealedEmbedding([4, 0x616263, -1])).toBeUndefined();
    expect(unpackSealedEmbedding([0.5, 0.25, 0.125])).toBeUndefined();
  });

  it('a pulled record must carry each sealed field a record always has', () => {
    const whole = { id: 'm1', namespace: 'ns', content: 'e1.x', tags: [], metadata: {} };
    expect(() => assertWholeRecord('ns', 'memory', whole)).not.toThrow();
    for (const field of ['content', 'tags', 'metadata'] as const) {
      const { [field]: _, ...without } = whole;
      expect(() => assertWholeRecord('ns', 'memory', without), field).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field: `ns/memory/m1/${field}` }),
      );
    }
    expect(() => assertWholeRecord('ns', 'link', { id: 'l1', namespace: 'ns' })).toThrow(
      expect.objectContaining({ field: 'ns/link/l1/metadata' }),
    );
  });

  it('opens sealed metadata only when the sealed entry is its one key', async () => {
    const cipher = await NamespaceCipher.create({ key });
    const clocks = { metadata: '0190a0b0c0d0-0000-node' };
    const sealed = await encryptMemoryValues(cipher, 'ns', 'm1', { metadata: { a: 1 } }, clocks);
    expect(await decryptMemoryValues(cipher, 'ns', 'm1', sealed, clocks)).toEqual({ metadata: { a: 1 } });
    const padded = { metadata: { ...sealed.metadata, note: 'in clear' } };
    await expect(decryptMemoryValues(cipher, 'ns', 'm1', padded, clocks)).rejects.toMatchObject({
      code: 'VALIDATION',
      field: `ns/memory/m1/metadata@${clocks.metadata}`,
    });
  });

  it('refuses a plain vector where a sealed embedding belongs', async () => {
    const cipher = await NamespaceCipher.create({ key });
    const clocks = { embedding: '0190a0b0c0d0-0000-node' };
    await expect(
      decryptMemoryValues(cipher, 'ns', 'm1', { embedding: [0.5, 0.25, 0.125] }, clocks),
    ).rejects.toMatchObject({ code: 'VALIDATION', field: `ns/memory/m1/embedding@${clocks.embedding}` });
  });

  it('seals tags into at most as many pieces as a record may have tags, and refuses longer ones', async () => {
    const cipher = await NamespaceCipher.create({ key });
    const clocks = { tags: '0190a0b0c0d0-0000-node' };
    let longest: string[] | undefined;
    for (let length = 2000; ; length++) {
      const sealing = encryptMemoryValues(cipher, 'ns', 'm1', { tags: ['x'.repeat(length)] }, clocks);
      const sealed = await sealing.catch(() => undefined);
      if (!sealed) {
        await expect(sealing).rejects.toMatchObject({
          code: 'VALIDATION',
          field: `ns/memory/m1/tags@${clocks.tags}`,
        });
        break;
      }
      longest = sealed.tags;
    }
    expect(longest).toHaveLength(LIMITS.tags);
  });
});
