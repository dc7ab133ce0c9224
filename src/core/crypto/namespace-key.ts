import { EngramError } from '../errors.js';
import type { Json } from '../model.js';
import type { MemoryStore } from '../store-contract.js';
import type { SyncRequest } from '../sync/protocol.js';
import type { KeyInfo } from './cipher.js';

/** The meta key under which a store keeps an encrypted namespace's {@link KeyInfo}. */
export const KEY_INFO_META = 'encryption';

export async function readKeyInfo(store: MemoryStore, namespace: string): Promise<KeyInfo | null> {
  const info = await store.getMeta(namespace, KEY_INFO_META);
  return info && typeof info === 'object' && !Array.isArray(info) ? (info as unknown as KeyInfo) : null;
}

/**
 * The server's side of key handling in one sync request: keeps the first key info proposed for a
 * namespace, applies a rotation from the current key, and refuses a push sealed with any key but the
 * namespace's (or a plaintext push into an encrypted namespace, or a sealed one into a plain one), so
 * nothing is ever stored under the wrong key. `stored`: the namespace's key info, when already being read.
 */
export async function settleKey(
  store: MemoryStore,
  namespace: string,
  request: SyncRequest,
  stored: Promise<KeyInfo | null> = readKeyInfo(store, namespace),
): Promise<KeyInfo | null> {
  let info = await stored;
  const { key } = request;
  if (key?.rotate) {
    if (!info || info.keyId !== key.rotate.from) {
      throw new EngramError(
        'CONFLICT',
        `sync.key.rotate.from: namespace ${JSON.stringify(namespace)} is ${info ? `on key ${info.keyId}` : 'not encrypted'}, not on key ${key.rotate.from}`,
        { field: 'sync.key.rotate.from' },
      );
    }
    info = key.rotate.to;
    await store.apply(namespace, { meta: { [KEY_INFO_META]: info as unknown as Json } });
  } else if (key?.info && !info) {
    info = key.info;
    await store.apply(namespace, { meta: { [KEY_INFO_META]: info as unknown as Json } });
  }
  const pushes = Boolean(request.push?.memories?.length || request.push?.links?.length);
  if (pushes && (info?.keyId ?? undefined) !== (key?.id ?? undefined)) {
    const message = !info
      ? `sync.key.id: namespace ${JSON.stringify(namespace)} is not encrypted, but the push is sealed with key ${key?.id}`
      : key?.id
        ? `sync.key.id: namespace ${JSON.stringify(namespace)} is encrypted with key ${info.keyId}, not ${key.id} (rotated?); nothing was written`
        : `sync.key.id: namespace ${JSON.stringify(namespace)} is end-to-end encrypted: open it with createMemory({ encryption }) to write; nothing was written`;
    throw new EngramError('CONFLICT', message, { field: 'sync.key.id' });
  }
  return info;
}
