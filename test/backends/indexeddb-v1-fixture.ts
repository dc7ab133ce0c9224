import { type IDBPDatabase, openDB } from 'idb';
import type { Link, Memory, Tombstone } from '../../src/index.js';
import { formatHlc, indexText } from '../../src/store/index.js';

/**
 * Schema version 1 of the IndexedDB store, written with raw idb: what a database created by the first
 * release looks like (embeddings inside memory rows, no tags index, no text statistics).
 */
export function openVersion1(name: string): Promise<IDBPDatabase> {
  return openDB(name, 1, {
    upgrade(db) {
      const memories = db.createObjectStore('memories', { keyPath: ['memory.namespace', 'memory.id'] });
      memories.createIndex('kind', ['memory.namespace', 'memory.kind']);
      const links = db.createObjectStore('links', { keyPath: ['link.namespace', 'link.id'] });
      links.createIndex('from', ['link.namespace', 'link.from']);
      links.createIndex('to', ['link.namespace', 'link.to']);
      db.createObjectStore('tombstones', { keyPath: ['namespace', 'id'] });
      const changes = db.createObjectStore('changes', { keyPath: ['namespace', 'seq'] });
      changes.createIndex('entity', ['namespace', 'entity', 'id']);
      db.createObjectStore('meta');
      db.createObjectStore('postings');
    },
  });
}

const at = '2030-01-01T00:00:00.000Z';
const clock = formatHlc({ wallMs: Date.parse(at), counter: 0, node: 'v1' });
const clocks = Object.fromEntries(
  ['content', 'kind', 'tags', 'metadata', 'embedding', 'importance', 'expiresAt'].map((f) => [f, clock]),
);

function memory(namespace: string, id: string, content: string, extra: Partial<Memory> = {}): Memory {
  return {
    id,
    namespace,
    content,
    kind: 'note',
    tags: [],
    metadata: {},
    createdAt: at,
    updatedAt: at,
    ...extra,
  };
}

/** Rows as v1 wrote them, in namespace `ns`: three memories (one with an embedding), a link, a tombstone. */
export function version1Rows(ns: string) {
  const memories = [
    memory(ns, 'm1', 'Penguins live in Antarctica', { tags: ['bird', 'cold'], embedding: [0.5, -0.25, 1] }),
    memory(ns, 'm2', 'Running shoes for the marathon', { kind: 'fact', tags: ['sport'] }),
    memory(ns, 'm3', 'penguin colonies are loud', { tags: ['bird'], importance: 0.4 }),
  ];
  const link: Link = {
    id: 'l1',
    namespace: ns,
    from: 'm1',
    to: 'm3',
    type: 'related_to',
    weight: 1,
    metadata: {},
    createdAt: at,
    updatedAt: at,
  };
  const tombstone: Tombstone = { entity: 'memory', id: 'gone', namespace: ns, clock };
  return { memories, link, tombstone, clocks };
}

/** Writes the rows, postings included (tf and length packed as `length * 2**24 + tf`). */
export async function fillVersion1(db: IDBPDatabase, ns: string): Promise<ReturnType<typeof version1Rows>> {
  const rows = version1Rows(ns);
  const tx = db.transaction([...db.objectStoreNames], 'readwrite');
  let seq = 0;
  for (const m of rows.memories) {
    tx.objectStore('memories').put({ memory: m, clocks: rows.clocks });
    const { length, terms } = indexText(m.content);
    for (const [term, tf] of terms) tx.objectStore('postings').put(length * 2 ** 24 + tf, [ns, term, m.id]);
    tx.objectStore('changes').put({ namespace: ns, seq: ++seq, entity: 'memory', id: m.id, origin: 'local' });
  }
  tx.objectStore('links').put({ link: rows.link, clocks: { type: clock, weight: clock, metadata: clock } });
  tx.objectStore('changes').put({ namespace: ns, seq: ++seq, entity: 'link', id: 'l1', origin: 'local' });
  tx.objectStore('tombstones').put(rows.tombstone);
  tx.objectStore('changes').put({
    namespace: ns,
    seq: ++seq,
    entity: 'memory',
    id: 'gone',
    origin: 'remote',
  });
  tx.objectStore('meta').put('v1-client', [ns, 'clientId']);
  await tx.done;
  return rows;
}
