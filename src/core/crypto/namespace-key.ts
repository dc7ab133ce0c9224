import { EngramError } from '../errors.js';
import type { Json } from '../model.js';
import type { MemoryStore } from '../store-contract.js';
import type { SyncRequest } from '../sync/protocol.js';
import { type KeyInfo, rotationHash } from './cipher.js';
import { ENCRYPTED_KEY } from './fields.js';
import { joinSealedTags, sealedKeyId, unpackSealedEmbedding } from './sealed.js';

/** The meta key under which a store keeps an encrypted namespace's {@link KeyInfo}. */
export const KEY_INFO_META = 'encryption';

export async function readKeyInfo(store: MemoryStore, namespace: string): Promise<KeyInfo | null> {
  return keyInfoOf(await store.getMeta(namespace, KEY_INFO_META));
}

/** The key info a `KEY_INFO_META` value holds, if any. */
export function keyInfoOf(info: Json | undefined): KeyInfo | null {
  return info && typeof info === 'object' && !Array.isArray(info) ? (info as unknown as KeyInfo) : null;
}

/** The namespace's key info once a sync request is applied; `changed` when the request sets it. */
export interface ResolvedKey {
  info: KeyInfo | null;
  changed: boolean;
}

/**
 * The server's side of key handling in one sync request, checked without writing anything (the caller
 * writes `info` with the rest of the request, once all of it has passed): keeps the first key info
 * proposed for a namespace, applies a rotation from the current key, and refuses a push sealed with any
 * key but the namespace's, a plaintext push into an encrypted namespace (whatever key id it names), or a
 * sealed one into a plain one, so nothing is ever stored under the wrong key. `stored`: the namespace's
 * key info as the store holds it; `holdsRecords`: whether the namespace has records or tombstones.
 */
export async function resolveKey(
  namespace: string,
  request: SyncRequest,
  stored: KeyInfo | null,
  holdsRecords: () => Promise<boolean> = async () => false,
): Promise<ResolvedKey> {
  let info = stored;
  let changed = false;
  const { key } = request;
  if (key?.info) assertKeyInfo(key.info, 'sync.key.info');
  if (key?.rotate) {
    if (!info || info.keyId !== key.rotate.from) {
      throw new EngramError(
        'CONFLICT',
        `sync.key.rotate.from: namespace ${JSON.stringify(namespace)} is ${info ? `on key ${info.keyId}` : 'not encrypted'}, not on key ${key.rotate.from}`,
        { field: 'sync.key.rotate.from' },
      );
    }
    assertKeyInfo(key.rotate.to, 'sync.key.rotate.to');
    // The key id is public: a version 2 key is left only by a request proving it holds that key.
    if (info.rotation !== undefined) {
      const proof = key.rotate.proof;
      if (proof === undefined || (await rotationHash(proof)) !== info.rotation) {
        throw new EngramError(
          'FORBIDDEN',
          `sync.key.rotate.proof: only a device holding namespace ${JSON.stringify(namespace)}'s current key ${info.keyId} may rotate it (${proof === undefined ? 'no proof was sent' : 'the proof does not match'}); nothing was written`,
          { field: 'sync.key.rotate.proof' },
        );
      }
    }
    info = key.rotate.to;
    changed = true;
  } else if (key?.info && !info) {
    // Key info only starts a namespace: set on one holding plaintext records, it would lock out every
    // device writing them (and anyone with a token could do it); such a namespace is not converted.
    if (await holdsRecords()) {
      throw new EngramError(
        'CONFLICT',
        `sync.key.info: namespace ${JSON.stringify(namespace)} already holds plaintext records and is not converted in place; encrypt a new namespace (docs/security.md); nothing was written`,
        { field: 'sync.key.info' },
      );
    }
    info = key.info;
    changed = true;
  }
  // A device of a release that seals without stamps would write values that devices of this one cannot
  // open, and read theirs as damaged: it is turned away from a version 2 namespace, whatever it asks.
  if (key !== undefined && info?.v === 2 && (key.seals ?? 1) < 2) {
    throw new EngramError(
      'CONFLICT',
      `sync.key.seals: namespace ${JSON.stringify(namespace)} is sealed with key info version 2 (values bound to their stamps), which this device's Engram predates: upgrade it; nothing was written`,
      { field: 'sync.key.seals' },
    );
  }
  const pushes = Boolean(request.push?.memories?.length || request.push?.links?.length);
  // A push must be sealed with the namespace's key; any request naming a key learns of a rotation here,
  // before a pull hands it records it could not open.
  if ((pushes || key?.id !== undefined) && (info?.keyId ?? undefined) !== (key?.id ?? undefined)) {
    const message = !info
      ? `sync.key.id: namespace ${JSON.stringify(namespace)} is not encrypted, but the push is sealed with key ${key?.id}`
      : key?.id
        ? `sync.key.id: namespace ${JSON.stringify(namespace)} is encrypted with key ${info.keyId}, not ${key.id} (rotated?); nothing was written`
        : `sync.key.id: namespace ${JSON.stringify(namespace)} is end-to-end encrypted: open it with createMemory({ encryption }) to write; nothing was written`;
    throw new EngramError('CONFLICT', message, { field: 'sync.key.id' });
  }
  if (pushes && info) assertSealedPush(request.push!, namespace, info.keyId);
  return { info, changed };
}

