import { describe, expect, it, vi } from 'vitest';
import { MODIFY } from '../../src/core/engram.js';
import { CLIENT_ID_META } from '../../src/core/language.js';
import type { WriteBatch } from '../../src/core/store-contract.js';
import { createLinkWrite, createMemoryWrite, patchMemoryWrite } from '../../src/core/writes.js';
import { type ChangeEvent, createMemory, InMemoryStore, type Memory } from '../../src/index.js';
import { formatHlc } from '../../src/store/index.js';
import { standInEmbedder } from '../conformance/stand-in-embedder.js';

// The façade's side of a store that tells of other processes' writes (`subscribe`, as IndexedDB does
// for other tabs): which changes it passes on, what it embeds, and what it lets go of when closed.

type Told = (namespace: string, ids: string[]) => void;

/** An InMemoryStore whose "other tabs" are the test: `tell` plays their change notices. */
class TellingStore extends InMemoryStore {
  readonly listeners = new Set<Told>();
  subscribe(listener: Told): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  tell(namespace: string, ids: string[]): void {
    for (const listener of this.listeners) listener(namespace, ids);
  }
}

describe('a store that tells of external changes', () => {
  it("passes on its namespace's changes only, embeds what they brought, and unsubscribes at close", async () => {
    const store = new TellingStore();
    const embedder = standInEmbedder();
    const mem = await createMemory({
      store,
      namespace: 'mine',
      embedder,
      embedding: { backoff: { baseMs: 5, maxMs: 20 } },
    });
    // Another writer of the same store, without an embedder: its memory arrives unembedded.
    const other = await createMemory({ store, namespace: 'mine' });
    const written = await other.add({ content: 'written in another tab' });
    const heard: ChangeEvent[] = [];
    mem.on('change', (event) => heard.push(event));

    store.tell('someone-else', [written.id]);
    expect(heard).toEqual([]);
    store.tell('mine', [written.id]);
    expect(heard).toEqual([{ type: 'external', namespace: 'mine', ids: [written.id] }]);
    const embedded = await vi.waitFor(
      async () => {
        const memory = await mem.get(written.id);
        expect(memory?.embeddingModel).toBe(embedder.id);
        return memory!;
      },
      { timeout: 5000, interval: 10 },
    );
    expect(embedded.embedding).toHaveLength(embedder.dims);

    const subscribed = store.listeners.size;
    await other.close();
    expect(store.listeners.size).toBe(subscribed - 1);
  });
});

describe('a closed memory', () => {
  it('refuses every call with STORAGE, before the store is asked', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    // Without sync there is no stream: `off`, and a `local` status.
    expect(mem.liveState).toBe('off');
    expect(mem.status).toMatchObject({ state: 'local', pending: 0, lastSyncAt: null, pendingEmbeddings: 0 });
    await mem.close();
    const closed = { code: 'STORAGE', message: expect.stringContaining('createMemory()') };
    expect(() => mem.watch({ list: {} }, () => {})).toThrow(expect.objectContaining(closed));
    for (const call of [() => mem.sync(), () => mem.get('x'), () => mem.maintain(), () => mem.rejected()]) {
      await expect(call()).rejects.toMatchObject(closed);
    }
    await mem.close();
  });
});

describe('stats', () => {
  it('reports the local changes sync has yet to push, as status does', async () => {
    const offline = async (): Promise<Response> => {
      throw new TypeError('fetch failed');
    };
    const mem = await createMemory({
      store: new InMemoryStore(),
      sync: { url: 'http://edge.invalid', token: 't', fetch: offline, live: false, intervalMs: 0 },
    });
    await mem.add({ content: 'one' });
    await mem.add({ content: 'two' });
    const { pending } = mem.status;
    expect(pending).toBeGreaterThan(0);
    expect(await mem.stats()).toMatchObject({ memories: 2, pendingSync: pending, pendingEmbeddings: 0 });
    await mem.close();
  });
});

describe('reembed', () => {
  it('without an embedder, here or given to createMemory, is a VALIDATION error naming reembed.embedder', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    await mem.add({ content: 'not embedded' });
    await expect(mem.reembed()).rejects.toMatchObject({ code: 'VALIDATION', field: 'reembed.embedder' });
    await mem.close();
  });
});

