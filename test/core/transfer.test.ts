import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createMemory, exportJsonl, InMemoryStore, importJsonl, migrate } from '../../src/index.js';

async function lines(store: InMemoryStore): Promise<string[]> {
  const out: string[] = [];
  for await (const line of exportJsonl(store)) out.push(line);
  return out;
}

async function populated(): Promise<InMemoryStore> {
  const store = new InMemoryStore();
  for (const namespace of ['alpha', 'beta']) {
    const mem = await createMemory({ store, namespace });
    const [a, b, c] = await mem.addMany([
      {
        content: 'first',
        embedding: [0.5, -1],
        metadata: { z: 1, a: { y: [1, 2], b: null } },
        importance: 0.3,
      },
      { content: 'second', tags: ['x', 'y'], expiresAt: '2999-01-01T00:00:00.000Z' },
      { content: 'third' },
    ]);
    await mem.link(a!.id, b!.id, 'rel', { weight: 0.25, metadata: { why: 'test' } });
    await mem.link(c!.id, a!.id, 'part_of');
    await mem.update(a!.id, { content: 'first, edited' });
    await mem.remove(c!.id);
  }
  return store;
}

describe('export / import / migrate', () => {
  it('export -> import -> export gives identical lines', async () => {
    const source = await populated();
    const first = await lines(source);
    expect(first.length).toBe(2 * 5);
    expect(first.filter((l) => l.includes('"type":"tombstone"'))).toHaveLength(2 * 2);
    const target = new InMemoryStore();
    await importJsonl(target, first);
    expect(await lines(target)).toEqual(first);
  });

  it('keeps ids, timestamps, clocks and embeddings', async () => {
    const source = await populated();
    const target = new InMemoryStore();
    await importJsonl(target, await lines(source));
    const [ns] = await source.namespaces();
    const ids = (await source.changes(ns!, 0, 100)).map((c) => c.id);
    expect(await target.getMemories(ns!, ids)).toEqual(await source.getMemories(ns!, ids));
    expect(await target.getLinks(ns!, ids)).toEqual(await source.getLinks(ns!, ids));
    expect(await target.getTombstones(ns!, ids)).toEqual(await source.getTombstones(ns!, ids));
  });

  it('re-running an import changes nothing', async () => {
    const source = await populated();
    const dump = await lines(source);
    const target = new InMemoryStore();
    await importJsonl(target, dump);
    const feed = await target.changes('alpha', 0, 100);
    await importJsonl(target, dump);
    expect(await target.changes('alpha', 0, 100)).toEqual(feed);
  });

  it('exports the same lines whatever the batch size', async () => {
    const source = await populated();
    const whole = await lines(source);
    for (const batchSize of [2, 3]) {
      const batched: string[] = [];
      for await (const line of exportJsonl(source, { batchSize })) batched.push(line);
      expect(batched, String(batchSize)).toEqual(whole);
    }
  });

  it('takes a batch size past the store limit (1000) as 1000, so a large namespace still imports', async () => {
    const source = new InMemoryStore();
    const mem = await createMemory({ store: source, namespace: 'big' });
    for (const part of [0, 1]) {
      await mem.addMany(Array.from({ length: 600 }, (_, i) => ({ content: `note ${part}-${i}` })));
    }
    const dump = await lines(source);
    const target = new InMemoryStore();
    const progress: number[] = [];
    const { imported } = await importJsonl(target, dump, {
      batchSize: 5000,
      onProgress: (p) => progress.push(p.done),
    });
    expect(imported).toBe(1200);
    expect(progress).toEqual([1000, 1200]);
    expect(await lines(target)).toEqual(dump);
  });

  it('migrate copies one namespace or all, reporting progress', async () => {
    const source = await populated();
    const target = new InMemoryStore();
    const progress: number[] = [];
    await migrate(source, target, {
      namespaces: ['beta'],
      batchSize: 2,
      onProgress: (p) => progress.push(p.done),
    });
    expect(await target.namespaces()).toEqual(['beta']);
    expect(progress.length).toBeGreaterThan(2);
    const search = await (await createMemory({ store: target, namespace: 'beta' })).search('edited');
    expect(search).toHaveLength(1);
  });

  it('rejects a malformed line, naming it, and a record that breaks the rules', async () => {
    const target = new InMemoryStore();
    await expect(importJsonl(target, ['{"type":"memory"', ''])).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'line.1',
    });
    const bad = JSON.stringify({
      type: 'memory',
      namespace: 'n',
      record: {
        memory: {
          id: 'x',
          namespace: 'n',
          content: '',
          kind: 'note',
          tags: [],
          metadata: {},
          createdAt: '2030-01-01T00:00:00.000Z',
          updatedAt: '2030-01-01T00:00:00.000Z',
        },
        clocks: {},
      },
    });
    await expect(importJsonl(target, [bad])).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(await target.namespaces()).toEqual([]);
  });

  it('names the line of a record that breaks the rules, and of one with the wrong shape', async () => {
    const source = await populated();
    const dump = await lines(source);
    const broken = JSON.parse(dump[2]!);
    broken.record.memory.content = '';
    await expect(
      importJsonl(new InMemoryStore(), [dump[0]!, dump[1]!, JSON.stringify(broken)]),
    ).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'line.3.values.content',
    });
    await expect(
      importJsonl(new InMemoryStore(), [JSON.stringify({ type: 'memory', namespace: 'a', record: {} })]),
    ).rejects.toMatchObject({ code: 'VALIDATION', field: 'line.1' });
  });

  it('names the line of a bad record anywhere in its batch, in the last batch of a restore too', async () => {
    const source = new InMemoryStore();
    const mem = await createMemory({ store: source, namespace: 'n' });
    await mem.addMany([1, 2, 3, 4, 5].map((i) => ({ content: `memory ${i}` })));
    const dump = await lines(source);
    const broken = JSON.parse(dump[4]!);
    broken.record.memory.content = '';
    const corrupt = [...dump.slice(0, 4), JSON.stringify(broken)];
    for (const mode of ['merge', 'restore'] as const) {
      const target = new InMemoryStore();
      await expect(importJsonl(target, corrupt, { mode }), mode).rejects.toMatchObject({
        code: 'VALIDATION',
        field: 'line.5.values.content',
      });
      expect(await target.namespaces(), mode).toEqual([]);
    }
    // A memory line without its clocks is no export entry.
    const unclocked = JSON.parse(dump[0]!);
    delete unclocked.record.clocks;
    await expect(importJsonl(new InMemoryStore(), [JSON.stringify(unclocked)])).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'line.1',
      message: expect.stringContaining('expected an Engram export entry'),
    });
  });

  it('restore mode takes a namespace of more than 1,000 records, checked a batch at a time', async () => {
    const source = new InMemoryStore();
    const mem = await createMemory({ store: source, namespace: 'n' });
    await mem.addMany(Array.from({ length: 1000 }, (_, i) => ({ content: `memory ${i}` })));
    await mem.add({ content: 'one more' });
    const dump = await lines(source);
    const target = new InMemoryStore();
    expect(await importJsonl(target, dump, { mode: 'restore' })).toMatchObject({
      imported: 1001,
      removed: 0,
    });
    expect((await target.stats!('n')).memories).toBe(1001);
  });

  it('restore mode brings a deleted record back under an id cut to the limit, and reports only those renamed', async () => {
    const source = new InMemoryStore();
    const mem = await createMemory({ store: source, namespace: 'n' });
    const long = 'x'.repeat(128);
    await mem.addMany([
      { id: long, content: 'under a long id' },
      { id: 'kept', content: 'kept as it was' },
    ]);
    const dump = await lines(source);
    await mem.remove(long);
    const back = `${'x'.repeat(125)}.r1`;
    expect(await importJsonl(source, dump, { mode: 'restore' })).toEqual({
      imported: 2,
      removed: 0,
      renamed: { [long]: back },
    });
    expect((await mem.get(back))?.content).toBe('under a long id');
    expect((await mem.get('kept'))?.content).toBe('kept as it was');
  });

  it('restore mode leaves out a link whose end the dump does not hold (lines filtered out)', async () => {
    const source = new InMemoryStore();
    const mem = await createMemory({ store: source, namespace: 'n' });
    await mem.addMany([
      { id: 'a', content: 'one end' },
      { id: 'b', content: 'the other end' },
    ]);
    await mem.link('a', 'b', 'rel');
    const dump = (await lines(source)).filter((line) => !line.includes('"the other end"'));
    const target = new InMemoryStore();
    expect(await importJsonl(target, dump, { mode: 'restore' })).toMatchObject({ imported: 1 });
    const restored = await createMemory({ store: target, namespace: 'n' });
    expect((await restored.get('a'))?.content).toBe('one end');
    expect(await restored.links('a')).toEqual([]);
  });

  it('restore mode carries the tombstones of the dump to a target that never held those ids', async () => {
    const source = new InMemoryStore();
    const mem = await createMemory({ store: source, namespace: 'n' });
    const gone = await mem.add({ id: 'gone', content: 'deleted before the dump' });
    await mem.add({ content: 'live' });
    await mem.remove(gone.id);
    const target = new InMemoryStore();
    // Not counted as removed: the target held nothing under that id.
    expect(await importJsonl(target, await lines(source), { mode: 'restore' })).toMatchObject({ removed: 0 });
    expect((await target.getTombstones('n', ['gone'])).map((t) => t.id)).toEqual(['gone']);
  });

  it('a failing source keeps every full batch read before the failure', async () => {
    const source = new InMemoryStore();
    const mem = await createMemory({ store: source, namespace: 'n' });
    await mem.addMany([1, 2, 3, 4, 5].map((i) => ({ content: `memory ${i}` })));
    const dump = await lines(source);
    async function* failingAfter(count: number) {
      yield* dump.slice(0, count);
      throw new Error('the input broke');
    }
    const target = new InMemoryStore();
    await expect(importJsonl(target, failingAfter(4), { batchSize: 2 })).rejects.toThrow('the input broke');
    expect(await lines(target)).toEqual(dump.slice(0, 4));
  });

  it('restore mode checks the whole dump first, naming the line, and writes nothing when one is bad', async () => {
    const source = await populated();
    const dump = await lines(source);
    const target = new InMemoryStore();
    await importJsonl(target, dump);
    const alpha = await createMemory({ store: target, namespace: 'alpha' });
    await alpha.add({ id: 'added-after-the-dump', content: 'a restore would remove me' });
    const before = await lines(target);
    // A record of the last namespace: earlier namespaces would be restored first if it were found late.
    const at = dump.map((line) => JSON.parse(line).type).lastIndexOf('memory');
    const badContent = JSON.parse(dump[at]!);
    badContent.record.memory.content = 123;
    const badClock = JSON.parse(dump[at]!);
    badClock.record.clocks.content = 'not-a-clock';
    for (const [bad, field] of [
      [badContent, `line.${at + 1}.values.content`],
      [badClock, `line.${at + 1}.clocks.content`],
    ] as const) {
      const corrupt = dump.map((line, i) => (i === at ? JSON.stringify(bad) : line));
      for (const mode of ['merge', 'restore'] as const) {
        await expect(importJsonl(new InMemoryStore(), corrupt, { mode }), mode).rejects.toMatchObject({
          code: 'VALIDATION',
          field,
        });
      }
      await expect(importJsonl(target, corrupt, { mode: 'restore' })).rejects.toThrow(`${field}: `);
      expect(await lines(target)).toEqual(before);
    }
  });

  it('reads a readline interface to the end, though the store opens first', async () => {
    const source = await populated();
    const dump = await lines(source);
    const many = Array.from({ length: 30 }, () => dump).flat();
    const input = createInterface({ input: Readable.from(many.map((line) => `${line}\n`)) });
    // A store that takes a while to open (Postgres, sql.js): readline keeps emitting meanwhile.
    const target = new InMemoryStore();
    const open = target.open.bind(target);
    target.open = async () => {
      await new Promise((r) => setTimeout(r, 50));
      await open();
    };
    expect(await importJsonl(target, input)).toEqual({ imported: many.length });
    expect(await lines(target)).toEqual(dump);
  });

  it('an export reports progress as records read across namespaces, rising to the lines it wrote', async () => {
    const source = await populated();
    const seen: Array<{ namespace: string; done: number }> = [];
    const written: string[] = [];
    for await (const line of exportJsonl(source, { batchSize: 2, onProgress: (p) => seen.push(p) })) {
      written.push(line);
    }
    const records = written.filter((line) => !/"type":"(language|key)"/.test(line)).length;
    // After each batch of 2 of each namespace's 5 records (3 memories, 2 links): a running total.
    expect(records).toBe(10);
    expect(seen.map((p) => p.done)).toEqual([2, 4, 5, 7, 9, 10]);
    expect(new Set(seen.map((p) => p.namespace))).toEqual(new Set(await source.namespaces()));
  });

  it('migrate reports progress as entries imported, rising to the total', async () => {
    const source = await populated();
    const seen: number[] = [];
    const { imported } = await migrate(source, new InMemoryStore(), {
      batchSize: 3,
      onProgress: (p) => seen.push(p.done),
    });
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen[seen.length - 1]).toBe(imported);
  });

  it('refuses a batch size that is no positive integer and an unknown mode, naming the field', async () => {
    const store = await populated();
    for (const batchSize of [0, 2.5, -1, Number.NaN]) {
      expect(() => exportJsonl(store, { batchSize }), String(batchSize)).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field: 'exportJsonl.batchSize' }),
      );
      await expect(importJsonl(new InMemoryStore(), [], { batchSize })).rejects.toMatchObject({
        code: 'VALIDATION',
        field: 'importJsonl.batchSize',
      });
      await expect(migrate(store, new InMemoryStore(), { batchSize })).rejects.toMatchObject({
        field: 'migrate.batchSize',
      });
    }
    const dump = await lines(store);
    const target = new InMemoryStore();
    for (const mode of ['replace', 'restor', null]) {
      await expect(importJsonl(target, dump, { mode } as unknown as { mode: 'merge' })).rejects.toMatchObject(
        { code: 'VALIDATION', field: 'importJsonl.mode' },
      );
    }
    // Nothing was written by the refused imports.
    expect(await target.namespaces()).toEqual([]);
    expect((await importJsonl(target, dump, { mode: 'merge', batchSize: 3 })).imported).toBe(dump.length);
  });

  it('refuses a namespaces option that is no list of names, an unknown option, and a namespace filter on import', async () => {
    const store = await populated();
    // A string would be read letter by letter: 'alpha' as a, l, p, h, a.
    for (const namespaces of ['alpha', [5]]) {
      expect(() => exportJsonl(store, { namespaces } as never)).toThrow(
        expect.objectContaining({
          code: 'VALIDATION',
          field: expect.stringMatching(/^exportJsonl\.namespaces/),
        }),
      );
    }
    expect(() => exportJsonl(store, { ns: 'alpha' } as never)).toThrow(
      expect.objectContaining({ code: 'VALIDATION', field: 'exportJsonl.ns' }),
    );
    const target = new InMemoryStore();
    await expect(
      importJsonl(target, await lines(store), { namespaces: ['alpha'] } as never),
    ).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'importJsonl.namespaces',
    });
    await expect(migrate(store, target, { bogus: 1 } as never)).rejects.toMatchObject({
      field: 'migrate.bogus',
    });
    expect(await target.namespaces()).toEqual([]);
    const only: string[] = [];
    for await (const line of exportJsonl(store, { namespaces: ['alpha'] })) only.push(line);
    expect(only.length).toBeGreaterThan(0);
    expect(only.every((line) => JSON.parse(line).namespace === 'alpha')).toBe(true);
  });

  it('skips blank lines, as a file ending in a newline or a hand-edited dump holds them', async () => {
    const dump = await lines(await populated());
    const target = new InMemoryStore();
    const spaced = ['', ...dump.slice(0, 3), '   ', ...dump.slice(3), ''];
    expect(await importJsonl(target, spaced)).toEqual({ imported: dump.length });
    expect(await lines(target)).toEqual(dump);
  });

  it('names the line of a tombstone or record entry whose parts are not objects', async () => {
    const entries = [
      { type: 'tombstone', namespace: 'n' },
      { type: 'memory', namespace: 'n', record: { memory: [], clocks: {} } },
      { type: 'link', namespace: 'n', record: { link: {}, clocks: [] } },
    ];
    for (const entry of entries) {
      const error = await importJsonl(new InMemoryStore(), [JSON.stringify(entry)]).catch((e: unknown) => e);
      expect(error, JSON.stringify(entry)).toMatchObject({ code: 'VALIDATION', field: 'line.1' });
      expect((error as Error).message).toContain('expected an Engram export entry');
    }
  });

  it('keeps records of two namespaces apart when their lines follow each other', async () => {
    const source = new InMemoryStore();
    for (const namespace of ['alpha', 'beta']) {
      await (await createMemory({ store: source, namespace })).add({
        id: `in-${namespace}`,
        content: namespace,
      });
    }
    const dump = await lines(source);
    expect(dump.map((line) => JSON.parse(line).type)).toEqual(['memory', 'memory']);
    const target = new InMemoryStore();
    await importJsonl(target, dump);
    for (const namespace of ['alpha', 'beta']) {
      const records = await target.getMemories(namespace, ['in-alpha', 'in-beta']);
      expect(records.map((r) => r.memory.id)).toEqual([`in-${namespace}`]);
    }
  });

  it('migrate reports each imported batch once: the export it reads from adds no reports of its own', async () => {
    const source = new InMemoryStore();
    await (await createMemory({ store: source, namespace: 'n' })).addMany(
      Array.from({ length: 5 }, (_, i) => ({ content: `note ${i}` })),
    );
    const seen: number[] = [];
    await migrate(source, new InMemoryStore(), { batchSize: 2, onProgress: (p) => seen.push(p.done) });
    expect(seen).toEqual([2, 4, 5]);
  });

  /** A namespace of two memories, a and b, for a link between them. */
  async function twoEnds() {
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'n' });
    await mem.addMany([
      { id: 'a', content: 'one end' },
      { id: 'b', content: 'the other end' },
    ]);
    return { store, mem };
  }

  it('restore mode keeps a link the target and the dump both hold, removing nothing', async () => {
    const { store, mem } = await twoEnds();
    const link = await mem.link('a', 'b', 'rel');
    const dump = await lines(store);
    expect(await importJsonl(store, dump, { mode: 'restore' })).toEqual({
      imported: 3,
      removed: 0,
      renamed: {},
    });
    expect((await mem.links('a')).map((l) => l.id)).toEqual([link.id]);
  });

  it('restore mode removes a link made after the dump between memories the dump holds, counting it', async () => {
    const { store, mem } = await twoEnds();
    const dump = await lines(store);
    await mem.link('a', 'b', 'rel');
    expect(await importJsonl(store, dump, { mode: 'restore' })).toEqual({
      imported: 2,
      removed: 1,
      renamed: {},
    });
    expect(await mem.links('a')).toEqual([]);
  });

  it('restore mode counts once a live record that the dump holds as deleted', async () => {
    const source = new InMemoryStore();
    const mem = await createMemory({ store: source, namespace: 'n' });
    await mem.add({ id: 'gone', content: 'deleted before the dump' });
    await mem.remove('gone');
    // Another store, which never got that delete, holds the id live.
    const target = new InMemoryStore();
    const other = await createMemory({ store: target, namespace: 'n' });
    await other.add({ id: 'gone', content: 'still here' });
    expect(await importJsonl(target, await lines(source), { mode: 'restore' })).toMatchObject({ removed: 1 });
    expect(await other.get('gone')).toBeNull();
  });

  describe('restore mode over edits stamped by a clock that ran ahead', () => {
    async function restoredAfterEdit(aheadMs: number): Promise<string | undefined> {
      const store = new InMemoryStore();
      const mem = await createMemory({ store, namespace: 'n' });
      await mem.add({ id: 'm', content: 'as dumped' });
      const dump = await lines(store);
      const ahead = await createMemory({ store, namespace: 'n', now: () => Date.now() + aheadMs });
      await ahead.update('m', { content: 'edited later' });
      await importJsonl(store, dump, { mode: 'restore' });
      return (await mem.get('m'))?.content;
    }

    it('wins over an edit an hour ahead: the restore stamps after every stamp it holds', async () => {
      expect(await restoredAfterEdit(3_600_000)).toBe('as dumped');
    });

    it('wins over an edit two days ahead, past what a clock observes', async () => {
      expect(await restoredAfterEdit(2 * 86_400_000)).toBe('as dumped');
    });
  });

  describe('the namespace language', () => {
    async function german(): Promise<InMemoryStore> {
      const store = new InMemoryStore();
      const mem = await createMemory({ store, namespace: 'kunde', language: 'german' });
      await mem.add({ content: 'Die Kinder spielten im Garten' });
      return store;
    }
    const hits = async (store: InMemoryStore, language: 'german' | 'french' | 'english', query: string) => {
      const mem = await createMemory({ store, namespace: 'kunde', language });
      return (await mem.search(query)).map((hit) => hit.memory.content);
    };

    it('travels first in the dump, and a fresh target indexes in it', async () => {
      const source = await german();
      const dump = await lines(source);
      expect(JSON.parse(dump[0]!)).toEqual({ type: 'language', namespace: 'kunde', language: 'german' });
      const target = new InMemoryStore();
      await importJsonl(target, dump);
      expect(await target.getMeta('kunde', 'language')).toBe('german');
      // "Kinder" stems to "kind" in German only: an English index would not find it.
      expect(await hits(target, 'german', 'Kind')).toEqual(['Die Kinder spielten im Garten']);
      expect(await lines(target)).toEqual(dump);
      const migrated = new InMemoryStore();
      await migrate(source, migrated);
      expect(await hits(migrated, 'german', 'Kind')).toHaveLength(1);
      const restored = new InMemoryStore();
      await importJsonl(restored, dump, { mode: 'restore' });
      expect(await hits(restored, 'german', 'Kind')).toHaveLength(1);
    });

    it('is left out of the dump when the namespace records none (a null meta)', async () => {
      const source = await german();
      await source.apply('kunde', { meta: { language: null } });
      const dump = await lines(source);
      expect(dump.map((line) => JSON.parse(line).type)).toEqual(['memory']);
    });

    it('gives way to a target namespace opened with another language (how a language is changed)', async () => {
      const target = new InMemoryStore();
      await createMemory({ store: target, namespace: 'kunde', language: 'french' });
      await importJsonl(target, await lines(await german()));
      expect(await target.getMeta('kunde', 'language')).toBe('french');
      await expect(
        createMemory({ store: target, namespace: 'kunde', language: 'german' }),
      ).rejects.toMatchObject({
        field: 'language',
      });
      // A namespace a façade has opened searches in its language: it keeps it (English here).
      const opened = new InMemoryStore();
      const mem = await createMemory({ store: opened, namespace: 'kunde' });
      await importJsonl(opened, await lines(await german()));
      expect(await opened.getMeta('kunde', 'language')).toBeUndefined();
      expect((await mem.search('Kinder')).map((hit) => hit.memory.content)).toEqual([
        'Die Kinder spielten im Garten',
      ]);
      // A namespace holding memories indexed without a language stays English.
      const english = new InMemoryStore();
      await (await createMemory({ store: english, namespace: 'kunde' })).add({ content: 'Kinder' });
      await importJsonl(english, await lines(await german()));
      expect(await english.getMeta('kunde', 'language')).toBeUndefined();
      expect(await hits(english, 'english', 'Kinder')).toHaveLength(2);
    });

    it('refuses an unknown language, naming its line; a restore then writes nothing', async () => {
      const dump = await lines(await german());
      const bad = [
        JSON.stringify({ type: 'language', namespace: 'kunde', language: 'klingon' }),
        ...dump.slice(1),
      ];
      for (const mode of ['merge', 'restore'] as const) {
        const target = new InMemoryStore();
        await expect(importJsonl(target, bad, { mode })).rejects.toMatchObject({
          code: 'VALIDATION',
          field: 'line.1.language',
          message: expect.stringContaining("'klingon'"),
        });
        expect(await target.namespaces()).toEqual([]);
      }
      const target = new InMemoryStore();
      await expect(
        importJsonl(target, [JSON.stringify({ type: 'language', namespace: 'kunde' })]),
      ).rejects.toMatchObject({ field: 'line.1' });
    });

    it('is read alike by merge and restore: a valid namespace, before its records, once', async () => {
      const dump = await lines(await german());
      const language = (namespace: unknown, value = 'german') =>
        JSON.stringify({ type: 'language', namespace, language: value });
      const cases: Array<[string[], string]> = [
        [[language(''), ...dump.slice(1)], 'line.1.namespace'],
        [[language('a b/ü'), ...dump.slice(1)], 'line.1.namespace'],
        [[language(5), ...dump.slice(1)], 'line.1'],
        [[...dump.slice(1), language('kunde')], `line.${dump.length}.language`],
        [[dump[0]!, language('kunde', 'french'), ...dump.slice(1)], 'line.2.language'],
      ];
      for (const [bad, field] of cases) {
        for (const mode of ['merge', 'restore'] as const) {
          const target = new InMemoryStore();
          await expect(importJsonl(target, bad, { mode }), `${mode} ${field}`).rejects.toMatchObject({
            code: 'VALIDATION',
            field,
          });
          if (mode === 'restore' || !field.endsWith('language'))
            expect(await target.namespaces()).toEqual([]);
        }
      }
      // The same language twice is the same language.
      const target = new InMemoryStore();
      await importJsonl(target, [dump[0]!, ...dump]);
      expect(await target.getMeta('kunde', 'language')).toBe('german');
    });

    it('a restore of a namespace the dump holds nothing of empties it', async () => {
      const empty = new InMemoryStore();
      await createMemory({ store: empty, namespace: 'kunde', language: 'german' });
      const dump = await lines(empty);
      expect(dump).toHaveLength(1);
      const target = await german();
      const result = await importJsonl(target, dump, { mode: 'restore' });
      expect(result).toMatchObject({ imported: 0, removed: 1 });
      expect(
        await target.list('kunde', { tagMode: 'any', limit: 10, now: new Date().toISOString() }),
      ).toEqual([]);
    });

    it('reads a dump that starts with a byte order mark', async () => {
      const dump = await lines(await german());
      const target = new InMemoryStore();
      await importJsonl(target, [`\ufeff${dump[0]}`, ...dump.slice(1)]);
      expect(await target.getMeta('kunde', 'language')).toBe('german');
    });
  });
});
