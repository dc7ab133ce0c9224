import { describe, expect, it } from 'vitest';
import { KEYS } from '../../src/core/sync/sync-meta.js';
import { createMemory, InMemoryStore, type WarningEvent } from '../../src/index.js';

const iso = (ms: number) => new Date(ms).toISOString();
const settle = async (until: () => Promise<boolean>) => {
  for (let i = 0; i < 2000 && !(await until()); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('automatic maintenance', () => {
  it('runs when the memory opens and after a write once the interval has passed, not before', async () => {
    let t = Date.parse('2031-01-01T00:00:00.000Z');
    const store = new InMemoryStore();
    const first = await createMemory({ store, namespace: 'n', now: () => t, maintenance: { intervalMs: 0 } });
    await first.addMany([
      { id: 'old', content: 'expired before the next open', expiresAt: iso(t + 10) },
      { id: 'soon', content: 'expires a little later', expiresAt: iso(t + 2000) },
    ]);
    t += 100;
    const present = async (id: string) => (await store.getMemories('n', [id])).length > 0;
    expect(await present('old')).toBe(true);

    const mem = await createMemory({
      store,
      namespace: 'n',
      now: () => t,
      maintenance: { intervalMs: 60_000 },
    });
    await settle(async () => !(await present('old')));
    expect(await present('old')).toBe(false);

    t += 5000; // 'soon' expired, but the interval since the last run has not passed: a write does not purge
    await mem.add({ content: 'a write' });
    await new Promise((r) => setTimeout(r, 30));
    expect(await present('soon')).toBe(true);
    t += 60_000;
    await mem.add({ content: 'a later write' });
    await settle(async () => !(await present('soon')));
    expect(await present('soon')).toBe(false);
  });

  it('a failing background run is a MAINTENANCE_FAILED warning, never a failed write', async () => {
    const store = new InMemoryStore();
    store.expiredIds = async () => {
      throw new Error('disk on fire');
    };
    const mem = await createMemory({ store, namespace: 'n', maintenance: { intervalMs: 1 } });
    const warnings: WarningEvent[] = [];
    mem.on('warning', (w) => warnings.push(w));
    await new Promise((r) => setTimeout(r, 5));
    await expect(mem.add({ content: 'still written' })).resolves.toMatchObject({ content: 'still written' });
    await settle(async () => warnings.length > 0);
    expect(warnings[0]).toMatchObject({
      code: 'MAINTENANCE_FAILED',
      message: expect.stringContaining('disk on fire'),
    });
    await expect(mem.maintain()).rejects.toThrow('disk on fire');
  });

  it('a replica that has pulled but never pushed keeps its deletes past the horizon; one never synced collects them', async () => {
    let t = Date.parse('2031-01-01T00:00:00.000Z');
    const ms = { tombstoneHorizonMs: 1000, intervalMs: 0 };
    const open = async (namespace: string) => {
      const mem = await createMemory({ namespace, now: () => t, maintenance: ms });
      await mem.remove((await mem.add({ content: 'deleted here' })).id);
      return mem;
    };
    const never = await open('never-synced');
    // Its pull cursor, with no push acknowledged yet (`sync.pushedSeq`): the delete has not reached the edge.
    const pulled = await open('pulled-only');
    await pulled.store.apply('pulled-only', { meta: { [KEYS.cursor]: 7 } });
    t += 2000;
    expect(await never.maintain()).toEqual({ purged: 0, collected: 1 });
    expect(await pulled.maintain()).toEqual({ purged: 0, collected: 0 });
    expect(await pulled.stats()).toMatchObject({ tombstones: 1 });
  });

  it('maintain() takes no options: a horizon passed to it is refused, not silently ignored', async () => {
    let t = Date.parse('2031-01-01T00:00:00.000Z');
    const mem = await createMemory({ namespace: 'n', now: () => t, maintenance: { intervalMs: 0 } });
    const gone = await mem.add({ content: 'deleted' });
    await mem.remove(gone.id);
    t += 60_000;
    const run = (mem.maintain as (options: unknown) => Promise<unknown>).bind(mem);
    await expect(run({ tombstoneHorizonMs: 1 })).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'maintain',
      message: expect.stringContaining('createMemory'),
    });
    expect(await mem.stats()).toMatchObject({ tombstones: 1 });
    await expect(run(undefined)).resolves.toEqual({ purged: 0, collected: 0 });
  });

  it('collects more tombstones than one batch in a single run', async () => {
    let t = Date.parse('2031-01-01T00:00:00.000Z');
    const mem = await createMemory({
      namespace: 'many',
      now: () => t,
      maintenance: { tombstoneHorizonMs: 1000, intervalMs: 0 },
    });
    const made = await mem.addMany(Array.from({ length: 501 }, (_, i) => ({ content: `note ${i}` })));
    for (const m of made) await mem.remove(m.id);
    t += 2000;
    expect(await mem.maintain()).toEqual({ purged: 0, collected: 501 });
    expect(await mem.stats()).toMatchObject({ memories: 0, tombstones: 0 });
  });

  it('maintain() called while a run is going joins it: every caller hears the result of that run', async () => {
    let t = Date.parse('2031-01-01T00:00:00.000Z');
    const mem = await createMemory({ namespace: 'joined', now: () => t, maintenance: { intervalMs: 0 } });
    await mem.add({ content: 'short lived', expiresAt: iso(t + 10) });
    t += 100;
    const runs = await Promise.all([mem.maintain(), mem.maintain()]);
    expect(runs).toEqual([
      { purged: 1, collected: 0 },
      { purged: 1, collected: 0 },
    ]);
  });
});
