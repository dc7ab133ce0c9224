import { describe, expect, it } from 'vitest';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { testApp } from '../edge/helpers.js';

describe('push answers', () => {
  it('a replica asks for pushes to be answered with ids only, and its records still reach the edge', async () => {
    const { app, store, token } = await testApp();
    const seen: { url: string; body: string }[] = [];
    const fetchFn = async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await app.request(String(input), init);
      seen.push({ url: String(input), body: await response.clone().text() });
      return response;
    };
    const mem = await createMemory({
      store: new InMemoryStore(),
      namespace: 'demo',
      sync: {
        url: 'http://edge.test',
        token,
        intervalMs: 0,
        debounceMs: 3_600_000,
        fetch: fetchFn as typeof fetch,
      },
    });
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
});
