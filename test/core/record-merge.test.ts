import { describe, expect, it } from 'vitest';
import { formatHlc } from '../../src/core/hlc.js';
import { mergeLink, mergeMemory } from '../../src/core/merge.js';
import type { LinkWrite, MemoryWrite } from '../../src/core/store-contract.js';
import { InMemoryStore } from '../../src/index.js';

const T0 = 1_700_000_000_000;
const stamp = (ms: number, node = 'a') => formatHlc({ wallMs: T0 + ms, counter: 0, node });
const iso = (ms: number) => new Date(T0 + ms).toISOString();

function memoryCreate(id: string, content: string, ms: number, node: string): MemoryWrite {
  const s = stamp(ms, node);
  return {
    id,
    create: { namespace: 'n', createdAt: iso(ms) },
    values: { content, kind: 'note', tags: [], metadata: {} },
    clocks: { content: s, kind: s, tags: s, metadata: s },
  };
}

function linkCreate(id: string, type: string, ms: number, node: string): LinkWrite {
  const s = stamp(ms, node);
  return {
    id,
    create: { namespace: 'n', from: 'a', to: 'b', createdAt: iso(ms) },
    values: { type, metadata: {} },
    clocks: { type: s, metadata: s },
  };
}

/** A store holding memories `a` and `b` and the link `l` between them, all written at T0 by node `a`. */
async function linkedPair(): Promise<InMemoryStore> {
  const store = new InMemoryStore();
  await store.apply('n', {
    memories: [memoryCreate('a', 'a', 0, 'a'), memoryCreate('b', 'b', 0, 'a')],
    links: [linkCreate('l', 'related_to', 0, 'a')],
  });
  return store;
}

/**
 * A store holding memory `m`, created at 0 and expiring at 100 ms, linked (`l`) to a memory that does not
 * expire; returns the store and `m`'s record as applied.
 */
async function expiringLinked() {
  const store = new InMemoryStore();
  const old = memoryCreate('m', 'old', 0, 'a');
  const expiring = {
    ...old,
    values: { ...old.values, expiresAt: iso(100) },
    clocks: { ...old.clocks, expiresAt: stamp(0, 'a') },
  };
  await store.apply('n', {
    memories: [expiring, memoryCreate('other', 'other', 0, 'a')],
    links: [
      {
        ...linkCreate('l', 'related_to', 0, 'a'),
        create: { namespace: 'n', from: 'm', to: 'other', createdAt: iso(0) },
      },
    ],
  });
  return { store, expiring };
}

