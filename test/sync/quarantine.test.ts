import { describe, expect, it } from 'vitest';
import { EngramError } from '../../src/core/errors.js';
import type { LinkWrite, MemoryWrite, Tombstone } from '../../src/core/store-contract.js';
import type { SyncRequest, SyncResponse } from '../../src/core/sync/protocol.js';
import { pushQuarantining, withRejected, withUnreadable } from '../../src/core/sync/quarantine.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, type Engram, InMemoryStore, type RejectedChange } from '../../src/index.js';
import { SECRET } from '../edge/helpers.js';

async function edge(options: Partial<Parameters<typeof createEdgeApp>[0]> = {}) {
  const store = new InMemoryStore();
  const app = createEdgeApp({ store, secret: SECRET, logger: false, ...options });
  const token = await mintToken({ secret: SECRET, ns: ['q'] });
  const requests: Array<{ at: number; status: number }> = [];
  const fetch = async (r: RequestInfo | URL, i?: RequestInit) => {
    const response = await app.request(r as string, i);
    requests.push({ at: Date.now(), status: response.status });
    return response;
  };
  return { store, token, fetch: fetch as typeof globalThis.fetch, requests };
}

/** A memory `stray` written into the replica's store under another namespace, which the edge refuses (403). */
async function writeStray(mem: Engram): Promise<void> {
  const stamp = `${Date.now().toString(16).padStart(12, '0')}-0000-bad`;
  await mem.store.apply('q', {
    memories: [
      {
        id: 'stray',
        create: { namespace: 'elsewhere', createdAt: new Date().toISOString() },
        values: { content: 'filed under another namespace', kind: 'note', tags: [], metadata: {} },
        clocks: { content: stamp, kind: stamp, tags: stamp, metadata: stamp },
      },
    ],
  });
}

describe('quarantine, not jam', () => {
  it('a record the edge refuses leaves the outbox for the rejected list; the rest syncs on', async () => {
    const { store, token, fetch } = await edge();
    // A poison pill stored by an older server: a memory with empty content.
    const stamp = `${Date.now().toString(16).padStart(12, '0')}-0000-old`;
    await store.apply('q', {
      memories: [
        {
          id: 'poison',
          create: { namespace: 'q', createdAt: new Date().toISOString() },
          values: {},
          clocks: { kind: stamp },
        },
      ],
      origin: 'remote',
    });
    const mem = await createMemory({
      namespace: 'q',
      sync: { url: 'http://edge.test', token, fetch, intervalMs: 0, debounceMs: 3_600_000 },
    });
    const events: RejectedChange[] = [];
    mem.on('rejected', (change) => events.push(change));
    await mem.sync();
    await mem.update('poison', { tags: ['edited'] });
    const good = await mem.add({ content: 'a fine memory' });
    // Only what the edge took counts as pushed.
    expect((await mem.sync()).pushed).toBe(1);
    expect(mem.status).toMatchObject({ state: 'online', pending: 0, rejected: 1 });
    expect(events).toEqual([
      expect.objectContaining({
        entity: 'memory',
        id: 'poison',
        reason: expect.stringMatching(/^VALIDATION: sync\.push\.memories\.\d+\.values\.content/),
      }),
    ]);
    expect((await mem.rejected()).map((r) => r.id)).toEqual(['poison']);
    expect((await store.getMemories('q', [good.id])).length).toBe(1);
    // Later writes keep flowing.
    const later = await mem.add({ content: 'written after the refusal' });
    await mem.sync();
    expect((await store.getMemories('q', [later.id])).length).toBe(1);
    expect(mem.status.pending).toBe(0);
    // Fixing the record sends it again, and it leaves the rejected list.
    await mem.update('poison', { content: 'now with content' });
    await mem.sync();
    expect((await store.getMemories('q', ['poison']))[0]!.memory.content).toBe('now with content');
    expect(await mem.rejected()).toEqual([]);
    expect(mem.status.rejected).toBeUndefined();
    await mem.close();
  });
});

