import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { testApp } from '../edge/helpers.js';

/*
 * Two copies of one device database (a restored backup, a copied browser profile) share the stored
 * client id. Their clocks must still never issue the same stamp for different edits: with equal stamps,
 * "equal stamps keep what is there" left each replica with its own value for good.
 */
describe('replicas sharing a client id', () => {
  afterEach(() => vi.restoreAllMocks());

  it('stamp with different nodes, so equal-millisecond edits of one field still converge everywhere', async () => {
    const frozen = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(frozen);
    const { app, store: edgeStore, token } = await testApp({ ns: ['tie'] });
    const sync = {
      url: 'http://edge.test',
      token,
      fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
        Promise.resolve(app.request(String(input), init))) as typeof fetch,
      live: false,
      intervalMs: 0,
      debounceMs: 3_600_000,
    };
    const first = new InMemoryStore();
    const one = await createMemory({ store: first, namespace: 'tie', sync });
    await one.add({ id: 'm', content: 'original' });
    await one.sync();
    const copy = new InMemoryStore();
    await copy.apply('tie', { meta: { clientId: (await first.getMeta('tie', 'clientId')) as string } });
    const two = await createMemory({ store: copy, namespace: 'tie', sync });
    await two.sync();

    await one.update('m', { content: 'edit from device 1' });
    await two.add({ id: 'pad', content: 'keeps the two counters level' });
    await two.update('m', { content: 'edit from device 2' });
    const [a] = await first.getMemories('tie', ['m']);
    const [b] = await copy.getMemories('tie', ['m']);
    // Same millisecond, same counter: only the node tells them apart.
    expect(a!.clocks.content!.slice(0, 17)).toBe(b!.clocks.content!.slice(0, 17));
    expect(a!.clocks.content).not.toBe(b!.clocks.content);

    for (let round = 0; round < 2; round++) {
      await one.sync();
      await two.sync();
    }
    const third = await createMemory({ store: new InMemoryStore(), namespace: 'tie', sync });
    await third.sync();
    const [onEdge] = await edgeStore.getMemories('tie', ['m']);
    const everywhere = [
      (await one.get('m'))?.content,
      (await two.get('m'))?.content,
      onEdge!.memory.content,
      (await third.get('m'))?.content,
    ];
    expect(new Set(everywhere).size).toBe(1);
    for (const mem of [one, two, third]) await mem.close();
  });
});
