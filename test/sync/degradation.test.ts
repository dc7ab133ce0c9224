import { afterEach, describe, expect, it, vi } from 'vitest';
import { isHlc } from '../../src/core/hlc.js';
import { SyncEngine } from '../../src/core/sync/engine.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, EngramError, InMemoryStore, type SyncStatus } from '../../src/index.js';
import { HybridLogicalClock } from '../../src/store/index.js';

const SECRET = 'degradation-secret';

async function edge() {
  const store = new InMemoryStore();
  const app = createEdgeApp({ store, secret: SECRET, logger: false });
  const token = await mintToken({ secret: SECRET, ns: ['n'] });
  let down = false;
  let calls = 0;
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    calls++;
    if (down) throw new TypeError('fetch failed: ECONNREFUSED');
    return app.fetch(new Request(input, init));
  }) as typeof fetch;
  return {
    store,
    token,
    fetch: fetchFn,
    setDown: (value: boolean) => {
      down = value;
    },
    calls: () => calls,
  };
}

const until = async (check: () => boolean | Promise<boolean>, ms = 3000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

/**
 * A sync engine (jitter off: each wait is the whole backoff) over a transport that fails while `down()`
 * holds and otherwise answers as an empty edge; `attempts` are the times it was called.
 */
function backingOff(
  backoff: { baseMs: number; maxMs: number } | undefined,
  down: () => boolean,
  random = () => 1,
) {
  const attempts: number[] = [];
  const engine = new SyncEngine({
    store: new InMemoryStore(),
    namespace: 'n',
    clock: new HybridLogicalClock('t'),
    transport: {
      exchange: async () => {
        attempts.push(Date.now());
        if (down()) throw new EngramError('OFFLINE', 'down');
        return {
          serverTime: Date.now(),
          maxClockSkewMs: 60_000,
          pull: { changes: [], cursor: 0, hasMore: false },
        };
      },
    },
    intervalMs: 0,
    backoff,
    random,
    onStatus: () => {},
    onPulled: () => {},
  });
  return { engine, attempts };
}

describe('sync degradation', () => {
  afterEach(() => vi.useRealTimers());

  it('writes return at once and stay pending while the edge is down, then catch up by themselves', async () => {
    const e = await edge();
    e.setDown(true);
    const statuses: SyncStatus[] = [];
    const mem = await createMemory({
      namespace: 'n',
      sync: {
        url: 'http://edge.test',
        token: e.token,
        fetch: e.fetch,
        intervalMs: 0,
        debounceMs: 1,
        backoff: { baseMs: 20, maxMs: 40 },
      },
    });
    mem.on('status', (s) => statuses.push(s));
    const m = await mem.add({ content: 'written offline' });
    await until(() => mem.status.state === 'offline');
    expect(mem.status.pending).toBe(1);
    await expect(mem.sync()).rejects.toMatchObject({ code: 'OFFLINE' });
    expect(await mem.get(m.id)).not.toBeNull();
    e.setDown(false);
    await until(() => mem.status.state === 'online' && mem.status.pending === 0);
    expect((await e.store.getMemories('n', [m.id]))[0]?.memory.content).toBe('written offline');
    expect(statuses.map((s) => s.state)).toContain('offline');
    // Back online, the error of the failed rounds is gone from the status.
    expect(mem.status).not.toHaveProperty('error');
    expect(mem.status.lastSyncAt).not.toBeNull();
    await mem.close();
  });

  it('a rejected token is an error state, not a retry loop', async () => {
    const e = await edge();
    const mem = await createMemory({
      namespace: 'n',
      sync: {
        url: 'http://edge.test',
        token: 'not-a-jwt',
        fetch: e.fetch,
        intervalMs: 0,
        debounceMs: 1,
        backoff: { baseMs: 1, maxMs: 2 },
      },
    });
    await until(() => mem.status.state === 'error');
    expect(mem.status.error).toMatch(/token|auth/i);
    await mem.add({ content: 'still saved locally' });
    const before = e.calls();
    await new Promise((r) => setTimeout(r, 100));
    expect(e.calls() - before).toBe(0);
    await expect(mem.sync()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(mem.status.pending).toBe(1);
    await mem.close();
  });

  it('a token for another namespace is FORBIDDEN and also an error state', async () => {
    const e = await edge();
    const other = await mintToken({ secret: SECRET, ns: ['someone-else'] });
    const mem = await createMemory({
      namespace: 'n',
      sync: { url: 'http://edge.test', token: other, fetch: e.fetch, intervalMs: 0 },
    });
    await expect(mem.sync()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(mem.status.state).toBe('error');
    await mem.close();
  });

  it('a hanging edge counts as offline after the timeout', async () => {
    const hang = (async (_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_, reject) =>
        init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      )) as typeof fetch;
    const mem = await createMemory({
      namespace: 'n',
      sync: {
        url: 'http://edge.test',
        token: 't',
        fetch: hang,
        intervalMs: 0,
        timeoutMs: 2000,
        backoff: { baseMs: 10_000 },
      },
    });
    const started = Date.now();
    await mem.add({ content: 'local first' });
    // Waiting on the network would take the whole 2 s timeout: local-first means far less.
    expect(Date.now() - started).toBeLessThan(1000);
    const error = await mem.sync().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngramError);
    expect((error as EngramError).code).toBe('OFFLINE');
    expect((error as EngramError).message).toMatch(/2000 ms/);
    await mem.close();
  });

  it('a url answering JSON that is not an Engram answer is offline, and the push stays pending', async () => {
    // The last: each part there, the pull's changes not a list (a service that looks like an edge).
    const lookalike = JSON.stringify({
      push: { memories: [], links: [], deleted: [], rejected: [] },
      pull: { changes: null, cursor: 0, hasMore: false },
      get: { memories: [], links: [], tombstones: [] },
    });
    for (const body of ['{}', 'null', lookalike]) {
      const e = await edge();
      // Another service at the url: every request answered 200 with the same JSON.
      const elsewhere = (async () => new Response(body, { status: 200 })) as typeof fetch;
      let fetchFn = elsewhere;
      const mem = await createMemory({
        namespace: 'n',
        sync: {
          url: 'http://edge.test',
          token: e.token,
          fetch: (input, init) => fetchFn(input, init),
          intervalMs: 0,
          debounceMs: 60_000,
          live: false,
        },
      });
      const m = await mem.add({ content: 'must reach the edge' });
      await expect(mem.sync(), body).rejects.toMatchObject({
        code: 'OFFLINE',
        message: expect.stringContaining('is the url an Engram edge?'),
      });
      expect(mem.status.pending).toBe(1);
      fetchFn = e.fetch;
      await mem.sync();
      expect((await e.store.getMemories('n', [m.id]))[0]?.memory.content).toBe('must reach the edge');
      await mem.close();
    }
  });

  it('an answer whose serverTime no stamp can hold is offline, and local stamps stay well formed', async () => {
    // 1.8e9: the time in seconds, which read as milliseconds is January 1970.
    for (const serverTime of [1e20, 2 ** 48, -5e15, 1.8e9, 0]) {
      const e = await edge();
      // A server whose clock, or whatever stands at the url, answers a time from no real clock.
      const broken = (async (input: RequestInfo | URL, init?: RequestInit) => {
        const answer = await (await e.fetch(input, init)).json();
        return new Response(JSON.stringify({ ...answer, serverTime }), { status: 200 });
      }) as typeof fetch;
      let fetchFn = broken;
      const mem = await createMemory({
        namespace: 'n',
        sync: {
          url: 'http://edge.test',
          token: e.token,
          fetch: (input, init) => fetchFn(input, init),
          intervalMs: 0,
          debounceMs: 60_000,
          live: false,
        },
      });
      await expect(mem.sync(), String(serverTime)).rejects.toMatchObject({
        code: 'OFFLINE',
        message: expect.stringContaining(`serverTime ${serverTime}`),
      });
      const m = await mem.add({ content: 'stamped by a clock that learnt nothing' });
      const [record] = await mem.store.getMemories('n', [m.id]);
      expect(isHlc(record!.clocks.content), record!.clocks.content).toBe(true);
      expect(Math.abs(Date.parse(m.createdAt) - Date.now())).toBeLessThan(60_000);
      expect(mem.status.pending).toBe(1);
      fetchFn = e.fetch;
      await mem.sync();
      expect((await e.store.getMemories('n', [m.id]))[0]?.memory.createdAt).toBe(m.createdAt);
      await mem.close();
    }
  });

  it('backs off exponentially with jitter, capped', async () => {
    vi.useFakeTimers();
    const { engine, attempts } = backingOff({ baseMs: 100, maxMs: 800 }, () => true);
    await engine.start();
    await vi.advanceTimersByTimeAsync(5000);
    engine.stop();
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    expect(gaps.slice(0, 6)).toEqual([100, 200, 400, 800, 800, 800]);
  });

  it('jitters each wait between half the backoff and all of it; by default from 1 s up to 60 s', async () => {
    vi.useFakeTimers();
    try {
      const low = backingOff(
        { baseMs: 100, maxMs: 800 },
        () => true,
        () => 0,
      );
      await low.engine.start();
      await vi.advanceTimersByTimeAsync(3000);
      low.engine.stop();
      const lowGaps = low.attempts.slice(1).map((t, i) => t - low.attempts[i]!);
      expect(lowGaps.slice(0, 5)).toEqual([50, 100, 200, 400, 400]);

      const byDefault = backingOff(undefined, () => true);
      await byDefault.engine.start();
      await vi.advanceTimersByTimeAsync(300_000);
      byDefault.engine.stop();
      const gaps = byDefault.attempts.slice(1).map((t, i) => t - byDefault.attempts[i]!);
      expect(gaps.slice(0, 8)).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a round that succeeds starts the backoff over', async () => {
    let down = true;
    const { engine, attempts } = backingOff({ baseMs: 100, maxMs: 10_000 }, () => down);
    await engine.start();
    // Four failed attempts, waits of 100, 200, 400, then 800 ms before the fifth, for which the edge is back.
    await until(() => attempts.length === 4);
    down = false;
    await until(() => engine.status.state === 'online', 5000);
    down = true;
    const failedAt = Date.now();
    await engine.sync().catch(() => undefined);
    const retried = attempts.length + 1;
    await until(() => attempts.length >= retried, 5000);
    engine.stop();
    // The wait after it is the first one again (100 ms), not the 1.6 s the failures before had led to.
    expect(attempts.at(-1)! - failedAt).toBeLessThan(1000);
  });

  it('never runs two rounds at once, whatever mixes timers, writes and explicit syncs', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let calls = 0;
    const engine = new SyncEngine({
      store: new InMemoryStore(),
      namespace: 'n',
      clock: new HybridLogicalClock('t'),
      transport: {
        exchange: async () => {
          calls++;
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((r) => setTimeout(r, 3));
          inFlight--;
          if (calls % 3 === 0) throw new EngramError('OFFLINE', 'flaky');
          return { pull: { changes: [], cursor: 0, hasMore: false } };
        },
      },
      intervalMs: 2,
      debounceMs: 0,
      backoff: { baseMs: 1, maxMs: 2 },
      onStatus: () => {},
      onPulled: () => {},
    });
    await engine.start();
    const explicit = [];
    for (let i = 0; i < 10; i++) {
      engine.noteLocalWrite(1);
      explicit.push(engine.sync().catch(() => undefined));
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(explicit);
    await new Promise((r) => setTimeout(r, 30));
    engine.stop();
    expect(calls).toBeGreaterThan(10);
    expect(maxInFlight).toBe(1);
  });
});