describe('the rejected list', () => {
  const refusal = (id: string, reason = 'VALIDATION: x') => ({
    entity: 'memory' as const,
    id,
    reason,
    at: new Date().toISOString(),
  });

  it('a record refused again moves to the end, with the new reason, once', () => {
    const list = withRejected(
      [refusal('a'), refusal('b')],
      [refusal('a', 'VALIDATION: again')],
    ) as unknown as RejectedChange[];
    expect(list.map((r) => [r.id, r.reason])).toEqual([
      ['b', 'VALIDATION: x'],
      ['a', 'VALIDATION: again'],
    ]);
  });

  it('keeps the newest 1000: the oldest fall off', () => {
    const old = Array.from({ length: 1000 }, (_, i) => refusal(`old-${i}`));
    const list = withRejected(old, [refusal('new-0'), refusal('new-1')]) as unknown as RejectedChange[];
    expect(list).toHaveLength(1000);
    expect(list[0]!.id).toBe('old-2');
    expect(list.slice(-2).map((r) => r.id)).toEqual(['new-0', 'new-1']);
  });

  it('a record the edge refuses as another namespace’s (403 naming it) is set aside; the rest syncs on', async () => {
    const { store, token, fetch } = await edge();
    const mem = await createMemory({
      namespace: 'q',
      sync: { url: 'http://edge.test', token, fetch, intervalMs: 0, debounceMs: 3_600_000 },
    });
    // Written into the replica's store under the wrong namespace (a bad import, a bug elsewhere).
    await writeStray(mem);
    const good = await mem.add({ content: 'a fine memory' });
    await mem.sync();
    expect(mem.status).toMatchObject({ state: 'online', pending: 0, rejected: 1 });
    expect(await mem.rejected()).toEqual([
      expect.objectContaining({
        id: 'stray',
        reason: expect.stringMatching(/^FORBIDDEN: sync\.push\.memories\.\d+\.create\.namespace/),
      }),
    ]);
    expect((await store.getMemories('q', [good.id])).length).toBe(1);
    await mem.close();
  });

  it('a memory the edge refused never witnesses what the edge holds: the next round sends nothing back', async () => {
    const { token, fetch } = await edge();
    const sent: Array<{ push?: { memories?: unknown[] }; pull?: unknown }> = [];
    const faults = { pull: false };
    const watching = (async (r: RequestInfo | URL, i?: RequestInit) => {
      if (typeof i?.body === 'string') {
        const request = JSON.parse(i.body);
        // The pull that would bring a witness of its own never comes back: the push's stays.
        if (faults.pull && request.pull) throw new TypeError('fetch failed');
        sent.push(request);
      }
      return fetch(r, i);
    }) as typeof globalThis.fetch;
    const mem = await createMemory({
      namespace: 'q',
      sync: { url: 'http://edge.test', token, fetch: watching, intervalMs: 0, debounceMs: 3_600_000 },
    });
    const good = await mem.add({ content: 'a fine memory' });
    // Written last, so the last memory of the push: the edge refuses it (another namespace's).
    await writeStray(mem);
    faults.pull = true;
    await expect(mem.sync()).rejects.toThrow();
    faults.pull = false;
    expect((await mem.rejected()).map((r) => r.id)).toEqual(['stray']);
    expect(await mem.store.getMeta('q', 'sync.witness')).toMatchObject({ id: good.id });
    // Asked for its witness, the edge has it: nothing is sent back.
    sent.length = 0;
    await mem.sync();
    expect(sent.flatMap((r) => r.push?.memories ?? [])).toEqual([]);
    await mem.close();
  });
});

