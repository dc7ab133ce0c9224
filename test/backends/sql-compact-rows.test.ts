import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import initSqlJs from 'sql.js';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, pglite } from '../../src/backends/postgres/index.js';
import {
  epochMs,
  LINK_COLUMNS,
  type LinkRow,
  linkFromRow,
  linkToRow,
  MEMORY_COLUMNS,
  type MemoryRow,
  memoryFromRow,
  memoryToRow,
  packDates,
  unpackDates,
} from '../../src/backends/sql/rows.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { clientOfNode, hlcWallPrefix, isoOfMs, parseHlc } from '../../src/core/hlc.js';
import { CLIENT_ID_META } from '../../src/core/language.js';
import {
  type LinkRecord,
  MEMORY_FIELDS,
  type MemoryRecord,
  type MemoryStore,
  stampEveryField,
  type WriteBatch,
} from '../../src/core/store-contract.js';
import { createMemory } from '../../src/index.js';
import {
  CURRENT_SQL_VERSION,
  downgradePostgresToVersion9,
  downgradePostgresToVersion22,
  downgradeToVersion9,
  downgradeToVersion22,
} from './sql-legacy.js';

const dir = await mkdtemp(join(tmpdir(), 'engram-packed-dates-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const NS = 'dates';
const QUERIES = ['coffee', 'roast*', 'tea -green', 'morning run'];

/** Instants as a writer could hand them over: canonical, other ISO forms, unparseable, empty, escaped. */
const ODD: Array<[string, string]> = [
  ['2026-01-02T03:04:05.678Z', '2026-01-02T03:04:05.678Z'],
  ['2026-01-02T03:04:05.678Z', '2026-02-02T03:04:05.678Z'],
  ['2026-01-02T03:04:05Z', '2026-01-02T03:04:05Z'],
  ['2026-01-02T04:04:05.678+01:00', '2026-01-02T03:04:05.678Z'],
  ['not a date', ''],
  ['', ''],
  ['', 'x'],
  ['2026-01-02T03:04:05.678Z', ''],
  ['2026-01-02T03:04:05.678Z', '='],
  ['2026-01-02T03:04:05.678Z', '==2026'],
  ['=', '2026-01-02T03:04:05.678Z'],
];

describe('packed memory instants (rows.ts packDates)', () => {
  it('read back as written, whatever was written', () => {
    for (const [createdAt, updatedAt] of ODD) {
      const ms = epochMs(createdAt);
      const [created, updated] = packDates(createdAt, updatedAt, ms);
      expect(unpackDates(created, updated, ms)).toEqual({ createdAt, updatedAt });
      // Postgres hands BIGINT columns back as strings.
      expect(unpackDates(created, updated, ms === null ? null : String(ms))).toEqual({
        createdAt,
        updatedAt,
      });
    }
  });

  it('a memory never edited stores neither instant as text; an edited one keeps only its update', () => {
    const at = '2026-01-02T03:04:05.678Z';
    expect(packDates(at, at, Date.parse(at))).toEqual(['', '']);
    expect(packDates(at, '2026-03-01T00:00:00.000Z', Date.parse(at))).toEqual([
      '',
      '2026-03-01T00:00:00.000Z',
    ]);
  });
});

describe('packed memory clocks (rows.ts packClocks)', () => {
  const at = '2026-01-02T03:04:05.678Z';
  const stampAt = (iso: string, rest = '0003-node.a:1') =>
    `${Date.parse(iso).toString(16).padStart(12, '0')}-${rest}`;
  const record = (createdAt: string, clocks: Record<string, string>): MemoryRecord => ({
    memory: {
      id: 'm1',
      namespace: NS,
      content: 'c',
      kind: 'note',
      tags: [],
      metadata: {},
      createdAt,
      updatedAt: createdAt,
    },
    clocks,
  });
  const uniform = (stamp: string) => Object.fromEntries(MEMORY_FIELDS.map((f) => [f, stamp]));
  const stored = (r: MemoryRecord, home: string | null = null) => {
    const values = memoryToRow(NS, r, home);
    return Object.fromEntries(MEMORY_COLUMNS.map((c, i) => [c, values[i]])) as unknown as MemoryRow;
  };

  it('a lone stamp made at created_ms loses its wall clock; every clock reads back as written', () => {
    const cases: MemoryRecord[] = [
      record(at, uniform(stampAt(at))),
      record(at, uniform(stampAt('2026-01-02T03:04:05.679Z'))),
      record('not a date', uniform(stampAt(at))),
      record(at, { ...uniform(stampAt(at)), content: stampAt('2026-02-01T00:00:00.000Z') }),
    ];
    const texts = cases.map((r) => stored(r).clocks);
    expect(texts[0]).toBe('@0003-node.a:1');
    expect(texts.slice(1).every((t) => t.startsWith('"') || t.startsWith('{'))).toBe(true);
    for (const r of cases) {
      const row = stored(r);
      expect(memoryFromRow(NS, row)).toEqual(r);
      expect(
        memoryFromRow(NS, { ...row, created_ms: row.created_ms === null ? null : String(row.created_ms) }),
      ).toEqual(r);
    }
  });

  it("a lone stamp from a node of the namespace's home client loses the client id; others keep it", () => {
    const home = 'c0ffee';
    const cases: Array<[MemoryRecord, string]> = [
      [record(at, uniform(stampAt(at, `00a1-${home}.1a2b3c4d`))), '#00a1.1a2b3c4d'],
      // A node of an earlier release is the client id alone.
      [record(at, uniform(stampAt(at, `0000-${home}`))), '#0000'],
      [record(at, uniform(stampAt(at, `0002-${home}.x.y`))), '#0002.x.y'],
      // Another client, one the home client's id begins or ends, the home client behind another wall clock.
      [record(at, uniform(stampAt(at, '0003-c0ffef.1a2b3c4d'))), '@0003-c0ffef.1a2b3c4d'],
      [record(at, uniform(stampAt(at, `0003-x${home}.00`))), `@0003-x${home}.00`],
      [record(at, uniform(stampAt(at, `0003-${home}x.00`))), `@0003-${home}x.00`],
      [record(at, uniform(stampAt('2026-01-02T03:04:05.679Z', `0003-${home}.00`))), 'JSON'],
      [
        record(at, { ...uniform(stampAt(at, `0003-${home}.00`)), tags: stampAt(at, `0004-${home}.00`) }),
        'JSON',
      ],
    ];
    for (const [r, expected] of cases) {
      const row = stored(r, home);
      if (expected === 'JSON') expect(JSON.parse(row.clocks)).toBeTruthy();
      else expect(row.clocks).toBe(expected);
      // A store reads the home client beside a row packed against it, and null beside any other.
      expect(memoryFromRow(NS, { ...row, home: row.clocks.startsWith('#') ? home : null })).toEqual(r);
    }
    // A row packed against a home client cannot be read without it: a clear error, never a wrong clock.
    const packed = stored(cases[0]![0], home);
    expect(() => memoryFromRow(NS, { ...packed, home: null })).toThrow(
      expect.objectContaining({ code: 'STORAGE' }),
    );
    // Nor can a row packed without its wall clock (`#` or `@`) be read without the creation instant.
    const atForm = stored(cases[3]![0], home);
    expect(atForm.clocks.startsWith('@')).toBe(true);
    for (const row of [packed, atForm]) {
      expect(() => memoryFromRow(NS, { ...row, home, created_ms: null })).toThrow(
        expect.objectContaining({ code: 'STORAGE' }),
      );
    }
  });
});

describe('packed link clocks (rows.ts linkToRow, schema v23)', () => {
  const stamp = (counter: string) => `0190aabbccdd-${counter}-c0ffee.1a2b3c4d`;
  const link = (clocks: Record<string, string>, weight?: number): LinkRecord => ({
    link: {
      id: 'l1',
      namespace: NS,
      from: 'm1',
      to: 'm2',
      type: 'rel',
      ...(weight === undefined ? {} : { weight }),
      metadata: { a: 1 },
      createdAt: '2026-01-02T03:04:05.678Z',
      updatedAt: '2026-01-02T03:04:05.678Z',
    },
    clocks,
  });
  const stored = (r: LinkRecord) => {
    const values = linkToRow(NS, r);
    return Object.fromEntries(LINK_COLUMNS.map((c, i) => [c, values[i]])) as unknown as LinkRow;
  };

  it('a link written once stores its one stamp alone; any other clocks stay whole; all read back as written', () => {
    const one = stamp('0001');
    const cases: Array<[LinkRecord, string]> = [
      [link({ type: one, weight: one, metadata: one }, 0.5), JSON.stringify(one)],
      [link({ type: one, weight: one, metadata: one }), JSON.stringify(one)],
      [link({ type: one, weight: stamp('0002'), metadata: one }), 'object'],
      // Fewer or more fields than a link has: kept as they are.
      [link({ type: one, metadata: one }), 'object'],
      [link({ type: one, weight: one, metadata: one, extra: one }), 'object'],
    ];
    for (const [r, expected] of cases) {
      const row = stored(r);
      if (expected === 'object') expect(JSON.parse(row.clocks)).toEqual(r.clocks);
      else expect(row.clocks).toBe(expected);
      expect(linkFromRow(NS, row)).toEqual(r);
    }
  });
});

/** Five memories the searches find (one edited), two that odd rows replace (ODD_ROWS), one deleted. */
async function fill(store: MemoryStore): Promise<string[]> {
  const mem = await createMemory({ store, namespace: NS });
  const contents = [
    'dark roast coffee',
    'green tea in the morning',
    'tea and coffee',
    'a morning run',
    'roasting beans',
  ];
  const added = await mem.addMany(
    [...contents, 'zebra one', 'zebra two', 'gone'].map((content) => ({ content })),
  );
  await mem.update(added[1]!.id, { content: 'black tea in the morning' });
  await mem.remove(added[7]!.id);
  return added.slice(0, 7).map((m) => m.id);
}

async function stateOf(store: MemoryStore, ids: string[]) {
  const mem = await createMemory({ store, namespace: NS });
  const searches: Record<string, unknown> = {};
  for (const q of QUERIES) searches[q] = (await mem.search(q)).map((h) => [h.memory.id, h.score]);
  const records = await store.getMemories(NS, ids);
  // Every number handed out and one more, the deleted memory's included: the doc index names the live ones.
  const docIds = await store.docIds!(NS, [...Array(ids.length + 2).keys()]);
  return { records: records.sort((a, b) => (a.memory.id < b.memory.id ? -1 : 1)), searches, docIds };
}

/** Rows a writer other than core could have left, set with the raw library on the downgraded database. */
const ODD_ROWS: Array<[string, string]> = [
  ['2026-01-02T03:04:05Z', ''],
  ['2026-01-02T03:04:05.678Z', '=x'],
];
const ODD_AT = 5;

/** The upgraded state is the one before, but for the odd rows, which read back as the raw library set them. */
function expectUpgraded(
  state: Awaited<ReturnType<typeof stateOf>>,
  reference: Awaited<ReturnType<typeof stateOf>>,
  ids: string[],
) {
  expect(state.searches).toEqual(reference.searches);
  expect(state.docIds).toEqual(reference.docIds);
  expect(state.docIds.size).toBe(ids.length);
  const odd = new Set(ids.slice(ODD_AT));
  const kept = (records: typeof state.records) => records.filter((r) => !odd.has(r.memory.id));
  expect(kept(state.records)).toEqual(kept(reference.records));
  const byId = new Map(state.records.map((r) => [r.memory.id, r.memory]));
  const referenceById = new Map(reference.records.map((r) => [r.memory.id, r]));
  ODD_ROWS.forEach(([createdAt, updatedAt], i) => {
    const id = ids[ODD_AT + i]!;
    expect(byId.get(id)).toMatchObject({ createdAt, updatedAt });
    // Its stamp's wall clock is no longer created_ms: kept whole, and read back the same.
    expect(state.records.find((r) => r.memory.id === id)?.clocks).toEqual(referenceById.get(id)?.clocks);
  });
}

/** Never-edited memories outside the odd rows: both instants stored empty, the clock without its wall. */
const PACKED = `SELECT count(*) AS n FROM engram_memories WHERE ns = '${NS}' AND created_at = '' AND updated_at = ''
  AND substr(clocks, 1, 1) = '@'`;
const PACKED_EXPECTED = ODD_AT - 1;

describe('schemas v10 to v12: memories written before get packed instants and clocks, a doc index without ids', () => {
  it('sql.js: a version-9 file reads and searches the same after the upgrade, its rows packed', async () => {
    const path = join(dir, 'v9.db');
    const store = new SqlJsStore({ persist: path });
    const ids = await fill(store);
    const reference = await stateOf(store, ids);
    await store.close();

    const SQL = await initSqlJs();
    const db = new SQL.Database(await readFile(path));
    downgradeToVersion9(db);
    expect(db.exec('PRAGMA index_info(engram_memories_by_doc)')[0]?.values.map((c) => c[2])).toEqual([
      'ns',
      'doc',
      'id',
    ]);
    const [unpacked] = db.exec(
      "SELECT count(*) FROM engram_memories WHERE created_at = '' OR updated_at = '' OR substr(clocks, 1, 1) = '@'",
    );
    expect(unpacked?.values).toEqual([[0]]);
    const odd = db.prepare(
      'UPDATE engram_memories SET created_at = ?, created_ms = ?, updated_at = ? WHERE id = ?',
    );
    ODD_ROWS.forEach(([createdAt, updatedAt], i) => {
      odd.run([createdAt, epochMs(createdAt), updatedAt, ids[ODD_AT + i]!]);
    });
    odd.free();
    await writeFile(path, db.export());
    db.close();

    const upgraded = new SqlJsStore({ persist: path });
    const state = await stateOf(upgraded, ids);
    expectUpgraded(state, reference, ids);
    // sql.js saves the migrated file with the next write.
    await (await createMemory({ store: upgraded, namespace: 'other' })).add({ content: 'saved' });
    await upgraded.close();
    const again = new SqlJsStore({ persist: path });
    expect(await stateOf(again, ids)).toEqual(state);
    await again.close();

    const raw = new SQL.Database(await readFile(path));
    expect(raw.exec('SELECT max(version) FROM engram_schema_version')[0]?.values).toEqual([
      [CURRENT_SQL_VERSION],
    ]);
    expect(raw.exec(PACKED)[0]?.values).toEqual([[PACKED_EXPECTED]]);
    expect(raw.exec('PRAGMA index_info(engram_memories_by_doc)')[0]?.values.map((c) => c[2])).toEqual([
      'ns',
      'doc',
    ]);
    raw.close();
  }, 120_000);

  it('PGlite: a version-9 database reads and searches the same after the upgrade, its rows packed', async () => {
    const pg = await PGlite.create();
    const store = new PostgresStore(pglite(pg));
    const ids = await fill(store);
    const reference = await stateOf(store, ids);
    await store.close();

    await downgradePostgresToVersion9(pg);
    const unpacked = await pg.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM engram_memories WHERE created_at = '' OR updated_at = '' OR substr(clocks, 1, 1) = '@'",
    );
    expect(unpacked.rows).toEqual([{ n: 0 }]);
    for (const [i, [createdAt, updatedAt]] of ODD_ROWS.entries()) {
      await pg.query(
        'UPDATE engram_memories SET created_at = $1, created_ms = $2, updated_at = $3 WHERE id = $4',
        [createdAt, epochMs(createdAt), updatedAt, ids[ODD_AT + i]],
      );
    }

    const upgraded = new PostgresStore(pglite(pg));
    expectUpgraded(await stateOf(upgraded, ids), reference, ids);
    await upgraded.close();
    const packed = await pg.query<{ n: number }>(PACKED.replace('count(*)', 'count(*)::int'));
    expect(packed.rows).toEqual([{ n: PACKED_EXPECTED }]);
    const index = await pg.query<{ def: string }>(
      "SELECT indexdef AS def FROM pg_indexes WHERE indexname = 'engram_memories_by_doc'",
    );
    expect(index.rows[0]?.def).toMatch(/\(ns, doc\)$/);
    await pg.close();
  }, 120_000);
});

/** A memory of another client, stamped at its creation instant (so its clock packs without the wall clock). */
function foreignWrite(namespace: string, id: string, node: string): WriteBatch {
  const wall = Date.parse('2026-03-01T00:00:00.000Z');
  return {
    memories: [
      {
        id,
        create: { namespace, createdAt: isoOfMs(wall) },
        values: { content: `from ${node}`, kind: 'note', tags: [], metadata: {} },
        clocks: stampEveryField(`${hlcWallPrefix(wall)}0007-${node}`),
      },
    ],
  };
}

/**
 * Writes by two openings of one client (two nodes), by another client, and in a namespace another client
 * wrote first; returns what the store reads back and the stored clock texts, by id.
 */
async function writeHomes(store: MemoryStore, raw: (sql: string) => Promise<unknown[][]>) {
  const first = await createMemory({ store, namespace: 'homes' });
  const a = await first.add({ content: 'tea at noon' });
  const second = await createMemory({ store, namespace: 'homes' });
  const b = await second.add({ content: 'coffee at dawn' });
  await store.apply('homes', foreignWrite('homes', 'foreign-1', 'f00d.12345678'));
  await store.apply('others', foreignWrite('others', 'foreign-2', 'f00d.12345678'));
  const own = await (await createMemory({ store, namespace: 'others' })).add({ content: 'tea again' });
  // A link written once keeps its one stamp alone; one edited since keeps a stamp per field.
  const linked = await second.link(a.id, b.id, 'related_to', { weight: 0.5 });
  const edited = await second.link(b.id, a.id, 'related_to');
  await second.link(b.id, a.id, 'related_to', { weight: 2 });
  const links = Object.fromEntries(await raw('SELECT id, clocks FROM engram_links'));
  expect(String(links[linked.id])).toMatch(/^"[0-9a-f]{12}-[0-9a-f]{4}-.+"$/);
  expect(Object.keys(JSON.parse(String(links[edited.id])))).toEqual(['type', 'weight', 'metadata']);
  const read = await store.getLinks('homes', [linked.id, edited.id]);
  expect(read.find((l) => l.link.id === linked.id)?.clocks).toEqual(
    Object.fromEntries(['type', 'weight', 'metadata'].map((f) => [f, JSON.parse(String(links[linked.id]))])),
  );
  expect(read.find((l) => l.link.id === edited.id)?.link.weight).toBe(2);
  // A namespace's client id is its own (create-memory.ts): 'others' was first written by client f00d.
  const client = String(await store.getMeta('homes', CLIENT_ID_META));
  const otherClient = String(await store.getMeta('others', CLIENT_ID_META));
  const homes = Object.fromEntries(await raw('SELECT ns, home FROM engram_namespaces ORDER BY ns'));
  expect(homes).toEqual({ homes: client, others: 'f00d' });
  const clocks = Object.fromEntries(await raw('SELECT id, clocks FROM engram_memories'));
  const ids = { a: a.id, b: b.id, own: own.id };
  return { clients: [client, otherClient] as const, clocks, ids };
}

/** Every read path gives each memory the clocks it was written with. */
async function readsBack(
  store: MemoryStore,
  ids: { a: string; b: string; own: string },
  [client, otherClient]: readonly [string, string],
) {
  const homes = await store.getMemories('homes', [ids.a, ids.b, 'foreign-1']);
  const others = await store.getMemories('others', ['foreign-2', ids.own]);
  const nodes = [...homes, ...others].map((r) => parseHlc(r.clocks.content!)!.node);
  expect(nodes.map(clientOfNode)).toEqual([client, client, 'f00d', 'f00d', otherClient]);
  // Two openings of one client: two nodes.
  expect(nodes[0]).not.toBe(nodes[1]);
  for (const r of [...homes, ...others]) expect(r.clocks).toEqual(stampEveryField(r.clocks.content!));
  const byId = new Map([...homes, ...others].map((r) => [r.memory.id, r]));
  const query = { limit: 10, tagMode: 'any', now: new Date().toISOString() } as const;
  const listed = [...(await store.list('homes', query)), ...(await store.list('others', query))];
  expect(listed).toHaveLength(5);
  for (const r of listed) expect(r).toEqual(byId.get(r.memory.id));
  return homes.concat(others);
}

describe("schema v23: a memory's lone stamp packed against its namespace's home client", () => {
  it('sql.js: own writes lose the client id, others keep theirs; a v22 file reads the same upgraded', async () => {
    const SQL = await initSqlJs();
    const path = join(dir, 'homes.db');
    const store = new SqlJsStore({ persist: path, sqlJs: SQL });
    const rawOf = (bytes: Uint8Array) => async (sql: string) => {
      const db = new SQL.Database(bytes);
      const values = db.exec(sql)[0]?.values ?? [];
      db.close();
      return values;
    };
    const { clients, clocks, ids } = await writeHomes(store, async (sql) => rawOf(await store.export())(sql));
    expect([ids.a, ids.b, 'foreign-2'].map((id) => String(clocks[id])[0])).toEqual(['#', '#', '#']);
    expect(['foreign-1', ids.own].map((id) => String(clocks[id])[0])).toEqual(['@', '@']);
    expect(String(clocks[ids.a])).toMatch(/^#[0-9a-f]{4}\.[0-9a-f]{8}$/);
    const before = await readsBack(store, ids, clients);
    await store.close();

    const db = new SQL.Database(await readFile(path));
    downgradeToVersion22(db);
    expect(
      db.exec("SELECT count(*) FROM engram_memories WHERE substr(clocks, 1, 1) = '#'")[0]?.values,
    ).toEqual([[0]]);
    await writeFile(path, db.export());
    db.close();
    const upgraded = new SqlJsStore({ persist: path, sqlJs: SQL });
    expect(await readsBack(upgraded, ids, clients)).toEqual(before);
    // The upgraded namespaces have no home client until their next memory write names one.
    const mem = await createMemory({ store: upgraded, namespace: 'homes' });
    const c = await mem.add({ content: 'after the upgrade' });
    const raw = rawOf(await upgraded.export());
    expect(await raw('SELECT ns, home FROM engram_namespaces ORDER BY ns')).toEqual([
      ['homes', clients[0]],
      ['others', null],
    ]);
    expect(await raw(`SELECT substr(clocks, 1, 1) FROM engram_memories WHERE id = '${c.id}'`)).toEqual([
      ['#'],
    ]);
    expect((await upgraded.getMemories('homes', [c.id]))[0]?.memory.content).toBe('after the upgrade');
    await upgraded.close();
  }, 120_000);

  it('PGlite: own writes lose the client id, others keep theirs; a v22 database reads the same upgraded', async () => {
    const pg = await PGlite.create();
    const store = new PostgresStore(pglite(pg));
    const raw = async (sql: string) => (await pg.query<Record<string, unknown>>(sql)).rows.map(Object.values);
    const { clients, clocks, ids } = await writeHomes(store, raw);
    expect([ids.a, ids.b, 'foreign-2'].map((id) => String(clocks[id])[0])).toEqual(['#', '#', '#']);
    expect(['foreign-1', ids.own].map((id) => String(clocks[id])[0])).toEqual(['@', '@']);
    const before = await readsBack(store, ids, clients);
    await store.close();
    await downgradePostgresToVersion22(pg);
    expect(await raw("SELECT count(*)::int FROM engram_memories WHERE substr(clocks, 1, 1) = '#'")).toEqual([
      [0],
    ]);
    const upgraded = new PostgresStore(pglite(pg));
    expect(await readsBack(upgraded, ids, clients)).toEqual(before);
    await upgraded.close();
    await pg.close();
  }, 120_000);
});