/** Version 2 key info keeps its rotation hash (without it, anyone could rotate the namespace away). */
function assertKeyInfo(info: KeyInfo, field: string): void {
  if (info.v === 2 && info.rotation === undefined) {
    throw new EngramError(
      'VALIDATION',
      `${field}.rotation: expected the key's rotation hash in version 2 key info`,
      {
        field: `${field}.rotation`,
      },
    );
  }
  if (info.v === 1 && info.rotation !== undefined) {
    throw new EngramError('VALIDATION', `${field}.rotation: expected none in version 1 key info`, {
      field: `${field}.rotation`,
    });
  }
}

/**
 * Naming the key id proves nothing (`GET /capabilities` shows it): every sealed field of every pushed
 * record must have the shape crypto/fields.ts gives it under that key. A plaintext value stored here
 * would fail every device's next pull.
 */
function assertSealedPush(push: NonNullable<SyncRequest['push']>, namespace: string, keyId: string): void {
  const refuse = (field: string): never => {
    throw new EngramError(
      'CONFLICT',
      `${field}: namespace ${JSON.stringify(namespace)} is end-to-end encrypted with key ${keyId}: expected a value sealed with that key, got plaintext or a value sealed otherwise; open the namespace with createMemory({ encryption }) to write; nothing was written`,
      { field },
    );
  };
  push.memories?.forEach(({ values, create }, i) => {
    const where = `sync.push.memories.${i}.values`;
    // A record created here carries every sealed field it always has: one left out would be stored as
    // plaintext `[]` / `{}`, which no device can open.
    if (create && values.tags === undefined) refuse(`${where}.tags`);
    if (create && values.metadata === undefined) refuse(`${where}.metadata`);
    if (values.content !== undefined && sealedKeyId(values.content) !== keyId) refuse(`${where}.content`);
    if (values.tags !== undefined && sealedKeyId(joinSealedTags(values.tags)) !== keyId)
      refuse(`${where}.tags`);
    if (values.metadata !== undefined && !isSealedMetadata(values.metadata, keyId))
      refuse(`${where}.metadata`);
    if (values.embedding !== undefined && sealedKeyId(unpackSealedEmbedding(values.embedding)) !== keyId) {
      refuse(`${where}.embedding`);
    }
  });
  push.links?.forEach(({ values, create }, i) => {
    if (create && values.metadata === undefined) refuse(`sync.push.links.${i}.values.metadata`);
    if (values.metadata !== undefined && !isSealedMetadata(values.metadata, keyId)) {
      refuse(`sync.push.links.${i}.values.metadata`);
    }
  });
}

function isSealedMetadata(metadata: { [k: string]: Json }, keyId: string): boolean {
  const keys = Object.keys(metadata);
  return keys.length === 1 && keys[0] === ENCRYPTED_KEY && sealedKeyId(metadata[ENCRYPTED_KEY]) === keyId;
}
