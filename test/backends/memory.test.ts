import { describe, expect, it } from 'vitest';
import { createMemory, EngramError, InMemoryStore } from '../../src/index.js';
import { testStore } from '../conformance/index.js';

testStore({ name: 'InMemoryStore', create: () => new InMemoryStore() });

describe('InMemoryStore extras', () => {
  it('createMemory defaults to an InMemoryStore in the "default" namespace', async () => {
    const mem = await createMemory();
    expect(mem.namespace).toBe('default');
    expect(mem.store).toBeInstanceOf(InMemoryStore);
    await mem.add({ content: 'x' });
    expect((await mem.list()).items).toHaveLength(1);
  });

  it('close closes the store and later calls fail clearly', async () => {
    const mem = await createMemory();
    await mem.close();
    await expect(mem.add({ content: 'x' })).rejects.toBeInstanceOf(EngramError);
    await expect(
      mem.store.list('default', { tagMode: 'any', now: new Date().toISOString(), limit: 1 }),
    ).rejects.toMatchObject({
      code: 'STORAGE',
    });
  });

  it('bad sync options are refused with the field named', async () => {
    await expect(createMemory({ sync: { url: 'ftp://x', token: 't' } })).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'sync.url',
    });
    await expect(createMemory({ sync: { url: 'http://x', token: '' } })).rejects.toMatchObject({
      field: 'sync.token',
    });
  });

  it('sync() without sync configured is a clear VALIDATION error', async () => {
    const mem = await createMemory();
    await expect(mem.sync()).rejects.toMatchObject({ code: 'VALIDATION', field: 'sync' });
  });
});
