import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory, type Engram, exportJsonl, type Json } from '../../src/index.js';
import { KnowledgeGraph } from '../../src/mcp/knowledge-graph.js';
import { cli, storeOpened } from './helpers.js';
import { bin, buildCli, type Call, call, connectEngram, connectReference, root } from './mcp-helpers.js';

// A memory.jsonl written by the official @modelcontextprotocol/server-memory is imported with
// `engram import`, and `engram mcp` then answers as the official server did on that file.
const dir = mkdtempSync(join(tmpdir(), 'engram-import-graph-'));
let n = 0;
const fresh = (ext: string) => join(dir, `${++n}.${ext}`);

beforeAll(buildCli, 60_000);
vi.setConfig({ testTimeout: 120_000 });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The graph the official server builds, through its own tools: unicode, bare names, odd relation types. */
const SESSION: Call[] = [
  {
    name: 'create_entities',
    arguments: {
      entities: [
        { name: 'Zoë', entityType: 'person', observations: ['lives in 東京', 'likes 🦄 and "quotes"'] },
        { name: 'Zoe\u0308', entityType: 'person (NFD)', observations: ['spelt with a combining diaeresis'] },
        { name: 'Acme Corp', entityType: 'organization', observations: [] },
        { name: 'مرحبا', entityType: '', observations: ['right-to-left', 'two\nlines'] },
      ],
    },
  },
  {
    name: 'create_relations',
    arguments: {
      relations: [
        { from: 'Zoë', to: 'Acme Corp', relationType: 'works_at' },
        { from: 'Acme Corp', to: 'Nowhere Ltd', relationType: 'competes with' },
        { from: 'Zoë', to: 'Zoë', relationType: 'reflects on' },
        { from: 'مرحبا', to: 'Zoë', relationType: '' },
        { from: 'Zoe\u0308', to: 'Zoë', relationType: `is ${'very '.repeat(20)}similar to` },
      ],
    },
  },
  {
    name: 'add_observations',
    arguments: { observations: [{ entityName: 'Acme Corp', contents: ['founded 1999', '🚀 launches'] }] },
  },
  {
    name: 'create_entities',
    arguments: { entities: [{ name: 'Late', entityType: 'thing', observations: ['x'] }] },
  },
  {
    name: 'create_relations',
    arguments: { relations: [{ from: 'Late', to: 'Zoë', relationType: 'follows' }] },
  },
  { name: 'delete_observations', arguments: { deletions: [{ entityName: 'Late', observations: ['x'] }] } },
  { name: 'delete_entities', arguments: { entityNames: ['Gone'] } },
];

const NAMES = ['Zoë', 'Acme Corp', 'Nowhere Ltd', 'Late', 'nobody'];

interface Answers {
  graph: unknown;
  opened: unknown[];
}

async function answersOf(c: Awaited<ReturnType<typeof connectEngram>>): Promise<Answers> {
  const graph = (await call(c, { name: 'read_graph', arguments: {} })).structured;
  const opened: unknown[] = [];
  for (const name of NAMES)
    opened.push((await call(c, { name: 'open_nodes', arguments: { names: [name] } })).structured);
  opened.push((await call(c, { name: 'open_nodes', arguments: { names: NAMES } })).structured);
  return { graph, opened };
}

