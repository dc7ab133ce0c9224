import { describe, expect, it } from 'vitest';
import { fromBase64Url, toBase64Url } from '../../src/core/base64.js';
import { NamespaceCipher } from '../../src/core/crypto/cipher.js';
import { isEngramError } from '../../src/index.js';

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
