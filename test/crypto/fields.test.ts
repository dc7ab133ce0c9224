import { describe, expect, it } from 'vitest';
import { NamespaceCipher } from '../../src/core/crypto/cipher.js';
import {
  decryptLinkValues,
  decryptMemoryValues,
  ENCRYPTED_EMBEDDING_MAX,
  ENCRYPTED_KEY,
  encryptLinkValues,
  encryptMemoryValues,
  sealedLength,
} from '../../src/core/crypto/fields.js';
import { EMBEDDING_BYTE_LIMIT } from '../../src/core/crypto/sealed.js';
import { parseSyncRequest } from '../../src/core/sync/validate.js';
import { LIMITS } from '../../src/core/validate.js';
import type { Memory } from '../../src/index.js';
import { keyCheck } from './key-check.js';

/*
 * Each sealed value is bound to its place (namespace, entity, id, field and, under a version 2 key, the
 * field's stamp): an edge that copies one elsewhere, even into a namespace it gave the same key info, gets
 * a VALIDATION error on every device, never another record's text.
 */

const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
const stamp = '0190a0b0c0d0-0000-node';
const clocks = { content: stamp, tags: stamp, metadata: stamp, embedding: stamp };
const plain: Pick<Memory, 'content' | 'tags' | 'metadata' | 'embedding'> = {
  content: '{"a":1}',
  tags: ['work'],
  metadata: { a: 1 },
  embedding: [0.5, 0.25],
};

describe('sealed fields', () => {
  it('open in their own place', async () => {
    const cipher = await NamespaceCipher.create({ key });
    const sealed = await encryptMemoryValues(cipher, 'ns', 'm1', plain, clocks);
    expect(await decryptMemoryValues(cipher, 'ns', 'm1', sealed, clocks)).toEqual(plain);
    const link = await encryptLinkValues(cipher, 'ns', 'l1', { metadata: { a: 1 } }, clocks);
    expect(await decryptLinkValues(cipher, 'ns', 'l1', link, clocks)).toEqual({ metadata: { a: 1 } });
  });

  it('do not open in another namespace on the same key', async () => {
    const cipher = await NamespaceCipher.create({ key });
    const sealed = await encryptMemoryValues(cipher, 'ns', 'm1', plain, clocks);
    for (const field of ['content', 'tags', 'metadata', 'embedding'] as const) {
      await expect(
        decryptMemoryValues(cipher, 'other', 'm1', { [field]: sealed[field] }, clocks),
        field,
      ).rejects.toMatchObject({ code: 'VALIDATION' });
    }
  });

  it("do not open as a link's metadata, nor a link's as a memory's", async () => {
    const cipher = await NamespaceCipher.create({ key });
    const memory = await encryptMemoryValues(cipher, 'ns', 'x1', { metadata: { a: 1 } }, clocks);
    await expect(decryptLinkValues(cipher, 'ns', 'x1', memory, clocks)).rejects.toMatchObject({
      code: 'VALIDATION',
    });
    const link = await encryptLinkValues(cipher, 'ns', 'x1', { metadata: { a: 1 } }, clocks);
    await expect(decryptMemoryValues(cipher, 'ns', 'x1', link, clocks)).rejects.toMatchObject({
      code: 'VALIDATION',
    });
  });

  it('do not open in another field of the same record', async () => {
    const cipher = await NamespaceCipher.create({ key });
    const sealed = await encryptMemoryValues(cipher, 'ns', 'm1', plain, clocks);
    // The sealed metadata (the JSON text {"a":1}) would read as content, and the content as metadata.
    const moved = [
      { content: sealed.metadata[ENCRYPTED_KEY] as string },
      { metadata: { [ENCRYPTED_KEY]: sealed.content } },
    ];
    for (const values of moved) {
      const field = Object.keys(values)[0]!;
      await expect(decryptMemoryValues(cipher, 'ns', 'm1', values, clocks), field).rejects.toMatchObject({
        code: 'VALIDATION',
      });
    }
  });
});

describe('sealed fields at their plaintext limits', () => {
  // Key info made by another client may name a key id up to 32 characters (the edge's key info accepts
  // it); a value sealed under it carries that id, so the edge's sealed limits must allow for it.
  const cipherWithKeyId = async (keyId: string) =>
    NamespaceCipher.open(
      { key },
      { v: 2, keyId, check: await keyCheck(key, keyId, 'engram key check v1') },
      'ns',
    );

  it.each([8, 32])("pass the edge's push validation under a %i-character key id", async (length) => {
    const keyId = 'K'.repeat(length);
    const cipher = await cipherWithKeyId(keyId);
    expect(cipher.keyId).toBe(keyId);
    const values = {
      content: 'x'.repeat(LIMITS.contentBytes),
      tags: ['t'.repeat(40), 'u'.repeat(40)],
      metadata: { blob: 'y'.repeat(LIMITS.metadataBytes - '{"blob":""}'.length) },
      embedding: Array.from({ length: LIMITS.embeddingDims }, (_, i) => i / 7),
    };
    const sealed = await encryptMemoryValues(cipher, 'ns', 'm1', values, clocks);
    expect(sealed.content).toContain(`.${keyId}.`);
    const push = {
      key: { id: keyId, seals: 2 },
      push: {
        memories: [
          {
            id: 'm1',
            create: { namespace: 'ns', createdAt: '2026-12-06T00:00:00.000Z' },
            values: { ...sealed, kind: 'note' },
            clocks: { ...clocks, kind: stamp },
          },
        ],
      },
    };
    expect(() => parseSyncRequest(push, 'ns')).not.toThrow();
    expect(await decryptMemoryValues(cipher, 'ns', 'm1', sealed, clocks)).toEqual(values);
  });

  it('are refused by the edge one step past their sealed limits, naming the field', () => {
    // Each is too big for the plain form as well, so only the sealed form's own limits stand in the way.
    const sealedOf = (length: number) => `e1.${'A'.repeat(length - 3)}`;
    const cases: Array<[string, unknown]> = [
      ['content', sealedOf(sealedLength(LIMITS.contentBytes) + 1)],
      // Right length, wrong characters: a space is in no sealed string.
      ['content', `e1.${'A '.repeat(LIMITS.contentBytes / 2)}`],
      ['metadata', { [ENCRYPTED_KEY]: sealedOf(sealedLength(LIMITS.metadataBytes) + 1) }],
      ['metadata', { [ENCRYPTED_KEY]: 'A'.repeat(LIMITS.metadataBytes) }],
      ['embedding', Array.from({ length: ENCRYPTED_EMBEDDING_MAX + 1 }, () => 1)],
      // Past the plain 4096 dimensions, with one number a packed byte triple cannot hold.
      [
        'embedding',
        Array.from({ length: LIMITS.embeddingDims + 1 }, (_, i) => (i === 0 ? EMBEDDING_BYTE_LIMIT : 1)),
      ],
    ];
    for (const [field, value] of cases) {
      const push = {
        key: { id: 'KEY00001', seals: 1 },
        push: { memories: [{ id: 'm1', values: { [field]: value }, clocks: { [field]: stamp } }] },
      };
      expect(() => parseSyncRequest(push, 'ns'), field).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field: `sync.push.memories.0.values.${field}` }),
      );
    }
  });
});