/** `engram import` as a real process, stdin redirected from `file` as a shell's `<` does. */
function importFile(file: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const input = openSync(file, 'r');
  const child = spawn(process.execPath, [bin, 'import', ...args], {
    cwd: root,
    stdio: [input, 'pipe', 'pipe'],
  });
  closeSync(input);
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

/** What a namespace stores, without what differs between any two writes (ids, instants, order stamps). */
async function stored(file: string, namespace: string): Promise<unknown> {
  const mem = await createMemory({ store: new SqlJsStore({ persist: file }), namespace });
  try {
    return await storedOf(mem);
  } finally {
    await mem.close();
  }
}

async function storedOf(mem: Engram): Promise<unknown> {
  const memories = (await mem.list({ limit: 1000 })).items;
  const label = new Map(memories.map((m) => [m.id, `${m.kind}:${m.content}`]));
  const stable = (metadata: { [k: string]: Json }) => {
    const { order: _o, selfRelationsOrder: _s, ...rest } = metadata;
    return rest;
  };
  const links: unknown[] = [];
  for (const m of memories) {
    for (const l of await mem.links(m.id, { direction: 'out' }))
      links.push({
        from: label.get(l.from),
        to: label.get(l.to),
        type: l.type,
        metadata: stable(l.metadata),
      });
  }
  const records = memories.map((m) => ({
    kind: m.kind,
    content: m.content,
    tags: m.tags,
    metadata: stable(m.metadata),
  }));
  const key = (x: unknown) => JSON.stringify(x);
  return {
    records: records.sort((a, b) => (key(a) < key(b) ? -1 : 1)),
    links: links.sort((a, b) => (key(a) < key(b) ? -1 : 1)),
  };
}

describe('engram import of an official memory.jsonl', () => {
  it('answers read_graph and open_nodes as the official server does on that file', async () => {
    const jsonl = fresh('jsonl');
    const ref = await connectReference(jsonl);
    let expected: Answers;
    let finalGraph: { entities: unknown[]; relations: unknown[] };
    try {
      for (const c of SESSION) expect((await call(ref, c)).isError, JSON.stringify(c)).toBe(false);
      expected = await answersOf(ref);
      finalGraph = expected.graph as typeof finalGraph;
    } finally {
      await ref.close();
    }
    expect(readFileSync(jsonl, 'utf8')).toMatch(/^\{"type":"entity","name":"Zoë"/);

    const db = fresh('db');
    const imported = await importFile(jsonl, ['--to', `sqlite:${db}`, '--ns', 'my-agent']);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);

    const ours = await connectEngram(['--store', `sqlite:${db}`, '--ns', 'my-agent']);
    try {
      expect(await answersOf(ours)).toEqual(expected);
      // Ranked search finds at least what the official substring search finds.
      const hits = await call(ours, { name: 'search_nodes', arguments: { query: '東京' } });
      expect((hits.structured as { entities: { name: string }[] }).entities.map((e) => e.name)).toContain(
        'Zoë',
      );
    } finally {
      await ours.close();
    }

    // Stored exactly as engram mcp stores the same graph made through create_entities and create_relations.
    const made = fresh('db');
    const maker = await connectEngram(['--store', `sqlite:${made}`, '--ns', 'my-agent']);
    try {
      await call(maker, { name: 'create_entities', arguments: { entities: finalGraph.entities } });
      await call(maker, { name: 'create_relations', arguments: { relations: finalGraph.relations } });
    } finally {
      await maker.close();
    }
    expect(await stored(db, 'my-agent')).toEqual(await stored(made, 'my-agent'));

    // Re-running changes nothing; the default namespace is engram mcp's.
    expect((await importFile(jsonl, ['--to', `sqlite:${db}`, '--ns', 'my-agent'])).code).toBe(0);
    expect(await stored(db, 'my-agent')).toEqual(await stored(made, 'my-agent'));
    expect((await importFile(jsonl, ['--to', `sqlite:${db}`])).code).toBe(0);
    const byDefault = await connectEngram(['--store', `sqlite:${db}`]);
    try {
      expect((await call(byDefault, { name: 'read_graph', arguments: {} })).structured).toEqual(
        expected.graph,
      );
    } finally {
      await byDefault.close();
    }
  });

  const good = [
    '{"type":"entity","name":"A","entityType":"t","observations":["o"]}',
    '{"type":"entity","name":"B","entityType":"t","observations":[]}',
    '{"type":"relation","from":"A","to":"B","relationType":"knows"}',
  ];

  it.each([
    ['a line that is no JSON', [...good, '{"type":"entity",'], /line 4: expected JSON/],
    // Blank lines are skipped but counted: the number is the file's line number.
    [
      'a line that is no JSON after a blank one',
      [good[0]!, '', '{"type":"entity",'],
      /line 3: expected JSON/,
    ],
    [
      'an entity without observations',
      [good[0]!, '{"type":"entity","name":"C","entityType":"t"}', good[2]!],
      /line 2: .*observations.*array of strings/,
    ],
    [
      'an entity with an observation that is no string',
      [good[0]!, '{"type":"entity","name":"C","entityType":"t","observations":["o",7]}', good[2]!],
      /line 2: .*observations.*array of strings/,
    ],
    [
      'an entity too large for one Engram memory',
      [...good, `{"type":"entity","name":"L","entityType":"t","observations":["${'o'.repeat(70_000)}"]}`],
      /line 4: Entity "L" would hold more than 64 KiB/,
    ],
    [
      'a relation whose end is no string',
      [...good, '{"type":"relation","from":"A","to":7,"relationType":"r"}'],
      /line 4: .*"to".*string/,
    ],
    [
      'a line that is a JSON array',
      [...good, '["entity","E"]'],
      /line 4: expected a line of .*, got \["entity","E"\]/,
    ],
    [
      'an entry of a long unknown type, quoting only its start',
      [...good, `{"type":"${'x'.repeat(100)}"}`],
      /line 4: .*"entity" or "relation".*, got "x{56}\.\.\.; nothing was written/,
    ],
    [
      'an entry of another type',
      [...good, '{"type":"memory","namespace":"x"}'],
      /line 4: .*"entity" or "relation"/,
    ],
    [
      'text Engram cannot keep',
      [...good, '{"type":"entity","name":"N","entityType":"t","observations":["a\\u0000b"]}'],
      /line 4: An observation of entity "N" contains a NUL character/,
    ],
    [
      'a relation with text Engram cannot keep',
      [...good, '{"type":"relation","from":"A","to":"B","relationType":"r\\u0000s"}'],
      /line 4: The type of relation "A" -> "B" contains a NUL character/,
    ],
  ])('refuses %s, naming the line, and writes nothing', async (_, lines, message) => {
    const db = fresh('db');
    const run = cli(['import', '--to', `sqlite:${db}`], {}, dir, { stdin: `${lines.join('\n')}\n` });
    expect(await run.exit).toBe(1);
    expect(run.err).toHaveLength(1);
    expect(run.err[0]).toMatch(/^engram import: /);
    expect(run.err[0]).toMatch(message);
    expect(run.err[0]).toMatch(/nothing was written/);
    if (existsSync(db)) {
      const mem = await createMemory({ store: new SqlJsStore({ persist: db }), namespace: 'default' });
      try {
        expect((await mem.list()).items).toEqual([]);
      } finally {
        await mem.close();
      }
    }
  });

  it('imports into a namespace indexed in another language, in that language', async () => {
    const db = fresh('db');
    const german = await createMemory({
      store: new SqlJsStore({ persist: db }),
      namespace: 'de',
      language: 'german',
    });
    await german.add({ content: 'Die Häuser am See' });
    await german.close();
    const run = cli(['import', '--to', `sqlite:${db}`, '--ns', 'de'], {}, dir, {
      stdin: `${good.join('\n')}\n`,
    });
    expect(await run.exit, run.err.join('\n')).toBe(0);
    const mem = await createMemory({
      store: new SqlJsStore({ persist: db }),
      namespace: 'de',
      language: 'german',
    });
    try {
      expect((await mem.list()).items.length).toBeGreaterThan(1);
      expect((await mem.search('Haus')).map((h) => h.memory.content)).toEqual(['Die Häuser am See']);
    } finally {
      await mem.close();
    }
  });

  it('--format server-memory is taken at its word; --format engram keeps the Engram reading', async () => {
    const engramLine = '{"type":"language","namespace":"default","language":"english"}';
    const forced = cli(['import', '--to', `sqlite:${fresh('db')}`, '--format', 'server-memory'], {}, dir, {
      stdin: `${engramLine}\n`,
    });
    expect(await forced.exit).toBe(1);
    expect(forced.err[0]).toMatch(/line 1: .*"entity" or "relation"/);
    const asEngram = cli(['import', '--to', `sqlite:${fresh('db')}`, '--format', 'engram'], {}, dir, {
      stdin: `${good.join('\n')}\n`,
    });
    expect(await asEngram.exit).toBe(1);
    expect(asEngram.err[0]).toMatch(/line 1: expected an Engram export entry/);
  });

  it.each([
    [['--ns', 'a,b'], /--ns: a memory.jsonl goes into one namespace/],
    [['--restore'], /--restore: .*Engram export/],
    [['--batch', '10'], /--batch: only for an Engram export/],
    [['--format', 'csv'], /--format: expected engram or server-memory/],
  ])('refuses %j with exit 2', async (flags, message) => {
    const run = cli(['import', '--to', `sqlite:${fresh('db')}`, ...flags], {}, dir, {
      stdin: `${good.join('\n')}\n`,
    });
    expect(await run.exit).toBe(2);
    expect(run.err).toHaveLength(1);
    expect(run.err[0]).toMatch(message);
  });

  it('refuses a jsonl: target for a memory.jsonl with exit 2, writing no file', async () => {
    const target = fresh('jsonl');
    const run = cli(['import', '--to', `jsonl:${target}`], {}, dir, { stdin: `${good.join('\n')}\n` });
    expect(await run.exit).toBe(2);
    expect(run.err).toEqual([expect.stringMatching(/--to: a memory.jsonl goes into a store/)]);
    expect(existsSync(target)).toBe(false);
  });

  it('tells the format by the whole first line, however stdin splits it into chunks', async () => {
    const db = fresh('db');
    const [head, tail] = [good[0]!.slice(0, 20), good[0]!.slice(20)];
    // The first chunk ends a blank line, then stops inside the entity's "type".
    const stdin = Readable.from([
      Buffer.from(`\n${head}`),
      Buffer.from(`${tail}\n${good.slice(1).join('\n')}\n`),
    ]);
    const run = cli(['import', '--to', `sqlite:${db}`], {}, dir, { stdin });
    expect(await run.exit, run.err.join('\n')).toBe(0);
    const mem = await createMemory({ store: new SqlJsStore({ persist: db }), namespace: 'default' });
    try {
      expect((await new KnowledgeGraph(mem).readGraph()).entities.map((e) => e.name)).toEqual(['A', 'B']);
    } finally {
      await mem.close();
    }
  });

  it('stops on SIGINT while waiting for more input, writing nothing (exit 130)', async () => {
    const db = fresh('db');
    const child = spawn(process.execPath, [bin, 'import', '--to', `sqlite:${db}`], { cwd: root });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdin.write(`${good.join('\n')}\n`);
    // Signalled once its store is open: a fixed 3 s wait raced a loaded machine's start, when Node's
    // default handler ended it (no exit code at all).
    expect(await storeOpened(db)).toBe(true);
    child.kill('SIGINT');
    expect(await new Promise((done) => child.once('close', done))).toBe(130);
    expect(stderr).toMatch(/^engram import: interrupted by SIGINT: nothing was imported/);
    const mem = await createMemory({ store: new SqlJsStore({ persist: db }), namespace: 'default' });
    try {
      expect((await mem.list()).items).toEqual([]);
    } finally {
      await mem.close();
    }
  });

  it('reads a file with blank lines, or of relations only (between names no entity has)', async () => {
    const relationsOnly = [
      { from: 'P', to: 'Q', relationType: 'knows' },
      { from: 'Q', to: 'P', relationType: 'likes' },
    ];
    for (const [input, expected] of [
      [
        // A line of whitespace only is blank too (the reference skips it as well).
        `\n${good[0]}\n \t\n${good.slice(1).join('\n')}\n\n`,
        {
          entities: [
            { name: 'A', entityType: 't', observations: ['o'] },
            { name: 'B', entityType: 't', observations: [] },
          ],
          relations: [{ from: 'A', to: 'B', relationType: 'knows' }],
        },
      ],
      [
        `${relationsOnly.map((r) => JSON.stringify({ type: 'relation', ...r })).join('\n')}\n`,
        { entities: [], relations: relationsOnly },
      ],
    ] as const) {
      const db = fresh('db');
      const run = cli(['import', '--to', `sqlite:${db}`], {}, dir, { stdin: input });
      expect(await run.exit, run.err.join('\n')).toBe(0);
      const mem = await createMemory({ store: new SqlJsStore({ persist: db }), namespace: 'default' });
      try {
        expect(await new KnowledgeGraph(mem).readGraph()).toEqual(expected);
      } finally {
        await mem.close();
      }
    }
  });

  it('an empty input imports nothing, and an Engram dump is still told apart and imported', async () => {
    expect(await cli(['import', '--to', `sqlite:${fresh('db')}`], {}, dir, { stdin: '\n\n' }).exit).toBe(0);
    const source = await createMemory({ namespace: 'default' });
    await source.add({ content: 'from an Engram export' });
    const lines: string[] = [];
    for await (const line of exportJsonl(source.store)) lines.push(line);
    await source.close();
    const db = fresh('db');
    const run = cli(['import', '--to', `sqlite:${db}`], {}, dir, { stdin: `\n${lines.join('\n')}\n` });
    expect(await run.exit).toBe(0);
    const mem = await createMemory({ store: new SqlJsStore({ persist: db }), namespace: 'default' });
    try {
      expect((await mem.list()).items.map((m) => m.content)).toEqual(['from an Engram export']);
    } finally {
      await mem.close();
    }
  });
});