describe('record merge', () => {
  it('two creations of one id merge to the earlier createdAt and the later values, in either order', async () => {
    const early = memoryCreate('m', 'first', 0, 'a');
    const late = memoryCreate('m', 'second', 1000, 'b');
    const earlyLink = linkCreate('l', 'first', 0, 'a');
    const lateLink = linkCreate('l', 'second', 1000, 'b');
    for (const [one, two] of [
      [0, 1],
      [1, 0],
    ] as const) {
      const store = new InMemoryStore();
      const memories = [early, late];
      const links = [earlyLink, lateLink];
      await store.apply('n', { memories: [memories[one]!], links: [links[one]!], origin: 'remote' });
      await store.apply('n', { memories: [memories[two]!], links: [links[two]!], origin: 'remote' });
      const [memory] = await store.getMemories('n', ['m']);
      expect({ createdAt: memory!.memory.createdAt, content: memory!.memory.content }).toEqual({
        createdAt: iso(0),
        content: 'second',
      });
      const [link] = await store.getLinks('n', ['l']);
      expect({ createdAt: link!.link.createdAt, type: link!.link.type }).toEqual({
        createdAt: iso(0),
        type: 'second',
      });
      await store.close();
    }
  });

  it('a field stamped as it is held keeps its value: the answer and the store agree', async () => {
    const store = new InMemoryStore();
    await store.apply('n', { memories: [memoryCreate('m', 'held', 0, 'a')] });
    const result = await store.apply('n', {
      memories: [{ id: 'm', values: { content: 'same stamp' }, clocks: { content: stamp(0, 'a') } }],
      origin: 'remote',
    });
    expect(result.memories.map((r) => r.memory.content)).toEqual(['held']);
    const [stored] = await store.getMemories('n', ['m']);
    expect(stored!.memory.content).toBe('held');
    await store.close();
  });

  it('a write that only stamps a field the record never had is stored, though every other stamp is the same', async () => {
    const store = new InMemoryStore();
    const created = memoryCreate('m', 'x', 0, 'a');
    await store.apply('n', { memories: [created] });
    const s = stamp(5, 'b');
    await store.apply('n', {
      memories: [
        {
          ...created,
          values: { ...created.values, importance: 0.75 },
          clocks: { ...created.clocks, importance: s },
        },
      ],
      origin: 'remote',
    });
    const [stored] = await store.getMemories('n', ['m']);
    expect(stored!.memory.importance).toBe(0.75);
    expect(stored!.clocks.importance).toBe(s);
    await store.close();
  });

  it('a field written as null is cleared, not kept as null', () => {
    const created = memoryCreate('m', 'x', 0, 'a');
    const held = mergeMemory(undefined, {
      ...created,
      values: { ...created.values, expiresAt: iso(60_000) },
      clocks: { ...created.clocks, expiresAt: stamp(0, 'a') },
    })!;
    const cleared = mergeMemory(held, {
      id: 'm',
      values: { expiresAt: null } as unknown as MemoryWrite['values'],
      clocks: { expiresAt: stamp(10, 'a') },
    })!;
    expect('expiresAt' in cleared.memory).toBe(false);
    expect(cleared.clocks.expiresAt).toBe(stamp(10, 'a'));
    expect(cleared.memory.updatedAt).toBe(iso(10));
  });

  it('a pulled record merged over a newer local field stays in the feed as a local change, to be pushed', async () => {
    const store = new InMemoryStore();
    const created = memoryCreate('m', 'x', 0, 'a');
    await store.apply('n', { memories: [created], origin: 'remote' });
    // Tagged here, not pushed yet; then the pull brings another replica's content edit, the tags it held.
    await store.apply('n', {
      memories: [{ id: 'm', values: { tags: ['mine'] }, clocks: { tags: stamp(20, 'a') } }],
    });
    const pulled = {
      ...created,
      values: { ...created.values, content: 'theirs' },
      clocks: { ...created.clocks, content: stamp(10, 'b') },
    };
    await store.apply('n', { memories: [pulled], origin: 'remote' });
    const [held] = await store.getMemories('n', ['m']);
    expect({ content: held!.memory.content, tags: held!.memory.tags }).toEqual({
      content: 'theirs',
      tags: ['mine'],
    });
    const entries = await store.changes('n', 0, 100);
    expect(entries.filter((e) => e.id === 'm').map((e) => e.origin)).toEqual(['local']);
    await store.close();
  });

  it('a pulled record lacking a field set here stays in the feed as a local change, to be pushed', async () => {
    const store = new InMemoryStore();
    const created = memoryCreate('m', 'x', 0, 'a');
    await store.apply('n', { memories: [created], origin: 'remote' });
    // Given an importance here, not pushed yet; the pull brings another replica's edit, which has none.
    await store.apply('n', {
      memories: [{ id: 'm', values: { importance: 0.9 }, clocks: { importance: stamp(5, 'a') } }],
    });
    const pulled = {
      ...created,
      values: { ...created.values, content: 'theirs' },
      clocks: { ...created.clocks, content: stamp(10, 'b') },
    };
    await store.apply('n', { memories: [pulled], origin: 'remote', pushBackTombstones: true });
    const [held] = await store.getMemories('n', ['m']);
    expect({ content: held!.memory.content, importance: held!.memory.importance }).toEqual({
      content: 'theirs',
      importance: 0.9,
    });
    const entries = await store.changes('n', 0, 100);
    expect(entries.filter((e) => e.id === 'm').map((e) => e.origin)).toEqual(['local']);
    await store.close();
  });

  it('a pulled link merged over a newer local field stays in the feed as a local change, to be pushed', async () => {
    const store = new InMemoryStore();
    const created = linkCreate('l', 'related_to', 0, 'a');
    await store.apply('n', { memories: [memoryCreate('a', 'a', 0, 'a'), memoryCreate('b', 'b', 0, 'a')] });
    await store.apply('n', { links: [created], origin: 'remote' });
    // Weighted here, not pushed yet; then the pull brings another replica's retyping, which has no weight.
    await store.apply('n', {
      links: [{ id: 'l', values: { weight: 0.5 }, clocks: { weight: stamp(20, 'a') } }],
    });
    const pulled = {
      ...created,
      values: { ...created.values, type: 'theirs' },
      clocks: { ...created.clocks, type: stamp(10, 'b') },
    };
    await store.apply('n', { links: [pulled], origin: 'remote', pushBackTombstones: true });
    const [held] = await store.getLinks('n', ['l']);
    expect({ type: held!.link.type, weight: held!.link.weight }).toEqual({ type: 'theirs', weight: 0.5 });
    const entries = await store.changes('n', 0, 100);
    expect(entries.filter((e) => e.id === 'l').map((e) => e.origin)).toEqual(['local']);
    await store.close();
  });

  it('a link’s updatedAt is the time of its latest field stamp, as a memory’s is', () => {
    const created = linkCreate('l', 'related_to', 0, 'a');
    const held = mergeLink(undefined, created)!;
    const reweighted = mergeLink(held, {
      id: 'l',
      values: { weight: 0.5 },
      clocks: { weight: stamp(30, 'b') },
    })!;
    expect(reweighted.link.updatedAt).toBe(iso(30));
    // An older stamp of another field changes no time.
    const retyped = mergeLink(reweighted, {
      id: 'l',
      values: { type: 'x' },
      clocks: { type: stamp(20, 'c') },
    })!;
    expect(retyped.link.updatedAt).toBe(iso(30));
  });

  it('a memory made anew under the id of an expired one tombstones its links with the earliest stamp of the write', async () => {
    const { store } = await expiringLinked();
    const anew = memoryCreate('m', 'new', 200, 'b');
    await store.apply('n', {
      memories: [{ ...anew, clocks: { ...anew.clocks, content: stamp(300, 'b') } }],
      origin: 'remote',
    });
    expect(await store.getLinks('n', ['l'])).toEqual([]);
    const [tombstone] = await store.getTombstones('n', ['l']);
    expect(tombstone).toMatchObject({ entity: 'link', id: 'l', clock: stamp(200, 'b') });
    await store.close();
  });

  it('deleting both ends of a link in one batch deletes the link once', async () => {
    const store = await linkedPair();
    const result = await store.apply('n', {
      tombstones: [
        { entity: 'memory', id: 'a', namespace: 'n', clock: stamp(10, 'a') },
        { entity: 'memory', id: 'b', namespace: 'n', clock: stamp(10, 'a') },
      ],
    });
    expect([...result.deleted].sort()).toEqual(['a', 'b', 'l']);
    await store.close();
  });

  it('a delete older than a memory made anew, pushed with that memory unchanged, adds no change', async () => {
    const store = new InMemoryStore();
    const anew = memoryCreate('m', 'made anew', 10, 'a');
    await store.apply('n', { memories: [anew], origin: 'remote' });
    const before = await store.changes('n', 0, 100);
    const result = await store.apply('n', {
      memories: [anew],
      tombstones: [{ entity: 'memory', id: 'm', namespace: 'n', clock: stamp(5, 'b') }],
      origin: 'remote',
    });
    expect(result.deleted).toEqual([]);
    expect(await store.changes('n', 0, 100)).toEqual(before);
    const [held] = await store.getMemories('n', ['m']);
    expect(held!.memory.content).toBe('made anew');
    await store.close();
  });

  it('a pulled delete older than a memory made here, not pushed yet, leaves that memory to be pushed', async () => {
    // Another replica deleted an earlier memory of this id; the one made here outlives that delete.
    const store = new InMemoryStore();
    await store.apply('n', { memories: [memoryCreate('m', 'made here', 10, 'a')] });
    await store.apply('n', {
      tombstones: [{ entity: 'memory', id: 'm', namespace: 'n', clock: stamp(5, 'b') }],
      origin: 'remote',
      pushBackTombstones: true,
    });
    const [held] = await store.getMemories('n', ['m']);
    expect(held!.memory.content).toBe('made here');
    const entries = await store.changes('n', 0, 100);
    expect(entries.filter((e) => e.id === 'm').map((e) => e.origin)).toEqual(['local']);
    await store.close();
  });

  it('a pulled page deleting a memory and bringing a link to it sends nothing back: the edge holds that delete', async () => {
    const store = new InMemoryStore();
    await store.apply('n', { memories: [memoryCreate('x', 'x', 0, 'a')], origin: 'remote' });
    const link = linkCreate('l', 'related_to', 0, 'b');
    await store.apply('n', {
      tombstones: [{ entity: 'memory', id: 'm', namespace: 'n', clock: stamp(10, 'b') }],
      links: [{ ...link, create: { ...link.create!, from: 'm', to: 'x' } }],
      origin: 'remote',
      pushBackTombstones: true,
    });
    const entries = await store.changes('n', 0, 100);
    expect(entries.filter((e) => e.origin === 'local')).toEqual([]);
    expect((await store.getTombstones('n', ['l'])).map((t) => t.clock)).toEqual([stamp(10, 'b')]);
    await store.close();
  });

  it('a delete wins over a creation of its id in the same batch, however late the creation is stamped', async () => {
    const store = new InMemoryStore();
    const result = await store.apply('n', {
      tombstones: [{ entity: 'memory', id: 'm', namespace: 'n', clock: stamp(5, 'b') }],
      memories: [memoryCreate('m', 'made after', 10, 'a')],
      origin: 'remote',
    });
    expect(result.rejected).toEqual(['m']);
    expect(await store.getMemories('n', ['m'])).toEqual([]);
    expect((await store.getTombstones('n', ['m'])).map((t) => t.clock)).toEqual([stamp(5, 'b')]);
    await store.close();
  });

  it('a pulled link write refused by a delete held here sends that delete back', async () => {
    const store = new InMemoryStore();
    await store.apply('n', {
      memories: [memoryCreate('a', 'a', 0, 'a'), memoryCreate('b', 'b', 0, 'a')],
      tombstones: [{ entity: 'link', id: 'l', namespace: 'n', clock: stamp(10, 'a') }],
      origin: 'remote',
    });
    const result = await store.apply('n', {
      links: [linkCreate('l', 'related_to', 0, 'b')],
      origin: 'remote',
      pushBackTombstones: true,
    });
    expect(result.rejected).toEqual(['l']);
    const entries = await store.changes('n', 0, 100);
    expect(entries.filter((e) => e.origin === 'local').map((e) => [e.entity, e.id])).toEqual([['link', 'l']]);
    await store.close();
  });

  it('a pulled delete calling a held link a memory deletes that link, and is kept as a link delete', async () => {
    const store = await linkedPair();
    await store.apply('n', {
      tombstones: [{ entity: 'memory', id: 'l', namespace: 'n', clock: stamp(10, 'b') }],
      origin: 'remote',
    });
    expect(await store.getLinks('n', ['l'])).toEqual([]);
    expect((await store.getTombstones('n', ['l'])).map((t) => t.entity)).toEqual(['link']);
    await store.close();
  });

  it('a delete named in a batch that deletes an end of its link is applied once, with its own stamp', async () => {
    const store = await linkedPair();
    const result = await store.apply('n', {
      tombstones: [
        { entity: 'memory', id: 'a', namespace: 'n', clock: stamp(10, 'a') },
        { entity: 'link', id: 'l', namespace: 'n', clock: stamp(20, 'a') },
      ],
    });
    expect([...result.deleted].sort()).toEqual(['a', 'l']);
    expect((await store.getTombstones('n', ['l'])).map((t) => t.clock)).toEqual([stamp(20, 'a')]);
    await store.close();
  });

  it('a later delete calling a deleted memory a link leaves the held delete as it was', async () => {
    const store = new InMemoryStore();
    await store.apply('n', {
      tombstones: [{ entity: 'memory', id: 'm', namespace: 'n', clock: stamp(10, 'a') }],
      origin: 'remote',
    });
    const before = await store.changes('n', 0, 100);
    await store.apply('n', {
      tombstones: [{ entity: 'link', id: 'm', namespace: 'n', clock: stamp(20, 'b') }],
      origin: 'remote',
    });
    expect(await store.getTombstones('n', ['m'])).toMatchObject([
      { entity: 'memory', clock: stamp(10, 'a') },
    ]);
    expect(await store.changes('n', 0, 100)).toEqual(before);
    await store.close();
  });

  it('a creation stamped after a delete takes the id back only when it stamps every field a creation does', async () => {
    const deleted = async () => {
      const store = new InMemoryStore();
      await store.apply('n', {
        tombstones: [{ entity: 'memory', id: 'm', namespace: 'n', clock: stamp(10, 'a') }],
        origin: 'remote',
      });
      return store;
    };
    const partial = await deleted();
    const s = stamp(20, 'b');
    const contentOnly: MemoryWrite = {
      id: 'm',
      create: { namespace: 'n', createdAt: iso(20) },
      values: { content: 'only content' },
      clocks: { content: s },
    };
    expect((await partial.apply('n', { memories: [contentOnly], origin: 'remote' })).rejected).toEqual(['m']);
    // Every field but metadata is not every field a creation stamps either.
    const { metadata: _, ...noMetadata } = memoryCreate('m', 'no metadata', 20, 'b').clocks;
    const withoutMetadata = { ...memoryCreate('m', 'no metadata', 20, 'b'), clocks: noMetadata };
    expect((await partial.apply('n', { memories: [withoutMetadata], origin: 'remote' })).rejected).toEqual([
      'm',
    ]);
    expect(await partial.getMemories('n', ['m'])).toEqual([]);
    await partial.close();
    const whole = await deleted();
    const result = await whole.apply('n', {
      memories: [memoryCreate('m', 'anew', 20, 'b')],
      origin: 'remote',
    });
    expect(result.rejected).toEqual([]);
    expect((await whole.getMemories('n', ['m'])).map((r) => r.memory.content)).toEqual(['anew']);
    await whole.close();
  });

  it('an edit stamping every field after a delete, but creating nothing, is refused and the delete kept', async () => {
    const store = new InMemoryStore();
    await store.apply('n', {
      tombstones: [{ entity: 'memory', id: 'm', namespace: 'n', clock: stamp(10, 'a') }],
      origin: 'remote',
    });
    const { create: _, ...edit } = memoryCreate('m', 'edited after the delete', 20, 'b');
    const result = await store.apply('n', { memories: [edit], origin: 'remote' });
    expect(result.rejected).toEqual(['m']);
    expect((await store.getTombstones('n', ['m'])).map((t) => t.clock)).toEqual([stamp(10, 'a')]);
    // Held still, the delete refuses an older copy of the memory that comes later.
    await store.apply('n', { memories: [memoryCreate('m', 'old copy', 0, 'c')], origin: 'remote' });
    expect(await store.getMemories('n', ['m'])).toEqual([]);
    await store.close();
  });

  it('a copy of an expiring memory stamped before its expiry replaces nothing: its links stay', async () => {
    const { store, expiring } = await expiringLinked();
    // The same memory pulled again (a retried page): its creation is stamped before it expires.
    const result = await store.apply('n', { memories: [expiring], origin: 'remote' });
    expect(result.deleted).toEqual([]);
    expect((await store.getLinks('n', ['l'])).map((r) => r.link.id)).toEqual(['l']);
    await store.close();
  });

  it('a memory made anew at the very millisecond the held one expired replaces it: its links go', async () => {
    const { store } = await expiringLinked();
    const result = await store.apply('n', {
      memories: [memoryCreate('m', 'new', 100, 'b')],
      origin: 'remote',
    });
    expect(result.deleted).toEqual(['l']);
    expect(await store.getLinks('n', ['l'])).toEqual([]);
    await store.close();
  });

  it('a page bringing a link’s delete and a memory made anew over its expired end tombstones the link once', async () => {
    const { store } = await expiringLinked();
    const result = await store.apply('n', {
      tombstones: [{ entity: 'link', id: 'l', namespace: 'n', clock: stamp(150, 'c') }],
      memories: [memoryCreate('m', 'new', 200, 'b')],
      origin: 'remote',
    });
    expect(result.deleted).toEqual(['l']);
    // The delete the page brought is kept as it came.
    expect((await store.getTombstones('n', ['l'])).map((t) => t.clock)).toEqual([stamp(150, 'c')]);
    await store.close();
  });

  it('a creation stamped exactly at the delete does not take the id back: a tie goes to the delete', async () => {
    const store = new InMemoryStore();
    await store.apply('n', {
      tombstones: [{ entity: 'memory', id: 'm', namespace: 'n', clock: stamp(10, 'a') }],
      origin: 'remote',
    });
    const result = await store.apply('n', {
      memories: [memoryCreate('m', 'tied', 10, 'a')],
      origin: 'remote',
    });
    expect(result.rejected).toEqual(['m']);
    expect(await store.getMemories('n', ['m'])).toEqual([]);
    await store.close();
  });

  it('a twin link folded into the held one without changing it adds a change for the twin alone', async () => {
    const store = await linkedPair();
    const before = await store.changes('n', 0, 100);
    const result = await store.apply('n', {
      links: [linkCreate('l2', 'related_to', 0, 'a')],
      foldTwinLinks: true,
    });
    expect(result.deleted).toEqual(['l2']);
    const after = await store.changes('n', 0, 100);
    // The held link keeps its feed entry; only the twin's delete is new.
    expect(after.filter((e) => e.id !== 'l2')).toEqual(before);
    expect(after.filter((e) => e.id === 'l2').map((e) => e.entity)).toEqual(['link']);
    await store.close();
  });
});
