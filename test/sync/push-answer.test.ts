import { describe, expect, it } from 'vitest';
import { formatHlc } from '../../src/core/hlc.js';
import { MAX_CLOCK_SKEW_MS_DEFAULT } from '../../src/core/sync/protocol.js';
import { serveSync } from '../../src/core/sync/server.js';
import { InMemoryStore } from '../../src/index.js';
import { replicaThrough, testApp } from '../edge/helpers.js';

describe('push answers', () => {
  it('a replica asks for pushes to be answered with ids only, and its records still reach the edge', async () => {
    const { app, store, token } = await testApp();
    const seen: { url: string; body: string }[] = [];
    const fetchFn = async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await app.request(String(input), init);
      seen.push({ url: String(input), body: await response.clone().text() });
      return response;
    };
    const mem = await replicaThrough(token, fetchFn as typeof fetch);
    const added = await mem.add({ content: 'pushed with a slim answer' });
    const result = await mem.sync();
    await mem.close();
    expect(result.pushed).toBe(1);
    const pushes = seen.filter(({ body }) => body.includes('"push":'));
    expect(pushes.length).toBeGreaterThan(0);
    for (const { url, body } of pushes) {
      expect(new URL(url).searchParams.get('answer')).toBe('ids');
      expect(JSON.parse(body).push).toMatchObject({ memories: [], links: [] });
    }
    const [stored] = await store.getMemories('demo', [added.id]);
    expect(stored?.memory.content).toBe('pushed with a slim answer');
  });

  it('serveSync called without options records a push as replicated and answers with its clock bound', async () => {
    const store = new InMemoryStore();
    await store.open();
    const stamp = formatHlc({ wallMs: Date.now() - 1000, counter: 0, node: 'device' });
    const push = {
      memories: [
        {
          id: 'm1',
          create: { namespace: 'ns', createdAt: new Date().toISOString() },
          values: { content: 'from a replica', kind: 'note', tags: [], metadata: {} },
          clocks: { content: stamp, kind: stamp, tags: stamp, metadata: stamp },
        },
      ],
    };
    const before = Date.now();
    const answer = await serveSync(store, 'ns', { push });
    expect(answer.push?.memories.map((r) => r.memory.id)).toEqual(['m1']);
    expect(answer.maxClockSkewMs).toBe(MAX_CLOCK_SKEW_MS_DEFAULT);
    expect(answer.serverTime).toBeGreaterThanOrEqual(before);
    const [change] = await store.changes('ns', 0, 10);
    expect(change).toMatchObject({ id: 'm1', origin: 'remote' });
    await store.close();
  });
});
