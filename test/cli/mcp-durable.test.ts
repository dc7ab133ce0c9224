import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory } from '../../src/index.js';
import { startEdge } from './fixtures.js';
import {
  bin,
  buildCli,
  type Call,
  type Connected,
  call,
  connectEngram,
  connectReference,
  root,
} from './mcp-helpers.js';

// What an MCP client was told is written must survive the server's sudden death, as the reference's
// file does: it writes before it answers.
const dir = mkdtempSync(join(tmpdir(), 'engram-mcp-durable-'));
let n = 0;
const fresh = (ext: string) => join(dir, `${++n}.${ext}`);

beforeAll(buildCli, 60_000);
vi.setConfig({ testTimeout: 120_000 });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** SIGKILL the moment the answer is in: no shutdown, no debounced save. */
async function kill(c: Connected): Promise<void> {
  const closed = new Promise<void>((resolve) => (c.client.transport!.onclose = resolve));
  process.kill(c.pid, 'SIGKILL');
  await closed;
  await c.close().catch(() => {});
}

const WRITES: Call[] = [
  {
    name: 'create_entities',
    arguments: {
      entities: [
        { name: 'Ada', entityType: 'person', observations: ['writes programs'] },
        { name: 'Bob', entityType: 'person', observations: [] },
      ],
    },
  },
  { name: 'create_relations', arguments: { relations: [{ from: 'Ada', to: 'Bob', relationType: 'knows' }] } },
  { name: 'add_observations', arguments: { observations: [{ entityName: 'Bob', contents: ['likes tea'] }] } },
  {
    name: 'delete_observations',
    arguments: { deletions: [{ entityName: 'Ada', observations: ['writes programs'] }] },
  },
  { name: 'delete_relations', arguments: { relations: [{ from: 'Ada', to: 'Bob', relationType: 'knows' }] } },
  { name: 'delete_entities', arguments: { entityNames: ['Ada'] } },
];

describe('engram mcp answers a write only once it is saved', () => {
  it('each of the six graph writes survives a SIGKILL right after its answer, as the reference', async () => {
    const file = fresh('db');
    const ref = await connectReference(fresh('jsonl'));
    try {
      for (const write of WRITES) {
        const ours = await connectEngram(['--store', `sqlite:${file}`]);
        const [a, b] = await Promise.all([call(ours, write), call(ref, write)]);
        expect(a.isError, write.name).toBe(false);
        expect(a.structured, write.name).toEqual(b.structured);
        await kill(ours);
        const again = await connectEngram(['--store', `sqlite:${file}`]);
        try {
          const [graph, expected] = await Promise.all([
            call(again, { name: 'read_graph', arguments: {} }),
            call(ref, { name: 'read_graph', arguments: {} }),
          ]);
          expect(graph.structured, `after ${write.name} and SIGKILL`).toEqual(expected.structured);
        } finally {
          await again.close();
        }
      }
    } finally {
      await ref.close();
    }
  });

  it("Engram's own writes (remember, link, forget) survive a SIGKILL right after their answer", async () => {
    const file = fresh('db');
    const reopen = () => connectEngram(['--store', `sqlite:${file}`]);
    const recallIds = async (c: Connected, query: string) =>
      (
        (await call(c, { name: 'recall', arguments: { query } })).structured as {
          memories: { id: string }[];
        }
      ).memories.map((m) => m.id);

    let ours = await reopen();
    const first = await call(ours, { name: 'remember', arguments: { content: 'Kept through a crash' } });
    const second = await call(ours, { name: 'remember', arguments: { content: 'Another crash survivor' } });
    const idA = (first.structured as { memory: { id: string } }).memory.id;
    const idB = (second.structured as { memory: { id: string } }).memory.id;
    await kill(ours);

    ours = await reopen();
    expect(await recallIds(ours, 'crash')).toEqual(expect.arrayContaining([idA, idB]));
    const link = await call(ours, { name: 'link', arguments: { from: idA, to: idB, type: 'related_to' } });
    expect(link.isError).toBe(false);
    await kill(ours);
    // No tool lists a memory's links: read the file back with the library itself.
    const mem = await createMemory({ store: new SqlJsStore({ persist: file }), namespace: 'default' });
    try {
      expect((await mem.links(idA)).map((l) => [l.from, l.to, l.type])).toEqual([[idA, idB, 'related_to']]);
    } finally {
      await mem.close();
    }

    // The link is a relation-less pair of plain memories: forgetting one removes it with its links.
    ours = await reopen();
    const forgot = await call(ours, { name: 'forget', arguments: { id: idA } });
    expect(forgot.structured).toEqual({ deleted: true });
    await kill(ours);

    ours = await reopen();
    try {
      expect(await recallIds(ours, 'crash')).toEqual([idB]);
    } finally {
      await ours.close();
    }
  });
});

describe('two MCP clients on one memory', () => {
  it('a second engram mcp on the same sqlite: file exits 2 saying how to share it', async () => {
    const file = fresh('db');
    const first = await connectEngram(['--store', `sqlite:${file}`]);
    try {
      const second = spawn(process.execPath, [bin, 'mcp', '--store', `sqlite:${file}`], {
        cwd: root,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stderr = '';
      second.stderr.on('data', (chunk) => (stderr += chunk));
      const code = await new Promise<number | null>((resolve) => second.on('exit', resolve));
      expect(code).toBe(2);
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^engram mcp: cannot open sqlite:.* is open in process \d+/);
      expect(lines[0]).toMatch(/engram serve/);
      expect(lines[0]).toMatch(/--store http:\/\/127\.0\.0\.1:8787 --token/);
    } finally {
      await first.close();
    }
  });

  it('two engram mcp on one engram serve (--store http://...) share one graph', async () => {
    const edge = await startEdge();
    try {
      const token = await edge.token(['agent']);
      const flags = ['--store', edge.url, '--token', token, '--ns', 'agent'];
      const [one, two] = await Promise.all([connectEngram(flags), connectEngram(flags)]);
      try {
        await call(one, {
          name: 'create_entities',
          arguments: { entities: [{ name: 'Shared', entityType: 'fact', observations: ['seen by both'] }] },
        });
        await call(two, {
          name: 'create_relations',
          arguments: { relations: [{ from: 'Shared', to: 'Two', relationType: 'written_by' }] },
        });
        const expected = {
          entities: [{ name: 'Shared', entityType: 'fact', observations: ['seen by both'] }],
          relations: [{ from: 'Shared', to: 'Two', relationType: 'written_by' }],
        };
        for (const c of [one, two])
          expect((await call(c, { name: 'read_graph', arguments: {} })).structured).toEqual(expected);
      } finally {
        await Promise.all([one.close(), two.close()]);
      }
    } finally {
      await edge.close();
    }
  });
});