/**
 * Plays another process writing the store: the first apply `when` picks is preceded by the write `theirs`
 * makes (stamped by a node of its own at `wallMs`), once.
 */
function raceOnce(
  store: InMemoryStore,
  when: (batch: WriteBatch) => boolean,
  theirs: (namespace: string, stamp: string) => WriteBatch,
  wallMs: () => number = Date.now,
): { raced: () => boolean } {
  const apply = store.apply.bind(store);
  let raced = false;
  store.apply = async (namespace, batch) => {
    if (!raced && when(batch)) {
      raced = true;
      store.apply = apply;
      await apply(
        namespace,
        theirs(namespace, formatHlc({ wallMs: wallMs(), counter: 0, node: 'other-process' })),
      );
    }
    return apply(namespace, batch);
  };
  return { raced: () => raced };
}

/** raceOnce's `when` for the first write of memory `id`. */
const writing = (id: string) => (batch: WriteBatch) => batch.memories?.some((w) => w.id === id) ?? false;

/** raceOnce's `theirs`: the other process creates memory `id` with `values`. */
const creates =
  (id: string, values: Parameters<typeof createMemoryWrite>[2]) => (namespace: string, stamp: string) => ({
    memories: [createMemoryWrite(namespace, id, values, stamp, new Date().toISOString())],
  });

describe('a deduping add racing another process', () => {
  it('finds the copy the other process wrote after its search, and merges into it', async () => {
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'race' });
    // The other process writes its copy between this add's search and its write (the store refuses
    // the write then: WriteBatch.dedupe) exactly once.
    const race = raceOnce(
      store,
      (batch) => batch.dedupe !== undefined,
      creates('their-copy', { content: 'Prefers green tea', tags: ['a'] }),
    );
    const added = await mem.add({ content: 'prefers GREEN tea', tags: ['b'] }, { dedupe: true });
    expect(race.raced()).toBe(true);
    expect(added).toMatchObject({ id: 'their-copy', content: 'Prefers green tea', tags: ['a', 'b'] });
    expect(await mem.count()).toBe(1);
    await mem.close();
  });
});

describe('a deduping add onto a copy', () => {
  it('returns the copy untouched when it brings no new tag, and may fill its tags up to the limit', async () => {
    let now = Date.parse('2030-01-01T00:00:00.000Z');
    const mem = await createMemory({ store: new InMemoryStore(), now: () => (now += 1000) });
    const heard: ChangeEvent[] = [];
    const original = await mem.add({ content: 'Prefers green tea', tags: ['a', 'b'] });
    mem.on('change', (event) => heard.push(event));
    expect(await mem.add({ content: 'prefers green TEA', tags: ['b'] }, { dedupe: true })).toEqual(original);
    expect(await mem.get(original.id)).toEqual(original);
    expect(heard).toEqual([]);

    const full = Array.from({ length: 63 }, (_, i) => `t${i}`);
    const crowded = await mem.add({ content: 'crowded', tags: full });
    const filled = await mem.add({ content: 'crowded', tags: ['last'] }, { dedupe: true });
    expect(filled).toMatchObject({ id: crowded.id, tags: [...full, 'last'] });
    await expect(mem.add({ content: 'crowded', tags: ['over'] }, { dedupe: true })).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'add.tags',
    });
    await mem.close();
  });
});

describe('clear', () => {
  it('clears an add called before it, even one still being written', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    const adding = mem.add({ content: 'called first' });
    const cleared = mem.clear();
    const after = mem.add({ content: 'called after' });
    expect(await cleared).toBe(1);
    await adding;
    const kept = await after;
    expect((await mem.list()).items.map((m) => m.id)).toEqual([kept.id]);
    await mem.close();
  });
});

describe('an add with a given id racing another process', () => {
  it('is a CONFLICT naming add.id when the other process took the id after the check', async () => {
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'race' });
    raceOnce(store, writing('wanted'), creates('wanted', { content: 'theirs' }));
    await expect(mem.add({ id: 'wanted', content: 'mine' })).rejects.toMatchObject({
      code: 'CONFLICT',
      field: 'add.id',
    });
    expect(await mem.get('wanted')).toMatchObject({ content: 'theirs' });
    await mem.close();
  });
});

