import { afterEach, describe, expect, it, vi } from 'vitest';
import { EngramError } from '../../src/core/errors.js';
import type { SyncResult } from '../../src/core/sync/engine.js';
import { type LeaderReplica, TabLeader } from '../../src/core/sync/tab-leader.js';

// Node has BroadcastChannel but no Web Locks: a lock queue of the same shape, each request granted when
// the one before it has settled. test/e2e/tabs.test.ts runs the election in real Chromium.
function fakeLocks() {
  const tails = new Map<string, Promise<void>>();
  /** Requests not granted yet, by name (what `navigator.locks.query()` lists as pending). */
  const pending: string[] = [];
  return {
    query: async () => ({ pending: pending.map((name) => ({ name })) }),
    request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<void> {
      pending.push(name);
      // A browser drops an aborted request from the queue.
      options.signal?.addEventListener('abort', () => {
        const at = pending.indexOf(name);
        if (at >= 0) pending.splice(at, 1);
      });
      const granted = (tails.get(name) ?? Promise.resolve()).then(() => {
        if (options.signal?.aborted) throw new DOMException('the request was aborted', 'AbortError');
        pending.splice(pending.indexOf(name), 1);
        if (options.signal?.aborted) throw new DOMException('the request was aborted', 'AbortError');
        return callback();
      });
      tails.set(
        name,
        granted.catch(() => undefined),
      );
      return granted;
    },
  };
}

/** A replica whose rounds answer with `result`, or never when `result` is undefined. */
function replica(result?: SyncResult) {
  const made = { rounds: 0 };
  const make = (): LeaderReplica => ({
    status: { state: 'online', pending: 0, lastSyncAt: null },
    live: 'off',
    start: async () => {},
    sync: () => {
      made.rounds++;
      return result ? Promise.resolve(result) : new Promise<SyncResult>(() => {});
    },
    noteLocalWrite: () => {},
    stop: () => {},
  });
  return { made, make };
}

async function until(check: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const tabs: TabLeader[] = [];
afterEach(() => {
  for (const tab of tabs.splice(0)) tab.stop();
  vi.unstubAllGlobals();
});

describe('TabLeader (fake Web Locks, Node BroadcastChannel)', () => {
  it("answers a follower's sync() through the next leader when the leader closes mid-round", async () => {
    vi.stubGlobal('navigator', { locks: fakeLocks() });
    const name = `engram-sync:test:${Date.now()}:n`;
    const stalled = replica();
    const next = replica({ pushed: 0, pulled: 3 });
    const open = (make: () => LeaderReplica) => {
      const tab = new TabLeader(name, make, () => {});
      tabs.push(tab);
      tab.start();
      return tab;
    };
    const a = open(stalled.make);
    await until(() => a.leading, 'tab A to lead');
    const b = open(next.make);
    const c = open(replica().make);
    const answer = c.sync();
    await until(() => stalled.made.rounds === 1, "tab A's round for tab C");
    a.stop(); // the tab closes with the round in flight: the browser frees the lock
    await until(() => b.leading, 'tab B to take over');
    const result = await Promise.race([
      answer,
      new Promise((resolve) => setTimeout(() => resolve('no answer within 2 s'), 2000)),
    ]);
    expect(result).toEqual({ pushed: 0, pulled: 3 });
    expect(c.leading).toBe(false);
  });

  it('a leader whose token the edge refused hands the lock to a waiting tab, and only then', async () => {
    vi.stubGlobal('navigator', { locks: fakeLocks() });
    const name = `engram-sync:test:${Date.now()}:refused`;
    const open = (make: () => LeaderReplica) => {
      const tab = new TabLeader(name, make, () => {});
      tabs.push(tab);
      tab.start();
      return tab;
    };
    const refused = new EngramError('UNAUTHORIZED', 'sync: the token has expired');
    const failed = { state: 'error' as const, pending: 1, lastSyncAt: null, error: refused.message };
    const a = open(replica().make);
    await until(() => a.leading, 'tab A to lead');
    // Alone, it keeps the lock: the edge may take its token again.
    await a.handOver(failed, refused);
    expect(a.leading).toBe(true);

    const fresh = replica({ pushed: 1, pulled: 0 });
    const b = open(fresh.make);
    await a.handOver(failed, refused);
    await until(() => b.leading, 'tab B to take over');
    expect(a.leading).toBe(false);
    // A follows B and its sync() runs there.
    expect(await a.sync()).toEqual({ pushed: 1, pulled: 0 });
    // B's token refused in turn with no tab waiting (A did not ask for the lock again): B keeps it.
    await b.handOver(failed, refused);
    expect(b.leading).toBe(true);
  });

  it('a tab that handed the lock on answers sync() with the refusal until another tab leads', async () => {
    vi.stubGlobal('navigator', { locks: fakeLocks() });
    const name = `engram-sync:test:${Date.now()}:alone`;
    const refused = new EngramError('UNAUTHORIZED', 'sync: the token has expired');
    const failed = { state: 'error' as const, pending: 0, lastSyncAt: null, error: refused.message };
    const heard: string[] = [];
    const open = (make: () => LeaderReplica, onStatus: (status: { state: string }) => void = () => {}) => {
      const tab = new TabLeader(name, make, onStatus);
      tabs.push(tab);
      tab.start();
      return tab;
    };
    const a = open(replica().make, (status) => heard.push(status.state));
    await until(() => a.leading, 'tab A to lead');
    // A tab that waited, then closed before its turn, is no longer waiting: A keeps the lock.
    open(replica().make).stop();
    await a.handOver(failed, refused);
    expect(a.leading).toBe(true);
    // B takes the lock but has not started leading yet (it says so once its replica has started).
    let started: (() => void) | undefined;
    const slow = (): LeaderReplica => ({
      ...replica({ pushed: 0, pulled: 0 }).make(),
      start: () => new Promise<void>((resolve) => (started = resolve)),
    });
    const b = open(slow);
    await a.handOver(failed, refused);
    expect(a.leading).toBe(false);
    await until(() => started !== undefined, 'tab B to take the lock');
    await expect(a.sync()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    started!();
    await until(() => heard.includes('online'), "tab A to hear tab B's status");
    expect(b.leading).toBe(true);
    expect(await a.sync()).toEqual({ pushed: 0, pulled: 0 });
  });
});
