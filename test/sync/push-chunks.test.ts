import { describe, expect, it } from 'vitest';
import type { MemoryWrite, Tombstone } from '../../src/core/store-contract.js';
import type { SyncRequest } from '../../src/core/sync/protocol.js';
import { chunkPush, requestBody, utf8Length } from '../../src/core/sync/push-chunks.js';

const memory = (i: number, content: string): MemoryWrite =>
  ({
    id: `m-${i}`,
    namespace: 'ns',
    content,
    kind: 'note',
    tags: ['a'],
    metadata: { n: i },
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    clocks: {},
  }) as unknown as MemoryWrite;

describe('push requests', () => {
  it('measures UTF-8 lengths as TextEncoder does, ASCII or not', () => {
    for (const text of ['', 'plain ascii', 'café', '日本語', 'emoji 😀 pair', '\u0080\u07ff\u0800\uffff']) {
      expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
    }
  });

  it('spells a request as JSON.stringify does, from the texts chunkPush measured', () => {
    const memories = Array.from({ length: 5 }, (_, i) => memory(i, i % 2 ? 'déjà vu' : 'plain'));
    const tombstones: Tombstone[] = [{ entity: 'memory', id: 'gone', namespace: 'ns', clock: 'c' }];
    const [request] = [...chunkPush({ memories, links: [], tombstones })];
    const sent: SyncRequest = { ...request!, cursor: 7, language: 'english' };
    expect(JSON.parse(requestBody(sent))).toEqual(JSON.parse(JSON.stringify(sent)));
    // A record chunkPush never saw (a retry's rebuilt push) and requests without a push or other fields.
    const other: SyncRequest = { push: { memories: [memory(9, 'new')] } };
    expect(JSON.parse(requestBody(other))).toEqual(other);
    expect(requestBody({ pull: { after: 3, limit: 10 } })).toBe(
      JSON.stringify({ pull: { after: 3, limit: 10 } }),
    );
  });

  it('cuts requests under the byte bound by their records UTF-8 size', () => {
    const memories = Array.from({ length: 400 }, (_, i) => memory(i, 'é'.repeat(4000)));
    const requests = [...chunkPush({ memories, links: [], tombstones: [] })];
    expect(requests.length).toBeGreaterThan(1);
    for (const request of requests) {
      expect(new TextEncoder().encode(requestBody(request)).length).toBeLessThan(770 * 1024);
    }
    expect(requests.flatMap((r) => r.push!.memories!).map((m) => m.id)).toEqual(memories.map((m) => m.id));
  });

  it('fills a request up to the byte bound exactly, and starts the next one a byte past it', () => {
    const BOUND = 768 * 1024;
    const sized = (i: number, bytes: number) => {
      const empty = JSON.stringify(memory(i, '')).length;
      return memory(i, 'x'.repeat(bytes - empty));
    };
    const exact = [sized(0, BOUND / 2), sized(1, BOUND / 2)];
    expect([...chunkPush({ memories: exact, links: [], tombstones: [] })]).toHaveLength(1);
    const over = [sized(0, BOUND / 2), sized(1, BOUND / 2 + 1)];
    expect([...chunkPush({ memories: over, links: [], tombstones: [] })]).toHaveLength(2);
  });
});
