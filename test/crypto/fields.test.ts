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

describe("the edge's checks of key info", () => {
  // The bounds another client's key info may reach (sync/validate.ts), each taken at the bound and refused
  // one step past it: a device of another release must be neither refused at the bound nor let past it.
  const info = {
    v: 2,
    keyId: 'KEY00001',
    check: 'C'.repeat(40),
    kdf: { name: 'PBKDF2-SHA256', iterations: 600_000, salt: 'S'.repeat(22) },
    rotation: 'R'.repeat(43),
  };
  const proof = 'P'.repeat(40);
  const request = (key: object) => parseSyncRequest({ key }, 'ns');
  const cases: Array<[string, object, object]> = [
    ['sync.key.id', { id: 'K'.repeat(4) }, { id: 'K'.repeat(3) }],
    ['sync.key.id', { id: 'K'.repeat(32) }, { id: 'K'.repeat(33) }],
    [
      'sync.key.info.keyId',
      { info: { ...info, keyId: 'K'.repeat(32) } },
      { info: { ...info, keyId: 'K'.repeat(33) } },
    ],
    ['sync.key.info.v', { info: { ...info, v: 1, rotation: undefined } }, { info: { ...info, v: 3 } }],
    [
      'sync.key.info.check',
      { info: { ...info, check: 'C'.repeat(16) } },
      { info: { ...info, check: 'C'.repeat(15) } },
    ],
    [
      'sync.key.info.check',
      { info: { ...info, check: 'C'.repeat(256) } },
      { info: { ...info, check: 'C'.repeat(257) } },
    ],
    [
      'sync.key.info.kdf.salt',
      { info: { ...info, kdf: { ...info.kdf, salt: 'S'.repeat(16) } } },
      { info: { ...info, kdf: { ...info.kdf, salt: 'S'.repeat(15) } } },
    ],
    [
      'sync.key.info.kdf.iterations',
      { info: { ...info, kdf: { ...info.kdf, iterations: 1000 } } },
      { info: { ...info, kdf: { ...info.kdf, iterations: 999 } } },
    ],
    ['sync.key.info.rotation', { info }, { info: { ...info, rotation: 'R'.repeat(42) } }],
    ['sync.key.seals', { seals: 1 }, { seals: 0 }],
    [
      'sync.key.rotate.proof',
      { rotate: { from: 'KEY00001', to: info, proof: 'P'.repeat(16) } },
      { rotate: { from: 'KEY00001', to: info, proof: 'P'.repeat(15) } },
    ],
    [
      'sync.key.rotate.to.check',
      { rotate: { from: 'KEY00001', to: info, proof } },
      { rotate: { from: 'KEY00001', to: { ...info, check: 'C'.repeat(15) }, proof } },
    ],
  ];

  it.each(cases)('%s: takes the bound, refuses one step past it', (field, bound, past) => {
    expect(() => request(bound)).not.toThrow();
    expect(() => request(past)).toThrow(expect.objectContaining({ code: 'VALIDATION', field }));
  });
});