describe('a supersede with a given id racing another process', () => {
  it('is a CONFLICT naming supersede.input.id, leaving their memory and the old fact as they were', async () => {
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'race' });
    const old = await mem.add({ content: 'lives in Rome' });
    const race = raceOnce(store, writing('next'), creates('next', { content: 'theirs' }));
    await expect(mem.supersede(old.id, { id: 'next', content: 'lives in Paris' })).rejects.toMatchObject({
      code: 'CONFLICT',
      field: 'supersede.input.id',
    });
    expect(race.raced()).toBe(true);
    expect(await mem.get('next')).toMatchObject({ content: 'theirs', tags: [] });
    expect((await mem.get(old.id))?.validTo).toBeUndefined();
    expect(await mem.neighbors(old.id)).toEqual([]);
    await mem.close();
  });
});

describe('a link racing another process linking the same pair', () => {
  it('updates the link the other process made instead of adding a second one', async () => {
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'race' });
    const [a, b] = await mem.addMany([{ content: 'a' }, { content: 'b' }]);
    const race = raceOnce(
      store,
      (batch) => (batch.links?.length ?? 0) > 0,
      (namespace, stamp) => ({
        links: [
          createLinkWrite(
            {
              id: 'their-link',
              namespace,
              from: a!.id,
              to: b!.id,
              type: 'knows',
              createdAt: new Date().toISOString(),
            },
            stamp,
          ),
        ],
      }),
    );
    const link = await mem.link(a!.id, b!.id, 'knows', { weight: 0.25 });
    expect(race.raced()).toBe(true);
    expect(link).toMatchObject({ id: 'their-link', from: a!.id, to: b!.id, type: 'knows', weight: 0.25 });
    expect((await mem.links(a!.id)).map((l) => [l.id, l.weight])).toEqual([['their-link', 0.25]]);
    await mem.close();
  });
});

describe('the read-change-write of one memory (MODIFY)', () => {
  it('writes nothing for a null change, and reads again when another process wrote the field meanwhile', async () => {
    let now = Date.parse('2030-01-01T00:00:00.000Z');
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'graph', now: () => (now += 1000) });
    const entity = await mem.add({ content: 'Ada', metadata: { observations: ['first'] } });
    expect(await mem[MODIFY](entity.id, () => null, 'metadata')).toEqual(entity);
    expect(await mem.get(entity.id)).toEqual(entity);

    raceOnce(
      store,
      (batch) => (batch.unchanged?.length ?? 0) > 0,
      (_namespace, stamp) => ({
        memories: [patchMemoryWrite(entity.id, { metadata: { observations: ['first', 'theirs'] } }, stamp)],
      }),
      () => now,
    );
    const observe = (memory: Memory) => ({
      metadata: { observations: [...(memory.metadata.observations as string[]), 'mine'] },
    });
    const changed = await mem[MODIFY](entity.id, observe, 'metadata');
    expect(changed.metadata.observations).toEqual(['first', 'theirs', 'mine']);
    expect(await mem.get(entity.id)).toEqual(changed);
    await mem.close();
  });
});

describe('reads', () => {
  it('links come newest id first, and a missing memory has none (NOT_FOUND)', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    const [a, b, c, d] = await mem.addMany(['a', 'b', 'c', 'd'].map((content) => ({ content })));
    const made = [
      await mem.link(a!.id, b!.id, 'x'),
      await mem.link(a!.id, c!.id, 'x'),
      await mem.link(d!.id, a!.id, 'x'),
    ];
    const newestFirst = made
      .map((l) => l.id)
      .sort()
      .reverse();
    expect((await mem.links(a!.id)).map((l) => l.id)).toEqual(newestFirst);
    await expect(mem.links('missing')).rejects.toMatchObject({ code: 'NOT_FOUND', field: 'links.id' });
    await mem.close();
  });

  it('a query with a vector is hybrid by default: text-only matches are kept', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    const text = await mem.add({ content: 'green tea leaves' });
    const vector = await mem.add({ content: 'something else', embedding: [1, 0] });
    const found = (await mem.search('tea', { vector: [1, 0] })).map((h) => h.memory.id).sort();
    expect(found).toEqual([text.id, vector.id].sort());
    expect((await mem.search('', { vector: [1, 0] })).map((h) => h.memory.id)).toEqual([vector.id]);
    await mem.close();
  });

  it('a boost reorders within a pool wider than the limit', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    await mem.add({ content: 'tea tea tea' });
    await mem.add({ content: 'tea tea and more' });
    const important = await mem.add({ content: 'tea with many other words around it', importance: 1 });
    const [plain] = await mem.search('tea', { limit: 1 });
    expect(plain!.memory.id).not.toBe(important.id);
    const [boosted] = await mem.search('tea', { limit: 1, boost: { importance: 100 } });
    expect(boosted!.memory.id).toBe(important.id);
    await mem.close();
  });
});

