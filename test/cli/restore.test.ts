import { afterAll, describe, expect, it } from 'vitest';
import { createMemory, exportJsonl } from '../../src/index.js';
import { startEdge } from './fixtures.js';
import { cli } from './helpers.js';

describe('engram import --restore', () => {
  const edges: Array<{ close: () => Promise<void> }> = [];
  afterAll(() => Promise.all(edges.map((e) => e.close())));

  it('makes the target equal to the dump: later edits undone, later additions removed, deletions back', async () => {
    const edge = await startEdge();
    edges.push(edge);
    const mem = await createMemory({ store: edge.store, namespace: 'alpha' });
    await mem.addMany([
      { id: 'a', content: 'apples' },
      { id: 'b', content: 'bananas', tags: ['fruit'] },
    ]);
    await mem.link('a', 'b', 'rel');
    const dump: string[] = [];
    for await (const line of exportJsonl(edge.store, { namespaces: ['alpha'] })) dump.push(line);

    await mem.remove('a');
    await mem.update('b', { content: 'blueberries', tags: [] });
    await mem.add({ id: 'c', content: 'cherries' });

    const merge = cli(['import', '--to', edge.url, '--token', await edge.token()], {}, process.cwd(), {
      stdin: `${dump.join('\n')}\n`,
    });
    expect(await merge.exit).toBe(0);
    // A plain import merges by clock: the later delete and edit stand.
    expect(await mem.get('a')).toBeNull();
    expect((await mem.get('b'))?.content).toBe('blueberries');

    const restore = cli(
      ['import', '--restore', '--to', edge.url, '--token', await edge.token()],
      {},
      process.cwd(),
      {
        stdin: `${dump.join('\n')}\n`,
      },
    );
    expect(await restore.exit).toBe(0);
    expect(restore.err.join('\n')).toContain('restored a as a.r1');
    const items = (await mem.list({ history: true })).items;
    expect(items.map((m) => [m.id, m.content, m.tags])).toEqual([
      ['b', 'bananas', ['fruit']],
      ['a.r1', 'apples', []],
    ]);
    expect((await mem.neighbors('a.r1')).map((m) => m.id)).toEqual(['b']);
    expect(await mem.get('c')).toBeNull();
  });

  it('a bad record is named by its line and nothing is restored, not even earlier namespaces', async () => {
    const edge = await startEdge();
    edges.push(edge);
    for (const namespace of ['alpha', 'beta.2']) {
      const mem = await createMemory({ store: edge.store, namespace });
      await mem.addMany([1, 2, 3].map((i) => ({ id: `m${i}`, content: `${namespace} memory ${i}` })));
    }
    const dump: string[] = [];
    for await (const line of exportJsonl(edge.store)) dump.push(line);
    const alpha = await createMemory({ store: edge.store, namespace: 'alpha' });
    await alpha.update('m1', { content: 'edited after the dump' });
    const bad = JSON.parse(dump[4]!);
    expect(bad).toMatchObject({ type: 'memory', namespace: 'beta.2' });
    bad.record.memory.content = 123;
    const lines = dump.map((line, i) => (i === 4 ? JSON.stringify(bad) : line));

    const restore = cli(
      ['import', '--restore', '--to', edge.url, '--token', await edge.token()],
      {},
      process.cwd(),
      { stdin: `${lines.join('\n')}\n` },
    );
    expect(await restore.exit).toBe(1);
    expect(restore.err).toEqual([expect.stringMatching(/^engram import: line\.5\.values\.content: /)]);
    expect((await alpha.get('m1'))?.content).toBe('edited after the dump');
  });
});
