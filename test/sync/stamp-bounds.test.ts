import { describe, expect, it } from 'vitest';
import { formatHlc } from '../../src/core/hlc.js';
import { serveSync } from '../../src/core/sync/server.js';
import { COLLECTED_SEQ_META, InMemoryStore } from '../../src/index.js';

// The edge refuses a push carrying any stamp, or any createdAt, more than its bound ahead of its clock
// (docs/sync.md, "Clocks nobody can poison"), wherever in the push it is: a client forging one stamp
// among honest ones would otherwise freeze that field everywhere.
const NOW = Date.UTC(2031, 4, 1);
const at = (ms: number, node = 'device') => formatHlc({ wallMs: ms, counter: 0, node });

function memory(id: string, clocks: Record<string, string>, createdMs = NOW) {
  return {
    id,
    create: { namespace: 'ns', createdAt: new Date(createdMs).toISOString() },
    values: { content: id, kind: 'note', tags: [], metadata: {} },
    clocks: { content: at(NOW), kind: at(NOW), tags: at(NOW), metadata: at(NOW), ...clocks },
  };
}

function link(id: string, createdMs = NOW) {
  return {
    id,
    create: { namespace: 'ns', from: 'a', to: 'b', createdAt: new Date(createdMs).toISOString() },
    values: { type: 'related_to', metadata: {} },
    clocks: { type: at(NOW), metadata: at(NOW) },
  };
}

const tombstone = (id: string, clock: string) => ({ entity: 'memory' as const, id, namespace: 'ns', clock });

async function push(body: object, maxClockSkewMs = 60_000) {
  const store = new InMemoryStore();
  await store.open();
  const outcome = await serveSync(store, 'ns', { push: body }, { now: () => NOW, maxClockSkewMs }).then(
    () => undefined,
    (error: { code: string; field?: string; message: string }) => error,
  );
  const changes = await store.changes('ns', 0, 100);
  await store.close();
  return { error: outcome, changes };
}

describe('the skew bound covers every stamp of a push', () => {
  const forged = at(NOW + 3 * 3_600_000, 'attacker');
  for (const [where, body, field] of [
    [
      'a field after the first',
      { memories: [memory('m', { tags: forged })] },
      'sync.push.memories.0.clocks.tags',
    ],
    [
      'a write after the first',
      { memories: [memory('m0', {}), memory('m1', { content: forged })] },
      'sync.push.memories.1.clocks.content',
    ],
    [
      'a tombstone after the first',
      { tombstones: [tombstone('t0', at(NOW)), tombstone('t1', forged)] },
      'sync.push.tombstones.1.clock',
    ],
    [
      'the createdAt of a link',
      { links: [link('l0'), link('l1', NOW + 3 * 3_600_000)] },
      'sync.push.links.1.create.createdAt',
    ],
  ] as const) {
    it(`refuses a stamp ahead on ${where}, naming it, and applies nothing`, async () => {
      const { error, changes } = await push(body);
      expect(error).toMatchObject({ code: 'VALIDATION', field });
      expect(error?.message).toMatch(/3 h ahead of the server clock/);
      expect(changes).toEqual([]);
    });
  }

  it('takes a stamp and a createdAt exactly at the bound, and refuses one a millisecond past it', async () => {
    for (const bound of [0, 60_000]) {
      const limit = NOW + bound;
      const accepted = await push(
        {
          memories: [memory('m', { content: at(limit) }, limit)],
          tombstones: [tombstone('t', at(limit))],
        },
        bound,
      );
      expect(accepted.error, `bound ${bound}`).toBeUndefined();
      expect(accepted.changes.map((c) => c.id).sort()).toEqual(['m', 't']);
      const stamp = await push({ memories: [memory('m', { content: at(limit + 1) })] }, bound);
      expect(stamp.error).toMatchObject({ field: 'sync.push.memories.0.clocks.content' });
      const created = await push({ memories: [memory('m', {}, limit + 1)] }, bound);
      expect(created.error).toMatchObject({ field: 'sync.push.memories.0.create.createdAt' });
    }
  });

  it('a stamp taken within the bound keeps its field against an earlier one: the ceiling is now plus the bound', async () => {
    // Replica A's clock runs 30 s ahead; B's edit is stamped earlier. Every replica that merges both keeps
    // A's value, so the edge must too, or the two disagree for good.
    const store = new InMemoryStore();
    await store.open();
    const options = { now: () => NOW, maxClockSkewMs: 60_000 };
    await serveSync(store, 'ns', { push: { memories: [memory('m', {})] } }, options);
    const edit = (content: string, ms: number, node: string) => ({
      push: { memories: [{ id: 'm', values: { content }, clocks: { content: at(ms, node) } }] },
    });
    await serveSync(store, 'ns', edit('from A, 30 s ahead', NOW + 30_000, 'a'), options);
    await serveSync(store, 'ns', edit('from B, earlier', NOW + 10_000, 'b'), options);
    const [held] = await store.getMemories('ns', ['m']);
    expect(held?.memory.content).toBe('from A, 30 s ahead');
    await store.close();
  });

  it('says how far ahead in seconds below two minutes', async () => {
    const { error } = await push({ memories: [memory('m', { content: at(NOW + 90_000) })] }, 0);
    expect(error?.message).toMatch(/the stamp is 90 s ahead of the server clock/);
  });
});

describe('the edge’s clock', () => {
  it('is in every answer, a re-sync’s too: the replica corrects its clock by it', async () => {
    const store = new InMemoryStore();
    await store.open();
    await store.apply('ns', { memories: [memory('m', {})], meta: { [COLLECTED_SEQ_META]: 5 } });
    const answer = await serveSync(
      store,
      'ns',
      { cursor: 1, pull: { after: 1 } },
      { now: () => NOW, maxClockSkewMs: 30_000 },
    );
    expect(answer).toMatchObject({ resync: { collectedSeq: 5 }, serverTime: NOW, maxClockSkewMs: 30_000 });
    await store.close();
  });
});
