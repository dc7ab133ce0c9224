import { describe, expect, it } from 'vitest';
import { type KeyInfo, NamespaceCipher } from '../../src/core/crypto/cipher.js';
import { encryptMemoryValues } from '../../src/core/crypto/fields.js';
import { resolveKey } from '../../src/core/crypto/namespace-key.js';
import type { SyncRequest } from '../../src/core/sync/protocol.js';

/*
 * The edge's key rules (resolveKey) on requests built by hand: what a device of this release never sends,
 * but a token holder without the key, or a device of another release, may.
 */

const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

/** A push of `memory`, and one of `link`, each refused naming its metadata. */
async function expectMetadataRefused(cipher: NamespaceCipher, memory: object, link: object): Promise<void> {
  const push = (records: object) => ({ key: { id: cipher.keyId, seals: 2 }, push: records }) as SyncRequest;
  expect(await refusal(resolveKey('ns', push({ memories: [memory] }), cipher.info))).toMatchObject({
    code: 'CONFLICT',
    field: 'sync.push.memories.0.values.metadata',
  });
  expect(await refusal(resolveKey('ns', push({ links: [link] }), cipher.info))).toMatchObject({
    code: 'CONFLICT',
    field: 'sync.push.links.0.values.metadata',
  });
}

describe('resolveKey', () => {
  it('refuses version 1 key info that carries a rotation hash', async () => {
    const info = { v: 1, keyId: 'OLDKEY01', check: 'A'.repeat(40), rotation: 'B'.repeat(43) } as KeyInfo;
    expect(await refusal(resolveKey('ns', { key: { info } }, null))).toMatchObject({
      code: 'VALIDATION',
      field: 'sync.key.info.rotation',
    });
  });

  it('moves a namespace only from the key it is on, version 1 (no proof) or 2', async () => {
    const next = (await NamespaceCipher.create({ key })).info;
    const v1: KeyInfo = { v: 1, keyId: 'OLDKEY01', check: 'A'.repeat(40) };
    const rotateV1: SyncRequest = { key: { rotate: { from: 'OTHERKEY', to: next }, seals: 2 } };
    expect(await refusal(resolveKey('ns', rotateV1, v1))).toMatchObject({
      code: 'CONFLICT',
      field: 'sync.key.rotate.from',
    });
    const from = await NamespaceCipher.create({ key });
    const other = await NamespaceCipher.create({ key });
    // A proof of another key, naming that key: the namespace is not on it, whatever the proof proves.
    const rotateV2: SyncRequest = {
      key: { rotate: { from: other.keyId, to: next, proof: await other.rotationProof() }, seals: 2 },
    };
    expect(await refusal(resolveKey('ns', rotateV2, from.info))).toMatchObject({
      code: 'CONFLICT',
      field: 'sync.key.rotate.from',
    });
    const proper: SyncRequest = {
      key: { rotate: { from: from.keyId, to: next, proof: await from.rotationProof() }, seals: 2 },
    };
    expect(await resolveKey('ns', proper, from.info)).toEqual({ info: next, changed: true });
  });

  it('refuses a created memory or link pushed without its sealed metadata (it would be stored as plaintext {})', async () => {
    const cipher = await NamespaceCipher.create({ key });
    const sealed = (text: string) => cipher.encryptString(text, 'ns/memory/m1/x');
    const stamp = '0190a0b0c0d0-0000-node';
    const memory = {
      id: 'm1',
      create: { namespace: 'ns', createdAt: '2026-01-01T00:00:00.000Z' },
      values: { content: await sealed('hello'), tags: [`00~${await sealed('[]')}`] },
      clocks: { content: stamp, tags: stamp },
    };
    const link = {
      id: 'l1',
      create: { namespace: 'ns', from: 'm1', to: 'm2', createdAt: '2026-01-01T00:00:00.000Z' },
      values: { type: 'related_to' },
      clocks: { type: stamp },
    };
    const push = (records: object) => ({ key: { id: cipher.keyId, seals: 2 }, push: records }) as SyncRequest;
    await expectMetadataRefused(cipher, memory, link);
    // With their sealed metadata, both pass.
    const metadata = { 'engram.encrypted': await sealed('{}') };
    const whole = push({
      memories: [{ ...memory, values: { ...memory.values, metadata } }],
      links: [{ ...link, values: { ...link.values, metadata } }],
    });
    expect(await resolveKey('ns', whole, cipher.info)).toEqual({ info: cipher.info, changed: false });
  });

  it('refuses a pushed field sealed under another key than the namespace names, field by field', async () => {
    const cipher = await NamespaceCipher.create({ key });
    const other = await NamespaceCipher.create({ key });
    const stamp = '0190a0b0c0d0-0000-node';
    const plain = { content: 'hello', tags: ['work'], metadata: { a: 1 }, embedding: [0.5, 0.25] };
    const clocks = { content: stamp, tags: stamp, metadata: stamp, embedding: stamp };
    const mine = await encryptMemoryValues(cipher, 'ns', 'm1', plain, clocks);
    const theirs = await encryptMemoryValues(other, 'ns', 'm1', plain, clocks);
    const push = (values: object) =>
      ({
        key: { id: cipher.keyId, seals: 2 },
        push: { memories: [{ id: 'm1', values, clocks }] },
      }) as SyncRequest;
    expect(await resolveKey('ns', push(mine), cipher.info)).toEqual({ info: cipher.info, changed: false });
    for (const field of ['content', 'tags', 'metadata', 'embedding'] as const) {
      expect(
        await refusal(resolveKey('ns', push({ ...mine, [field]: theirs[field] }), cipher.info)),
        field,
      ).toMatchObject({
        code: 'CONFLICT',
        field: `sync.push.memories.0.values.${field}`,
      });
    }
  });

  it('refuses sealed metadata that carries plaintext beside its sealed entry, and plaintext link metadata', async () => {
    const cipher = await NamespaceCipher.create({ key });
    const stamp = '0190a0b0c0d0-0000-node';
    const sealed = await cipher.encryptString('{}', 'ns/memory/m1/metadata');
    const memory = {
      id: 'm1',
      values: { metadata: { 'engram.encrypted': sealed, note: 'in clear' } },
      clocks: { metadata: stamp },
    };
    const link = { id: 'l1', values: { metadata: { why: 'in clear' } }, clocks: { metadata: stamp } };
    await expectMetadataRefused(cipher, memory, link);
  });

  it('refuses sealed metadata kept under another name than its one sealed entry', async () => {
    const cipher = await NamespaceCipher.create({ key });
    const stamp = '0190a0b0c0d0-0000-node';
    const sealed = await cipher.encryptString('{}', 'ns/memory/m1/metadata');
    const metadata = { note: sealed };
    const memory = { id: 'm1', values: { metadata }, clocks: { metadata: stamp } };
    const link = { id: 'l1', values: { metadata }, clocks: { metadata: stamp } };
    await expectMetadataRefused(cipher, memory, link);
  });

  it('refuses a request naming a key for a namespace that has none, a pull as well as a push', async () => {
    const cipher = await NamespaceCipher.create({ key });
    const stamp = '0190a0b0c0d0-0000-node';
    const content = await cipher.encryptString('hello', 'ns/memory/m1/content');
    const requests: SyncRequest[] = [
      {
        key: { id: cipher.keyId, seals: 2 },
        push: { memories: [{ id: 'm1', values: { content }, clocks: { content: stamp } }] },
      },
      { key: { id: cipher.keyId, seals: 2 }, pull: { after: 0 } },
    ];
    for (const request of requests) {
      expect(await refusal(resolveKey('ns', request, null))).toMatchObject({
        code: 'CONFLICT',
        field: 'sync.key.id',
      });
    }
    // Without a key named, a plain namespace takes the plain push.
    const plain: SyncRequest = {
      push: { memories: [{ id: 'm1', values: { content: 'hello' }, clocks: { content: stamp } }] },
    };
    expect(await resolveKey('ns', plain, null)).toEqual({ info: null, changed: false });
  });
});
