import { describe, expect, it } from 'vitest';
import { createLinkWrite } from '../../src/core/writes.js';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { formatHlc } from '../../src/store/index.js';
import { expectUsageCounted } from './usage-case.js';

// What the InMemoryStore keeps beside its records (vector space, sorted ids, inverted index, change feed),
// checked through the store's own reads where the shared conformance suite does not reach.

const stampAt = (wallMs: number) => formatHlc({ wallMs, counter: 0, node: 'old-client' });

describe('InMemoryStore internals', () => {
  it('usage counts the memories and the UTF-8 bytes of their content and metadata JSON', async () => {
    await expectUsageCounted(new InMemoryStore());
  });

  it('a write of the embedding alone (an older client, no model clock) moves the vector search', async () => {
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'v' });
    const a = await mem.add({ content: 'a', embedding: [1, 0] });
    const b = await mem.add({ content: 'b', embedding: [0.8, 0.6] });
    const nearest = async () => (await mem.search('', { vector: [0, 1] })).map((h) => h.memory.id);
    expect(await nearest()).toEqual([b.id, a.id]);
    await store.apply('v', {
      memories: [
        { id: a.id, values: { embedding: [0, 1] }, clocks: { embedding: stampAt(Date.now() + 60_000) } },
      ],
    });
    expect((await mem.get(a.id))?.embedding).toEqual([0, 1]);
    expect(await nearest()).toEqual([a.id, b.id]);
    await mem.close();
  });

  it('a write of the embedding alone moves the vector among the candidates, not only in the rescoring', async () => {
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'v' });
    // Twenty near the query and one opposite it: the exact rescoring only sees the nearest candidates.
    await mem.addMany(
      Array.from({ length: 20 }, (_, i) => ({ content: `near ${i}`, embedding: [1, (i + 1) / 10] })),
    );
    const target = await mem.add({ content: 'target', embedding: [0, -1] });
    await store.apply('v', {
      memories: [
        { id: target.id, values: { embedding: [0, 1] }, clocks: { embedding: stampAt(Date.now() + 60_000) } },
      ],
    });
    const [best] = await mem.search('', { vector: [0, 1], limit: 1 });
    expect(best?.memory.id).toBe(target.id);
    await mem.close();
  });

  it('a change of the embedding model alone moves the vector to that model', async () => {
    const mem = await createMemory({ store: new InMemoryStore(), namespace: 'v' });
    const m = await mem.add({ content: 'labelled', embedding: [0, 1], embeddingModel: 'old-model' });
    await mem.update(m.id, { embeddingModel: 'new-model' });
    const found = await mem.search('', { vector: [0, 1], model: 'new-model' });
    expect(found.map((h) => h.memory.id)).toEqual([m.id]);
    expect(await mem.search('', { vector: [0, 1], model: 'old-model' })).toEqual([]);
    await mem.close();
  });

  it('a removed memory leaves the vector search, and its id can be used again', async () => {
    const mem = await createMemory({ store: new InMemoryStore(), namespace: 'v' });
    await mem.add({ id: 'gone', content: 'a', embedding: [1, 0] });
    const kept = await mem.add({ content: 'b', embedding: [0, 1] });
    expect(await mem.remove('gone')).toBe(true);
    expect((await mem.search('', { vector: [1, 0] })).map((h) => h.memory.id)).toEqual([kept.id]);
    expect(await mem.store.vectors!('v', null, 10)).toEqual([{ id: kept.id, embedding: [0, 1] }]);
    await mem.close();
  });

  it("the dedupe guard's window counts memories written since the position, not links", async () => {
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'window' });
    const a = await mem.add({ content: 'one' });
    const b = await mem.add({ content: 'two' });
    const since = await store.latestSeq('window');
    // 1001 links written since, in one batch: link changes in the feed, no memory changed.
    const createdAt = new Date().toISOString();
    const links = Array.from({ length: 1001 }, (_, i) =>
      createLinkWrite(
        { id: `link-${i}`, namespace: 'window', from: a.id, to: b.id, type: `type-${i}`, createdAt },
        stampAt(Date.now()),
      ),
    );
    await store.apply('window', { links });
    expect(await store.stats('window')).toMatchObject({ links: 1001 });
    const now = new Date().toISOString();
    await expect(
      store.apply('window', { memories: [], dedupe: { content: 'no copy of this', since, now } }),
    ).resolves.toMatchObject({ memories: [] });
    await mem.close();
  });

  it('keeps its own copies of meta, tombstones and feed entries: what callers hold or change stays theirs', async () => {
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'own' });
    const given = { nested: { list: [1] } };
    await store.apply('own', { meta: { 'app.settings': given } });
    given.nested.list.push(2);
    const read = (await store.getMeta('own', 'app.settings')) as typeof given;
    expect(read).toEqual({ nested: { list: [1] } });
    read.nested.list.push(3);
    expect(await store.getMeta('own', 'app.settings')).toEqual({ nested: { list: [1] } });

    const m = await mem.add({ content: 'to bury' });
    await mem.remove(m.id);
    const [tombstone] = await store.getTombstones('own', [m.id]);
    const clock = tombstone!.clock;
    tombstone!.clock = 'changed';
    expect((await store.getTombstones('own', [m.id]))[0]!.clock).toBe(clock);

    const x = await mem.add({ content: 'x' });
    const y = await mem.add({ content: 'y' });
    const link = await mem.link(x.id, y.id, 'related_to', { metadata: { k: [1] } });
    const [held] = await store.getLinks('own', [link.id]);
    held!.link.type = 'changed';
    (held!.link.metadata.k as number[]).push(2);
    held!.clocks.type = 'changed';
    const [again] = await store.getLinks('own', [link.id]);
    expect(again!.link).toEqual(link);
    expect(again!.clocks.type).not.toBe('changed');

    const feed = await store.changes('own', 0, 10);
    const seqs = feed.map((entry) => entry.seq);
    for (const entry of feed) entry.seq = -1;
    expect((await store.changes('own', 0, 10)).map((entry) => entry.seq)).toEqual(seqs);
    await mem.close();
  });

  it('what a write returns is a copy: changing it changes nothing stored', async () => {
    const mem = await createMemory({ store: new InMemoryStore(), namespace: 'own' });
    const added = await mem.add({ content: 'kept', tags: ['a'], metadata: { n: 1 } });
    added.tags.push('b');
    added.metadata.n = 2;
    added.content = 'changed';
    expect(await mem.get(added.id)).toMatchObject({ content: 'kept', tags: ['a'], metadata: { n: 1 } });
    const vector = await mem.add({ content: 'vector', tags: ['v'], embedding: [1, 0] });
    const [hit] = await mem.search('', { vector: [1, 0] });
    hit!.memory.tags.push('changed');
    hit!.memory.embedding![0] = 0;
    expect(await mem.get(vector.id)).toMatchObject({ tags: ['v'], embedding: [1, 0] });
    await mem.close();
  });

  it('pages its vectors in id order with their models, and lists its namespaces sorted', async () => {
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'zeta' });
    await mem.add({ id: 'c', content: 'c', embedding: [0, 1], embeddingModel: 'm2' });
    await mem.add({ id: 'a', content: 'a', embedding: [1, 0], embeddingModel: 'm1' });
    await mem.add({ id: 'b', content: 'no vector' });
    await mem.add({ id: 'd', content: 'd', embedding: [1, 1] });
    expect(await store.vectors('zeta', null, 2)).toEqual([
      { id: 'a', embedding: [1, 0], model: 'm1' },
      { id: 'c', embedding: [0, 1], model: 'm2' },
    ]);
    expect(await store.vectors('zeta', 'c', 2)).toEqual([{ id: 'd', embedding: [1, 1] }]);
    await createMemory({ store, namespace: 'alpha' });
    await createMemory({ store, namespace: 'mid' });
    expect(await store.namespaces()).toEqual(['alpha', 'mid', 'zeta']);
    await mem.close();
  });

  it("latestSeq is 0 for a namespace never written, then the feed's newest sequence number", async () => {
    const store = new InMemoryStore();
    expect(await store.latestSeq('never')).toBe(0);
    const mem = await createMemory({ store, namespace: 'fed' });
    expect(await store.latestSeq('fed')).toBe(0);
    await mem.add({ content: 'one' });
    await mem.add({ content: 'two' });
    const feed = await store.changes('fed', 0, 10);
    expect(await store.latestSeq('fed')).toBe(feed.at(-1)!.seq);
    expect(await store.latestSeq('never')).toBe(0);
    await mem.close();
  });

  it('once closed, every call fails with STORAGE, opening it again included', async () => {
    const store = new InMemoryStore();
    await store.open();
    await store.close();
    for (const call of [
      () => store.open(),
      () => store.latestSeq('n'),
      () => store.namespaces(),
      () => store.getMeta('n', 'k'),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: 'STORAGE' });
    }
  });

  it('keeps every posting exact through compactions and a renumbering of its documents', async () => {
    const churned = await createMemory({ store: new InMemoryStore() });
    const fresh = await createMemory({ store: new InMemoryStore() });
    for (const mem of [churned, fresh]) await mem.add({ id: 'anchor', content: 'anchor stays put' });
    const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);
    await churned.addMany(ids.map((id) => ({ id, content: `churn start ${id}` })));
    // 1100 dead documents, more than 1024 and than the living: the index renumbers them once.
    for (let round = 0; round < 110; round++) {
      for (const id of ids) await churned.update(id, { content: `churn r${round} ${id}` });
    }
    await fresh.addMany(ids.map((id) => ({ id, content: `churn r109 ${id}` })));
    const postings = async (mem: typeof fresh, terms: string[], prefixes: string[] = []) =>
      (await mem.store.postings!('default', terms, prefixes))
        .map(({ term, id, tf, length }) => `${term} ${id} ${tf} ${length}`)
        .sort();
    for (const [terms, prefixes] of [
      [['churn', 'anchor', 'start', 'r0', 'r109']],
      [[], ['r', 'c', 'an']],
    ] as const) {
      expect(await postings(churned, [...terms], [...(prefixes ?? [])])).toEqual(
        await postings(fresh, [...terms], [...(prefixes ?? [])]),
      );
    }
    expect(await churned.store.textStats!('default')).toEqual(await fresh.store.textStats!('default'));
  });

  it('expiredIds gives at most `limit` of the expired memories', async () => {
    let now = Date.parse('2030-01-01T00:00:00.000Z');
    const store = new InMemoryStore();
    const mem = await createMemory({
      store,
      namespace: 'ttl',
      now: () => now,
      maintenance: { intervalMs: 0 },
    });
    await mem.addMany(
      ['a', 'b', 'c'].map((id) => ({ id, content: id, expiresAt: '2030-01-01T00:00:01.000Z' })),
    );
    await mem.add({ id: 'kept', content: 'kept' });
    now += 2000;
    const at = new Date(now).toISOString();
    expect((await store.expiredIds('ttl', { now: at, limit: 10 })).sort()).toEqual(['a', 'b', 'c']);
    expect(await store.expiredIds('ttl', { now: at, limit: 2 })).toHaveLength(2);
    expect(await store.expiredIds('ttl', { now: at, limit: 0 })).toEqual([]);
    await mem.close();
  });
});
