import { describe, expect, it } from 'vitest';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, InMemoryStore } from '../../src/index.js';

const SECRET = 'reset-secret';

describe('a replica whose cursor is past the end of the server feed', () => {
  it('starts over from the beginning instead of pulling nothing for ever', async () => {
    let app = createEdgeApp({ store: new InMemoryStore(), secret: SECRET, logger: false, live: false });
    const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) =>
      app.fetch(new Request(input, init))) as typeof fetch;
    const token = await mintToken({ secret: SECRET, ns: ['n'] });
    const sync = { url: 'http://edge.test', token, fetch: fetchFn, intervalMs: 0, live: false };
    const writer = await createMemory({ namespace: 'n', sync });
    const reader = await createMemory({ namespace: 'n', sync });
    for (const content of ['one', 'two', 'three']) await writer.add({ content });
    await writer.sync();
    await reader.sync();
    expect(await reader.store.getMeta('n', 'sync.cursor')).toBe(3);

    // The server's database is replaced by an empty one (a reset, a restored backup, a fresh --data).
    const fresh = new InMemoryStore();
    app = createEdgeApp({ store: fresh, secret: SECRET, logger: false, live: false });
    const other = await createMemory({ namespace: 'n', sync });
    const after = await other.add({ content: 'written after the reset' });
    await other.sync();
    expect(await fresh.latestSeq('n')).toBeLessThan(3);

    await reader.sync();
    expect((await reader.get(after.id))?.content).toBe('written after the reset');
    expect(await reader.store.getMeta('n', 'sync.cursor')).toBe(await fresh.latestSeq('n'));
    for (const mem of [writer, reader, other]) await mem.close();
  });
});
