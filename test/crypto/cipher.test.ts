import { describe, expect, it } from 'vitest';
import { fromBase64Url, toBase64Url } from '../../src/core/base64.js';
import {
  DEFAULT_ITERATIONS,
  isOtherKeyError,
  MAX_ACCEPTED_ITERATIONS,
  NamespaceCipher,
} from '../../src/core/crypto/cipher.js';
import { isEngramError } from '../../src/index.js';
import { keyCheck } from './key-check.js';

// On Node the cipher seals through node:crypto; what it writes must be what WebCrypto reads, and back.
const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
const encoder = new TextEncoder();

function parts(sealed: string): { keyId: string; bytes: Uint8Array<ArrayBuffer> } {
  const [, keyId, body] = sealed.split('.');
  return { keyId: keyId!, bytes: fromBase64Url(body!) };
}

describe('NamespaceCipher', () => {
  it('seals what WebCrypto opens, and opens what WebCrypto seals, byte for byte', async () => {
    const cipher = await NamespaceCipher.create({ key });
    for (const text of ['', 'x', 'café ☕ 😀', 'a'.repeat(70_000)]) {
      const sealed = await cipher.encryptString(text, 'ns/memory/m1/content');
      const { keyId, bytes } = parts(sealed);
      expect(keyId).toBe(cipher.keyId);
      const plain = await crypto.subtle.decrypt(
        {
          name: 'AES-GCM',
          iv: bytes.subarray(0, 12),
          additionalData: encoder.encode('ns/memory/m1/content'),
        },
        key,
        bytes.subarray(12),
      );
      expect(new TextDecoder().decode(plain)).toBe(text);
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const web = new Uint8Array(
        await crypto.subtle.encrypt(
          { name: 'AES-GCM', iv, additionalData: encoder.encode('ns/memory/m1/content') },
          key,
          encoder.encode(text),
        ),
      );
      const joined = new Uint8Array(12 + web.length);
      joined.set(iv);
      joined.set(web, 12);
      expect(await cipher.decryptString(`e1.${keyId}.${toBase64Url(joined)}`, 'ns/memory/m1/content')).toBe(
        text,
      );
    }
  });

  it('refuses a value that was altered, moved to another field or cut short, naming the field', async () => {
    const cipher = await NamespaceCipher.create({ key });
    const sealed = await cipher.encryptString('secret', 'ns/memory/m1/content');
    const { keyId, bytes } = parts(sealed);
    const flipped = bytes.slice();
    flipped[20] = flipped[20]! ^ 1;
    const cases = [
      [`e1.${keyId}.${toBase64Url(flipped)}`, 'ns/memory/m1/content'],
      [sealed, 'ns/memory/m2/content'],
      [`e1.${keyId}.${toBase64Url(bytes.subarray(0, 20))}`, 'ns/memory/m1/content'],
    ] as const;
    for (const [value, where] of cases) {
      const error = await cipher.decryptString(value, where).catch((e: unknown) => e);
      expect(isEngramError(error, 'VALIDATION') && error.field).toBe(where);
    }
  });

  it('keeps to the key usages WebCrypto would: a key that may only encrypt cannot open', async () => {
    const sealOnly = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']);
    const cipher = await NamespaceCipher.create({ key: sealOnly });
    const sealed = await cipher.encryptString('secret', 'ns/memory/m1/content');
    const error = await cipher.decryptString(sealed, 'ns/memory/m1/content').catch((e: unknown) => e);
    expect(isEngramError(error, 'VALIDATION')).toBe(true);
  });

  it('keeps to the key usages WebCrypto would: a key that may only decrypt cannot seal', async () => {
    const openOnly = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['decrypt']);
    await expect(NamespaceCipher.create({ key: openOnly })).rejects.toThrow();
  });

  it('a 128-bit AES-GCM key, which node:crypto is not given, seals and opens through WebCrypto', async () => {
    const short = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 128 }, false, [
      'encrypt',
      'decrypt',
    ]);
    const cipher = await NamespaceCipher.create({ key: short });
    const sealed = await cipher.encryptString('secret', 'ns/memory/m1/content');
    expect(await cipher.decryptString(sealed, 'ns/memory/m1/content')).toBe('secret');
    const { bytes } = parts(sealed);
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: bytes.subarray(0, 12), additionalData: encoder.encode('ns/memory/m1/content') },
      short,
      bytes.subarray(12),
    );
    expect(new TextDecoder().decode(plain)).toBe('secret');
  });

  it('a new passphrase key records the default iterations when none are given', async () => {
    const cipher = await NamespaceCipher.create({ passphrase: 'correct horse battery staple' });
    expect(cipher.info.kdf).toMatchObject({ name: 'PBKDF2-SHA256', iterations: DEFAULT_ITERATIONS });
    expect(DEFAULT_ITERATIONS).toBe(600_000);
  });

  it('a new passphrase key draws a fresh 16-byte salt: the same passphrase twice makes two keys', async () => {
    const first = await NamespaceCipher.create({ passphrase: 'pass', iterations: 1000 });
    const second = await NamespaceCipher.create({ passphrase: 'pass', iterations: 1000 });
    expect(fromBase64Url(first.info.kdf!.salt)).toHaveLength(16);
    expect(first.info.kdf!.salt).not.toBe(second.info.kdf!.salt);
    // The salt is part of the key: the first key's info with the second's salt does not open.
    const swapped = { ...first.info, kdf: second.info.kdf };
    await expect(
      NamespaceCipher.open({ passphrase: 'pass', iterations: 1000 }, swapped, 'ns'),
    ).rejects.toMatchObject({ code: 'VALIDATION', field: 'encryption' });
  });

  it('opening with the other kind of secret than the namespace was made with is a wrong-key error, saying which', async () => {
    const byKey = await NamespaceCipher.create({ key });
    const byPassphrase = await NamespaceCipher.create({ passphrase: 'pass', iterations: 1000 });
    const cases = [
      [{ passphrase: 'pass', iterations: 1000 }, byKey.info, /encrypted with a key, not a passphrase/],
      [{ key }, byPassphrase.info, /encrypted with a passphrase, not a key/],
    ] as const;
    for (const [options, info, why] of cases) {
      const error = await NamespaceCipher.open(options, info, 'ns').catch((e: unknown) => e);
      expect(isEngramError(error, 'VALIDATION') && error.field).toBe('encryption');
      expect((error as Error).message).toMatch(why);
    }
  });

  it('refuses key info whose check opens under the key but holds another text', async () => {
    const keyId = 'FORGED01';
    const info = {
      v: 2 as const,
      keyId,
      check: await keyCheck(key, keyId, 'not the check text'),
      rotation: 'x',
    };
    const error = await NamespaceCipher.open({ key }, info, 'ns').catch((e: unknown) => e);
    expect(isEngramError(error, 'VALIDATION') && error.field).toBe('encryption');
    expect((error as Error).message).toMatch(/the key check failed/);
  });

  it('refuses key info whose key id was swapped: the check is bound to the id every value then carries', async () => {
    const cipher = await NamespaceCipher.create({ key });
    const swapped = { ...cipher.info, keyId: 'SWAPPED1' };
    const error = await NamespaceCipher.open({ key }, swapped, 'ns').catch((e: unknown) => e);
    expect(isEngramError(error, 'VALIDATION') && error.field).toBe('encryption');
    expect((error as Error).message).toMatch(/the key check failed/);
  });

  it('seals the rotation proofs of two namespaces on one CryptoKey under different IVs', async () => {
    // The proof's IV is fixed per key id; shared by two key ids under one key, GCM's nonce would repeat.
    const first = await NamespaceCipher.create({ key });
    const second = await NamespaceCipher.create({ key });
    const iv = async (cipher: NamespaceCipher) =>
      toBase64Url(fromBase64Url(await cipher.rotationProof()).subarray(0, 12));
    expect(await iv(first)).not.toBe(await iv(second));
    // The proof is the same each time it is made: the edge compares its hash with the key info's.
    expect(await first.rotationProof()).toBe(await first.rotationProof());
  });

  it('tells a value sealed under another key (a rotation) from a damaged one', async () => {
    const cipher = await NamespaceCipher.create({ key });
    const other = await NamespaceCipher.create({ key });
    const where = 'ns/memory/m1/content';
    const rotated = await cipher
      .decryptString(await other.encryptString('x', where), where)
      .catch((e: unknown) => e);
    expect(isEngramError(rotated, 'VALIDATION') && rotated.field).toBe(where);
    expect(isOtherKeyError(rotated)).toBe(true);
    const sealed = await cipher.encryptString('x', where);
    const moved = await cipher.decryptString(sealed, 'ns/memory/m2/content').catch((e: unknown) => e);
    expect(isEngramError(moved, 'VALIDATION')).toBe(true);
    expect(isOtherKeyError(moved)).toBe(false);
  });

  it('takes plaintext where a sealed value belongs for damage, never for a value of another key', async () => {
    // Another key fails the whole sync round (a rotation to follow); damage only sets the record aside.
    const cipher = await NamespaceCipher.create({ key });
    const where = 'ns/memory/m1/content';
    for (const text of ['Dear.Bob.see you', 'e1.x', `e1.${cipher.keyId}.short`, 'plain']) {
      const error = await cipher.decryptString(text, where).catch((e: unknown) => e);
      expect(isEngramError(error, 'VALIDATION') && error.field, text).toBe(where);
      expect(isOtherKeyError(error), text).toBe(false);
    }
  });

  it('derives key info asking for up to the cap, or past it when this device asks as many itself', async () => {
    // Each case derives ~2 million PBKDF2 rounds, then fails the key check (another key's info): what is
    // asserted is that it was derived and checked, not refused for its iterations.
    const made = await NamespaceCipher.create({ passphrase: 'pass', iterations: 1000 });
    const asking = (iterations: number) => ({ ...made.info, kdf: { ...made.info.kdf!, iterations } });
    const cases = [
      [{ passphrase: 'other' }, MAX_ACCEPTED_ITERATIONS],
      [{ passphrase: 'other', iterations: MAX_ACCEPTED_ITERATIONS + 1 }, MAX_ACCEPTED_ITERATIONS + 1],
    ] as const;
    for (const [options, iterations] of cases) {
      const error = await NamespaceCipher.open(options, asking(iterations), 'ns').catch((e: unknown) => e);
      expect(isEngramError(error, 'VALIDATION') && error.field, String(iterations)).toBe('encryption');
    }
    await expect(
      NamespaceCipher.open({ passphrase: 'other' }, asking(MAX_ACCEPTED_ITERATIONS + 1), 'ns'),
    ).rejects.toMatchObject({ code: 'VALIDATION', field: 'encryption.iterations' });
  });

  it('never seals two values with one IV, across refills of its pool of random IVs', async () => {
    const cipher = await NamespaceCipher.create({ key });
    const sealed = await Promise.all(
      Array.from({ length: 10_000 }, (_, i) => cipher.encryptString('same', `ns/memory/m${i % 3}/content`)),
    );
    const ivs = new Set(sealed.map((s) => toBase64Url(parts(s).bytes.subarray(0, 12))));
    expect(ivs.size).toBe(sealed.length);
    expect(await cipher.decryptString(sealed[9_999]!, 'ns/memory/m0/content')).toBe('same');
  });

  it('reads base64url as the spec writes it, whatever the runtime', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const text = toBase64Url(bytes);
    expect(text).not.toMatch(/[+/=]/);
    expect(fromBase64Url(text)).toEqual(bytes);
    expect(() => fromBase64Url('ab$d')).toThrow();
  });
});
