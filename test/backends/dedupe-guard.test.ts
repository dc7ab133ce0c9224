import 'fake-indexeddb/auto';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { PostgresStore, pglite } from '../../src/backends/postgres/index.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory, InMemoryStore, type MemoryWrite } from '../../src/index.js';
import { formatHlc } from '../../src/store/index.js';
import { freshNamespace } from '../conformance/harness.js';

// A deduping add carries a guard (WriteBatch.dedupe) that the stores several processes may share (the SQL
// stores; IndexedDB, shared by tabs) check inside their write transaction; two edges racing on real
// Postgres are in test/sync/concurrent-postgres.test.ts, two RemoteStore clients in remote.test.ts.

const pg = await PGlite.create();
afterAll(() => pg.close());

describe.each([
  ['in-memory', () => new InMemoryStore()],
  ['sql.js', () => new SqlJsStore()],
  ['PGlite', () => new PostgresStore(pglite(pg))],
  ['IndexedDB', () => new IndexedDBStore({ name: `dedupe-guard-${process.pid}-${Date.now()}` })],
] as const)('%s: the dedupe guard', (_name, open) => {
  it('a deduping batch is refused when a copy was written since its feed position (dedupe)', async () => {
    const store = open();
    const mem = await createMemory({ store, namespace: freshNamespace('dedupe') });
    await mem.add({ content: 'Before the position' });
    const since = await store.latestSeq(mem.namespace);
    const now = new Date().toISOString();
    const stamp = formatHlc({ wallMs: Date.now(), counter: 0, node: 'other-process' });
    const fresh: MemoryWrite = {
      id: 'fresh',
      create: { namespace: mem.namespace, createdAt: now },
      values: { content: 'Prefers green tea', kind: 'note', tags: [], metadata: {} },
      clocks: { content: stamp, kind: stamp, tags: stamp, metadata: stamp },
    };
    // Copies before the position, and memories after it that are not copies, let the batch through.
    const guard = (content: string) => ({ content, since, now });
    await store.apply(mem.namespace, { memories: [], dedupe: guard('before the  POSITION') });
    await mem.add({ content: 'Prefers black tea' });
    await mem.add({
      content: 'Prefers  GREEN tea',
      validTo: '2000-01-01T00:00:00.000Z',
      validFrom: '1999-01-01T00:00:00.000Z',
    });
    await store.apply(mem.namespace, { memories: [fresh], dedupe: guard('prefers green tea') });
    expect((await mem.get('fresh'))?.content).toBe('Prefers green tea');
    const copy = await store
      .apply(mem.namespace, {
        memories: [{ ...fresh, id: 'copy' }],
        dedupe: guard('PREFERS green tea '),
      })
      .catch((e: unknown) => e);
    expect(copy).toMatchObject({ code: 'CONFLICT', field: 'dedupe' });
    expect(await mem.get('copy')).toBeNull();
    await mem.close();
  });

  it('a position more than 1000 memories behind is refused, not compared (the store never reads the namespace)', async () => {
    const store = open();
    const mem = await createMemory({ store, namespace: freshNamespace('window') });
    await mem.addMany(Array.from({ length: 1000 }, (_, i) => ({ content: `note ${i}` })));
    await mem.add({ content: 'one more' });
    const now = new Date().toISOString();
    const stale = await store
      .apply(mem.namespace, { memories: [], dedupe: { content: 'no copy of this', since: 0, now } })
      .catch((e: unknown) => e);
    expect(stale).toMatchObject({ code: 'CONFLICT', field: 'dedupe' });
    expect((stale as Error).message).toContain('more than 1000 memories');
    // A deduping add reads a fresh position: it passes, and finds a copy by its search as before.
    const fresh = await mem.add({ content: 'Prefers green tea' }, { dedupe: true });
    expect((await mem.add({ content: 'prefers GREEN tea' }, { dedupe: true })).id).toBe(fresh.id);
    await mem.close();
  });
});
