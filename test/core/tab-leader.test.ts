import { afterEach, describe, expect, it, vi } from 'vitest';
import { EngramError } from '../../src/core/errors.js';
import type { MemoryStore } from '../../src/core/store-contract.js';
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
  const made = { rounds: 0, stops: 0 };
  const make = (): LeaderReplica => ({
    status: { state: 'online', pending: 0, lastSyncAt: null },
    live: 'off',
    start: async () => {},
    sync: () => {
      made.rounds++;
      return result ? Promise.resolve(result) : new Promise<SyncResult>(() => {});
    },
    noteLocalWrite: () => {},
    stop: () => {
      made.stops++;
    },
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
    const first = replica();
    const a = open(first.make);
    await until(() => a.leading, 'tab A to lead');
    // Alone, it keeps the lock: the edge may take its token again.
    await a.handOver(failed, refused);
    expect(a.leading).toBe(true);
    expect(first.made.stops).toBe(0);

    const fresh = replica({ pushed: 1, pulled: 0 });
    const b = open(fresh.make);
    await a.handOver(failed, refused);
    await until(() => b.leading, 'tab B to take over');
    expect(a.leading).toBe(false);
    // A's own engine stopped with the hand-over: only one tab syncs.
    expect(first.made.stops).toBe(1);
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

describe('TabLeader: what followers hear and ask', () => {
  const online = { state: 'online' as const, pending: 0, lastSyncAt: null };
  /** Opens a tab on `name` that records the statuses it is told. */
  const openTab = (name: string, make: () => LeaderReplica) => {
    const heard: Array<{ state: string; pending: number }> = [];
    const tab = new TabLeader(name, make, (status) => heard.push(status));
    tabs.push(tab);
    tab.start();
    return { tab, heard };
  };
  /** A replica that records the local writes it is told of, and answers rounds with `sync`. */
  const recording = (sync: () => Promise<SyncResult> = () => Promise.resolve({ pushed: 0, pulled: 0 })) => {
    const writes: number[] = [];
    const make = (): LeaderReplica => ({
      status: { ...online },
      live: 'off',
      start: async () => {},
      sync,
      noteLocalWrite: (changed) => writes.push(changed),
      stop: () => {},
    });
    return { writes, make };
  };

  it('names a lock only for a shared store, with Web Locks and BroadcastChannel', () => {
    vi.stubGlobal('navigator', { locks: fakeLocks() });
    const store = (shared: boolean) =>
      ({ kind: 'indexeddb', name: 'db', capabilities: { shared } }) as unknown as MemoryStore;
    expect(TabLeader.lockName(store(true), 'ns')).toBe('engram-sync:indexeddb:db:ns');
    expect(TabLeader.lockName(store(false), 'ns')).toBeUndefined();
  });

  it("a follower's local write counts as pending there at once and is handed to the leader", async () => {
    vi.stubGlobal('navigator', { locks: fakeLocks() });
    const name = `engram-sync:test:${Date.now()}:writes`;
    const leader = recording();
    const a = openTab(name, leader.make);
    await until(() => a.tab.leading, 'tab A to lead');
    const b = openTab(name, recording().make);
    await until(() => b.heard.length > 0, "tab B to hear tab A's status");
    b.tab.noteLocalWrite(2);
    b.tab.noteLocalWrite(3);
    expect(b.tab.status).toMatchObject({ state: 'online', pending: 5 });
    await until(() => leader.writes.length === 2, 'the writes to reach the leader');
    expect(leader.writes).toEqual([2, 3]);
  });

  it('a tab opened after the leader hears its status at once, and the same status only once', async () => {
    vi.stubGlobal('navigator', { locks: fakeLocks() });
    const name = `engram-sync:test:${Date.now()}:hello`;
    const a = openTab(name, recording().make);
    await until(() => a.tab.leading, 'tab A to lead');
    const b = openTab(name, recording().make);
    await until(() => b.heard.length === 1, "tab B to hear tab A's status");
    expect(b.tab.status).toEqual(online);
    a.tab.announce({ ...online });
    a.tab.announce({ ...online, pending: 1 });
    await until(() => b.heard.length >= 2, 'the next status');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(b.heard).toEqual([online, { ...online, pending: 1 }]);
  });

  it("a follower's sync() gets the leader's error with its code and message", async () => {
    vi.stubGlobal('navigator', { locks: fakeLocks() });
    const name = `engram-sync:test:${Date.now()}:error`;
    const failing = recording(() =>
      Promise.reject(new EngramError('UNAUTHORIZED', 'sync: the token has expired')),
    );
    const a = openTab(name, failing.make);
    await until(() => a.tab.leading, 'tab A to lead');
    const b = openTab(name, recording().make);
    await expect(b.tab.sync()).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: 'sync: the token has expired',
    });
  });

  it('a follower that becomes the leader answers its own unanswered sync()', async () => {
    vi.stubGlobal('navigator', { locks: fakeLocks() });
    const name = `engram-sync:test:${Date.now()}:own`;
    const stalled = replica();
    const a = openTab(name, stalled.make);
    await until(() => a.tab.leading, 'tab A to lead');
    const b = openTab(name, recording(() => Promise.resolve({ pushed: 4, pulled: 0 })).make);
    const answer = b.tab.sync();
    await until(() => stalled.made.rounds === 1, "tab A's round for tab B");
    a.tab.stop();
    await until(() => b.tab.leading, 'tab B to take over');
    const result = await Promise.race([
      answer,
      new Promise((resolve) => setTimeout(() => resolve('no answer within 2 s'), 2000)),
    ]);
    expect(result).toEqual({ pushed: 4, pulled: 0 });
  });

  it('closing refuses a sync() in flight and any after it', async () => {
    vi.stubGlobal('navigator', { locks: fakeLocks() });
    const name = `engram-sync:test:${Date.now()}:close`;
    const a = openTab(name, replica().make);
    await until(() => a.tab.leading, 'tab A to lead');
    const b = openTab(name, recording().make);
    const inFlight = b.tab.sync();
    await b.tab.stop();
    await expect(inFlight).rejects.toMatchObject({ code: 'STORAGE' });
    await expect(b.tab.sync()).rejects.toMatchObject({ code: 'STORAGE' });
  });

  it("a follower's sync() fails OFFLINE after 60 s with no leader to answer", async () => {
    // A lock another holder keeps: no tab here ever leads.
    vi.stubGlobal('navigator', { locks: { request: () => new Promise<void>(() => {}) } });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { tab } = openTab(`engram-sync:test:${Date.now()}:silent`, recording().make);
      let outcome: unknown;
      tab.sync().then(
        () => (outcome = 'answered'),
        (error: unknown) => (outcome = error),
      );
      await vi.advanceTimersByTimeAsync(59_000);
      expect(outcome).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1_000);
      expect(outcome).toMatchObject({ code: 'OFFLINE' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('a tab that steps down for an upgrade shows its error and keeps it, not the next leader’s status', async () => {
    vi.stubGlobal('navigator', { locks: fakeLocks() });
    const name = `engram-sync:test:${Date.now()}:upgrade`;
    const a = openTab(name, recording().make);
    await until(() => a.tab.leading, 'tab A to lead');
    const b = openTab(name, recording().make);
    const outdated = { state: 'error' as const, pending: 0, lastSyncAt: null, error: 'reload the page' };
    a.tab.stepDown(outdated);
    expect(a.heard.at(-1)).toEqual(outdated);
    await until(() => b.tab.leading, 'tab B to take over');
    b.tab.announce({ ...online, pending: 7 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(a.tab.status).toEqual(outdated);
    expect(a.heard.at(-1)).toEqual(outdated);
  });

  it('hands the lock on only for a tab waiting on this lock, not on another', async () => {
    const locks = fakeLocks();
    vi.stubGlobal('navigator', { locks });
    const stamp = Date.now();
    const name = `engram-sync:test:${stamp}:mine`;
    const other = `engram-sync:test:${stamp}:other`;
    // Another namespace's lock, held, with a tab waiting for it.
    const held = openTab(other, recording().make);
    await until(() => held.tab.leading, 'the other lock to be held');
    openTab(other, recording().make);
    const a = openTab(name, recording().make);
    await until(() => a.tab.leading, 'tab A to lead');
    const refused = new EngramError('UNAUTHORIZED', 'sync: the token has expired');
    await a.tab.handOver({ state: 'error', pending: 0, lastSyncAt: null, error: refused.message }, refused);
    expect(a.tab.leading).toBe(true);
  });
});