describe('context', () => {
  it('gives the 20 newest by default, a blank query as an empty one, within 4000 characters', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    await mem.addMany(
      Array.from({ length: 25 }, (_, i) => ({ id: `m${String(i).padStart(2, '0')}`, content: `note ${i}` })),
    );
    const newest = await mem.context('');
    expect(newest.split('\n')).toEqual(Array.from({ length: 20 }, (_, i) => `- note ${24 - i}`));
    expect(await mem.context('   ')).toBe(newest);
    await mem.add({ content: 'a fact', kind: 'fact' });
    expect(await mem.context('', { kind: 'fact' })).toBe('- a fact');
    const long = await mem.addMany(
      Array.from({ length: 30 }, (_, i) => ({ content: `tea ${i} ${'x'.repeat(150)}` })),
    );
    const text = await mem.context('tea');
    expect(text.length).toBeGreaterThan(2000);
    expect(text.length).toBeLessThanOrEqual(4000);
    expect(long).toHaveLength(30);
    await mem.close();
  });

  it('a search matches any of its tags by default', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    const one = await mem.add({ content: 'tea', tags: ['a'] });
    const both = await mem.add({ content: 'tea', tags: ['a', 'b'] });
    const found = (await mem.search('tea', { tags: ['a', 'b'] })).map((h) => h.memory.id).sort();
    expect(found).toEqual([one.id, both.id].sort());
    await mem.close();
  });
});

describe('argument checks', () => {
  it('addMany takes an array of up to 1000; path checks both ids', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    await expect(mem.addMany('not a list' as never)).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'addMany',
    });
    const many = Array.from({ length: 1000 }, (_, i) => ({ content: `n${i}` }));
    expect(await mem.addMany(many)).toHaveLength(1000);
    await expect(mem.addMany([...many, { content: 'one too many' }])).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'addMany',
    });
    const [first] = (await mem.list({ limit: 1 })).items;
    await expect(mem.path(first!.id, 'not an id!')).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'path.to',
    });
    await mem.close();
  });
});

describe('createMemory', () => {
  it('keeps the replica client id in the store, the same at every opening', async () => {
    const store = new InMemoryStore();
    const first = await createMemory({ store, namespace: 'kept' });
    const id = await store.getMeta('kept', CLIENT_ID_META);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    await createMemory({ store, namespace: 'kept' });
    expect(await store.getMeta('kept', CLIENT_ID_META)).toBe(id);
    await first.close();
  });

  it('refuses a sync without a token and a clock before 1970, naming them', async () => {
    await expect(createMemory({ sync: { url: 'http://edge.invalid' } as never })).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'sync.token',
      message: expect.stringContaining('mintToken()'),
    });
    await expect(createMemory({ now: () => -1 })).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'createMemory.now',
    });
  });

  it("checks the patch a MODIFY change returns as update's", async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    const m = await mem.add({ content: 'x' });
    await expect(
      mem[MODIFY](m.id, () => ({ tags: 'not a list' }) as never, 'metadata'),
    ).rejects.toMatchObject({
      code: 'VALIDATION',
      field: expect.stringMatching(/^update\.patch/),
    });
    await mem.close();
  });
});

describe('several memories on one store', () => {
  it('closing one leaves the store open for the others; the last to close closes it', async () => {
    const store = new InMemoryStore();
    const work = await createMemory({ store, namespace: 'work' });
    const home = await createMemory({ store, namespace: 'home' });
    const again = await createMemory({ store, namespace: 'work' });
    await work.add({ content: 'standup at nine' });
    await work.close();
    await work.close(); // a second close counts once
    await home.add({ content: 'water the plants' });
    expect((await again.search('standup')).map((hit) => hit.memory.content)).toEqual(['standup at nine']);
    await home.close();
    expect((await again.list()).items).toHaveLength(1);
    await again.close();
    await expect(store.open()).rejects.toMatchObject({ code: 'STORAGE' });
  });
});
