import { describe, expect, it } from 'vitest';
import { RemoteStore } from '../../src/backends/remote/index.js';
import { GET_BYTES } from '../../src/core/sync/server.js';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { testApp } from '../edge/helpers.js';

/** About 190 KiB of JSON each: 64 KiB of content, ~60 KiB of metadata and a 2,048-number embedding. */
function large(i: number) {
  return {
    content: `memory ${i} ${'x'.repeat(64 * 1024 - 20)}`,
    metadata: { note: 'm'.repeat(60 * 1024) },
    embedding: Array.from({ length: 2048 }, (_, j) => Math.sin(i + j) / 3),
  };
}

describe('a get of many large records', () => {
  it('is refused by the edge past GET_BYTES, and a RemoteStore asks for fewer ids at a time', async () => {
    const store = new InMemoryStore();
    const { app, token, call } = await testApp({ store });
    const mem = await createMemory({ store, namespace: 'demo' });
    const ids: string[] = [];
    for (let i = 0; i < 120; i += 20) {
      const added = await mem.addMany(Array.from({ length: 20 }, (_, j) => large(i + j)));
      ids.push(...added.map((m) => m.id));
    }
    expect(120 * 190 * 1024).toBeGreaterThan(GET_BYTES);

    const refused = await call('POST', '/v1/ns/demo/sync', { get: { memories: ids } });
    expect(refused.status).toBe(413);
    expect(refused.json.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', field: 'sync.get' });
    const small = await call('POST', '/v1/ns/demo/sync', { get: { memories: ids.slice(0, 10) } });
    expect(small.status).toBe(200);
    expect(small.json.get.memories).toHaveLength(10);

    const requests: number[] = [];
    const remote = new RemoteStore({
      url: 'http://edge.test',
      token,
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        const response = await app.request(String(input), init);
        requests.push(response.status);
        return response;
      }) as typeof fetch,
    });
    const records = await remote.getMemories('demo', ids);
    expect(records.map((r) => r.memory.id)).toEqual(ids);
    expect(records[119]!.memory.content.startsWith('memory 119 ')).toBe(true);
    expect(requests[0]).toBe(413);
    expect(requests.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
    await remote.close();
    await mem.close();
  });
});
