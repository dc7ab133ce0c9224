import { describe, expect, it } from 'vitest';
import { EngramError, storageError, validationError } from '../../src/core/errors.js';
import { describe as describeValue } from '../../src/core/validate-parse.js';
import { createMemory, type Engram, InMemoryStore } from '../../src/index.js';

describe('validationError', () => {
  it('names the field, what was expected and what was got', () => {
    const error = validationError('ttl', "a duration like '1h'", '"soon"');
    expect(error).toBeInstanceOf(EngramError);
    expect(error.code).toBe('VALIDATION');
    expect(error.field).toBe('ttl');
    expect(error.message).toBe(`ttl: expected a duration like '1h', got "soon"`);
  });

  it('leaves out what was got when nothing is known, and keeps the cause for logs', () => {
    const cause = new SyntaxError('bad');
    const error = validationError('line.3', 'JSON', undefined, cause);
    expect(error.message).toBe('line.3: expected JSON');
    expect(error.cause).toBe(cause);
    expect(error.toJSON()).toEqual({ code: 'VALIDATION', message: 'line.3: expected JSON', field: 'line.3' });
  });
});

describe('what an error says was got', () => {
  // The end of every VALIDATION message: short enough to read, exact enough to find the value by.
  it.each([
    [undefined, 'nothing'],
    [null, 'null'],
    [[1, 2], 'an array of 2'],
    [new Float32Array(3), 'a Float32Array of 3'],
    [new Int8Array(1), 'an Int8Array of 1'],
    [new DataView(new ArrayBuffer(2)), 'a DataView'],
    ['x'.repeat(40), `"${'x'.repeat(40)}"`],
    ['x'.repeat(41), 'a string of 41 characters'],
    [{ a: 1 }, 'an object'],
    [5, 'number 5'],
    [true, 'boolean true'],
  ])('%o reads %s', (value, said) => {
    expect(describeValue(value)).toBe(said);
  });
});

describe('storageError', () => {
  it('says what failed when the cause has no message (a browser QuotaExceededError)', () => {
    const quota = Object.assign(new Error(''), { name: 'QuotaExceededError' });
    const error = storageError('IndexedDB apply', quota);
    expect(error.code).toBe('STORAGE');
    expect(error.message).toMatch(/^IndexedDB apply failed: QuotaExceededError: the browser's storage quota/);
    expect(error.cause).toBe(quota);
    const other = Object.assign(new Error(''), { name: 'UnknownError' });
    expect(storageError('IndexedDB get', other).message).toBe('IndexedDB get failed: UnknownError');
    expect(storageError('x', new Error('disk gone')).message).toBe('x failed: disk gone');
  });
});

describe('options that are not an object', () => {
  // Each call, and the field and got of its error: null, a primitive or an array where options go.
  const calls: [string, (mem: Engram) => Promise<unknown>, string, string][] = [
    ['search(q, null)', (mem) => mem.search('x', null as never), 'search', 'null'],
    ['search(q, 5)', (mem) => mem.search('x', 5 as never), 'search', 'number 5'],
    ['search(q, [])', (mem) => mem.search('x', [] as never), 'search', 'an array of 0'],
    ['list(5)', (mem) => mem.list(5 as never), 'list', 'number 5'],
    ['list(null)', (mem) => mem.list(null as never), 'list', 'null'],
    ['count([])', (mem) => mem.count([] as never), 'count', 'an array of 0'],
    ['count("kind")', (mem) => mem.count('kind' as never), 'count', '"kind"'],
    ['context(q, null)', (mem) => mem.context('x', null as never), 'context', 'null'],
    ['links(id, true)', (mem) => mem.links('x', true as never), 'links.options', 'boolean true'],
    ['neighbors(id, 3)', (mem) => mem.neighbors('x', 3 as never), 'neighbors.options', 'number 3'],
    ['path(a, b, 3)', (mem) => mem.path('x', 'y', 3 as never), 'path.options', 'number 3'],
    ['link(a, b, t, null)', (mem) => mem.link('x', 'y', 't', null as never), 'link.options', 'null'],
    ['add(input, "x")', (mem) => mem.add({ content: 'a' }, 'x' as never), 'add.options', '"x"'],
    ['add(input, [])', (mem) => mem.add({ content: 'a' }, [] as never), 'add.options', 'an array of 0'],
    ['add(null)', (mem) => mem.add(null as never), 'add', 'null'],
    ['update(id, 7)', (mem) => mem.update('x', 7 as never), 'update.patch', 'number 7'],
    // Nested options are objects too: neither "unknown field" nor an array read as no options.
    [
      'search boost.recency null',
      (mem) => mem.search('x', { boost: { recency: null } } as never),
      'search.boost.recency',
      'null',
    ],
    [
      'search boost.recency []',
      (mem) => mem.search('x', { boost: { recency: [] } } as never),
      'search.boost.recency',
      'an array of 0',
    ],
    ['search boost []', (mem) => mem.search('x', { boost: [] } as never), 'search.boost', 'an array of 0'],
    // Valibot reads inherited keys as its own: an options class's getter is checked like a property.
    [
      'search boost [] inherited',
      (mem) => mem.search('x', Object.create({ boost: [] }) as never),
      'search.boost',
      'an array of 0',
    ],
    [
      'search boost.recency [] from a getter',
      (mem) =>
        mem.search('x', {
          boost: new (class {
            get recency() {
              return [];
            }
          })(),
        } as never),
      'search.boost.recency',
      'an array of 0',
    ],
    ['watch list null', async (mem) => mem.watch({ list: null } as never, () => {}), 'watch.list', 'null'],
    ['watch list 5', async (mem) => mem.watch({ list: 5 } as never, () => {}), 'watch.list', 'number 5'],
    [
      'watch list []',
      async (mem) => mem.watch({ list: [] } as never, () => {}),
      'watch.list',
      'an array of 0',
    ],
  ];

  it.each(calls)('%s: VALIDATION "expected an object" naming the argument', async (_, call, field, got) => {
    const mem = await createMemory({ store: new InMemoryStore() });
    const error = await Promise.resolve()
      .then(() => call(mem))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(EngramError);
    expect(error).toMatchObject({ code: 'VALIDATION', field });
    expect((error as EngramError).message).toMatch(
      new RegExp(`^${field}: expected an object\\b.*, got ${literally(got)}$`),
    );
    expect(await mem.count()).toBe(0);
    await mem.close();
  });

  it('says "expected an object" in the options errors of createMemory and sync', async () => {
    await expect(createMemory({ sync: null } as never)).rejects.toThrow(
      /^sync: expected an object\b.*, got null$/,
    );
    await expect(
      createMemory({ sync: { url: 'https://e.example', token: 't', backoff: [] } } as never),
    ).rejects.toMatchObject({
      field: 'sync.backoff',
      message: 'sync.backoff: expected an object, got an array of 0',
    });
  });
});

const literally = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