describe('rate limits', () => {
  it('a refused record of its own, expired by a later edit, is purged at once: no push of it can land', async () => {
    const { token, fetch } = await edge({ bodyLimit: 2 * 1024 });
    let t = Date.now();
    const mem = await createMemory({
      namespace: 'q',
      now: () => t,
      maintenance: { intervalMs: 0 },
      sync: { url: 'http://edge.test', token, fetch, intervalMs: 0, debounceMs: 3_600_000 },
    });
    const big = await mem.add({ content: `too large for the edge ${'x'.repeat(4000)}` });
    await mem.sync();
    expect((await mem.rejected()).map((r) => r.id)).toEqual([big.id]);
    await mem.update(big.id, { expiresAt: new Date(t + 1000).toISOString() });
    t += 2000;
    expect(await mem.maintain()).toEqual({ purged: 1, collected: 0 });
    await mem.close();
  });

  it('an edge with a body limit below the push size gets the push in halves, and all of it', async () => {
    // 40 KiB: far below the ~768 KiB a push request is cut to, above any one record here.
    const { store, token, fetch, requests } = await edge({ bodyLimit: 40 * 1024 });
    const mem = await createMemory({
      namespace: 'q',
      sync: { url: 'http://edge.test', token, fetch, intervalMs: 0, debounceMs: 3_600_000 },
    });
    await mem.sync();
    const added = await mem.addMany(
      Array.from({ length: 300 }, (_, i) => ({ content: `memory ${i} ${'é'.repeat(200)}` })),
    );
    const result = await mem.sync();
    expect(result.pushed).toBe(300);
    expect(requests.some((r) => r.status === 413)).toBe(true);
    expect(
      (
        await store.getMemories(
          'q',
          added.map((m) => m.id),
        )
      ).length,
    ).toBe(300);
    expect(mem.status).toMatchObject({ state: 'online', pending: 0 });
    expect(await mem.rejected()).toEqual([]);
    await mem.close();
  });

  it('answers 429 RATE_LIMITED with Retry-After, per token and namespace', async () => {
    const { token, fetch } = await edge({ rateLimit: { requests: 2, windowMs: 60_000 } });
    const call = (ns: string, t = token) =>
      fetch(`http://edge.test/v1/ns/${ns}/memories`, { headers: { authorization: `Bearer ${t}` } });
    expect((await call('q')).status).toBe(200);
    expect((await call('q')).status).toBe(200);
    const limited = await call('q');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    const other = await mintToken({ secret: SECRET, ns: ['q'], ttl: '2h' });
    expect((await call('q', other)).status).toBe(200);
  });

  it('a replica that gets a 429 waits at least Retry-After before trying again', async () => {
    const { token, fetch, requests } = await edge({
      rateLimit: { requests: 60, windowMs: 60_000, burst: 1 },
    });
    const mem = await createMemory({
      namespace: 'q',
      sync: { url: 'http://edge.test', token, fetch, intervalMs: 0, backoff: { baseMs: 1, maxMs: 2 } },
    });
    // Polled, not slept on: the first round's 429 may take a while on a loaded machine.
    for (let waited = 0; mem.status.state !== 'offline' && waited < 5000; waited += 5) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(mem.status.state).toBe('offline');
    expect(mem.status.error).toMatch(/rate limit/);
    const limitedAt = requests.find((r) => r.status === 429)!.at;
    // Retry-After is 1 s (one request a second): nothing may come before it, however late this looks.
    await new Promise((r) => setTimeout(r, Math.max(0, limitedAt + 900 - Date.now())));
    // With a 1-2 ms backoff and no Retry-After, there would be hundreds of tries by now.
    expect(requests.filter((r) => r.at > limitedAt && r.at < limitedAt + 1000).length).toBe(0);
    await mem.close();
  });
});

describe('the rejected list under a flood of unreadable records', () => {
  it('keeps every local refusal; unreadable pulled records are capped on their own', () => {
    const at = new Date().toISOString();
    const local = Array.from({ length: 10 }, (_, i) => ({
      entity: 'memory' as const,
      id: `local-${i}`,
      reason: 'VALIDATION: x',
      at,
    }));
    const flood = Array.from({ length: 1200 }, (_, i) => ({
      entity: 'memory' as const,
      id: `garbage-${i}`,
      reason: 'VALIDATION: does not open',
      at,
      unreadable: true as const,
    }));
    const kept = withUnreadable(local, flood) as unknown as Array<{ id: string; unreadable?: true }>;
    expect(kept.filter((r) => !r.unreadable).map((r) => r.id)).toEqual(local.map((r) => r.id));
    expect(kept.filter((r) => r.unreadable)).toHaveLength(500);
    expect(kept.at(-1)!.id).toBe('garbage-1199');
  });
});

describe('one push request, record by record', () => {
  const memory = (id: string) => ({ id, values: { content: id }, clocks: {} }) as unknown as MemoryWrite;
  /** An edge that refuses every non-empty push with `error`. */
  const refusing = (error: EngramError) => ({
    exchange: async (request: SyncRequest): Promise<SyncResponse> => {
      const p = request.push!;
      if ((p.memories?.length ?? 0) + (p.links?.length ?? 0) + (p.tombstones?.length ?? 0) > 0) throw error;
      return {};
    },
  });

  it('a link’s tombstone the edge refuses is set aside as a link', async () => {
    const gone: Tombstone = { entity: 'link', id: 'l1', namespace: 'q', clock: 'c' };
    const { exchange } = refusing(
      new EngramError('VALIDATION', 'sync.push.tombstones.0.entity: expected a memory', {
        field: 'sync.push.tombstones.0.entity',
      }),
    );
    const refused: Array<{ entity: string; id: string }> = [];
    await pushQuarantining(exchange, { memories: [], links: [] as LinkWrite[], tombstones: [gone] }, (r) =>
      refused.push(r),
    );
    expect(refused).toEqual([expect.objectContaining({ entity: 'link', id: 'l1' })]);
  });

  it('an error naming a record the push does not hold is thrown as it is, nothing set aside', async () => {
    const error = new EngramError('VALIDATION', 'sync.push.memories.3.values: bad', {
      field: 'sync.push.memories.3.values',
    });
    const { exchange } = refusing(error);
    const refused: unknown[] = [];
    const push = { memories: [memory('a')], links: [], tombstones: [] };
    await expect(pushQuarantining(exchange, push, (r) => refused.push(r))).rejects.toBe(error);
    expect(refused).toEqual([]);
  });
});
