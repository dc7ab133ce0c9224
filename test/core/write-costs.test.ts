import { describe, expect, it } from 'vitest';
import { formatHlc, hlcToIso } from '../../src/core/hlc.js';
import { fitsUtf8 } from '../../src/core/validate.js';
import { createMemoryWrite } from '../../src/core/writes.js';
import { createMemory, InMemoryStore } from '../../src/index.js';

const utf8 = (s: string) => new TextEncoder().encode(s).length;

describe('fitsUtf8 (only encodes strings whose length leaves it in doubt)', () => {
  const LIMIT = 64 * 1024;
  const cases: Array<[string, string]> = [
    ['ASCII at the limit', 'a'.repeat(LIMIT)],
    ['ASCII one over', 'a'.repeat(LIMIT + 1)],
    ['3-byte characters just under', '€'.repeat(21_845)],
    ['3-byte characters just over', '€'.repeat(21_846)],
    ['4-byte pairs at the limit', '😀'.repeat(16_384)],
    ['4-byte pairs one over', '😀'.repeat(16_385)],
    ['short mixed', 'café 😀 €'],
    ['a third of the limit in 3-byte characters', '€'.repeat(LIMIT / 4)],
  ];
  for (const [name, s] of cases) {
    it(`${name}: agrees with the encoded length`, () => {
      expect(fitsUtf8(s, LIMIT)).toBe(utf8(s) <= LIMIT);
    });
  }

  it('refuses content of 3-byte characters over 64 KiB although it is short in UTF-16', async () => {
    const mem = await createMemory();
    await expect(mem.add({ content: '€'.repeat(21_846) })).rejects.toMatchObject({ field: 'add.content' });
    await expect(mem.add({ content: '€'.repeat(21_845) })).resolves.toMatchObject({ kind: 'note' });
  });
});

describe('createMemoryWrite metadata', () => {
  it('gives every write its own empty object when none or an empty one is given', () => {
    const given = {};
    const a = createMemoryWrite('ns', 'a', { content: 'x', metadata: given }, 's', 'c');
    const b = createMemoryWrite('ns', 'b', { content: 'x' }, 's', 'c');
    expect(a.values.metadata).toEqual({});
    expect(a.values.metadata).not.toBe(given);
    expect(b.values.metadata).toEqual({});
    expect(b.values.metadata).not.toBe(a.values.metadata);
  });

  it('deep-copies metadata that has keys', () => {
    const given = { nested: { list: [1, 2] } };
    const write = createMemoryWrite('ns', 'a', { content: 'x', metadata: given }, 's', 'c');
    given.nested.list.push(3);
    expect(write.values.metadata).toEqual({ nested: { list: [1, 2] } });
  });
});

describe('hlcToIso', () => {
  it('formats each stamp by its own millisecond, whatever was formatted before', () => {
    const at = (wallMs: number, counter = 0) => formatHlc({ wallMs, counter, node: 'n1' });
    expect(hlcToIso(at(1_700_000_000_000))).toBe('2023-11-14T22:13:20.000Z');
    expect(hlcToIso(at(1_700_000_000_000, 5))).toBe('2023-11-14T22:13:20.000Z');
    expect(hlcToIso(at(1_700_000_000_001))).toBe('2023-11-14T22:13:20.001Z');
    expect(hlcToIso('not a stamp')).toBe('1970-01-01T00:00:00.000Z');
    expect(hlcToIso(at(1_700_000_000_001))).toBe('2023-11-14T22:13:20.001Z');
  });
});

describe('clear', () => {
  it('writes the tombstones of more memories than one batch in batches of at most 1,000, each id once', async () => {
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'cleared' });
    await mem.addMany(Array.from({ length: 1000 }, (_, i) => ({ content: `note ${i}` })));
    await mem.add({ content: 'one more' });
    const sizes: number[] = [];
    const ids = new Set<string>();
    const apply = store.apply.bind(store);
    store.apply = (namespace, batch) => {
      if (batch.tombstones?.length) sizes.push(batch.tombstones.length);
      for (const tombstone of batch.tombstones ?? []) ids.add(tombstone.id);
      return apply(namespace, batch);
    };
    expect(await mem.clear()).toBe(1001);
    expect(sizes).toEqual([1000, 1]);
    expect(ids.size).toBe(1001);
    await mem.close();
  });
});
