import { describe, expect, it } from 'vitest';
import { EncryptingTransport } from '../../src/core/crypto/encrypting-transport.js';
import { KEY_INFO_META } from '../../src/core/crypto/namespace-key.js';
import type { SyncRequest, SyncResponse } from '../../src/core/sync/protocol.js';
import { InMemoryStore } from '../../src/index.js';

/** An edge whose every answer is `answer`: what a proxy or a broken edge may send. */
function edgeAnswering(answer: SyncResponse) {
  const asked: SyncRequest[] = [];
  return {
    asked,
    transport: {
      async exchange(request: SyncRequest): Promise<SyncResponse> {
        asked.push(request);
        return answer;
      },
    },
  };
}

describe('EncryptingTransport settling the key with the edge', () => {
  it('is a STORAGE error, pushing nothing and keeping no key, when the edge answers without the key info', async () => {
    const store = new InMemoryStore();
    await store.open();
    const seal = await EncryptingTransport.prepare(store, 'n', {
      passphrase: 'pass phrase',
      iterations: 1000,
    });
    const edge = edgeAnswering({} as SyncResponse);
    const transport = seal(edge.transport);
    const push: SyncRequest = {
      push: {
        memories: [{ id: 'm', values: { content: 'secret' }, clocks: { content: '0190a1b2c3d4-0000-node' } }],
      },
    };
    await expect(transport.exchange(push)).rejects.toMatchObject({
      code: 'STORAGE',
      message: 'sync: the edge did not keep the encryption key info',
    });
    // Only the key proposal went out, and no key is taken as the namespace's.
    expect(edge.asked.map((r) => Object.keys(r))).toEqual([['key']]);
    expect(transport.keyId).toBeUndefined();
    expect(await store.getMeta('n', KEY_INFO_META)).toBeUndefined();
    await store.close();
  });
});
