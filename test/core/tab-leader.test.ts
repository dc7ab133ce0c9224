import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SyncResult } from '../../src/core/sync/engine.js';
import { type LeaderReplica, TabLeader } from '../../src/core/sync/tab-leader.js';

// Node has BroadcastChannel but no Web Locks: a lock queue of the same shape, each request granted when
// the one before it has settled. test/e2e/tabs.test.ts runs the election in real Chromium.
function fakeLocks() {
  const tails = new Map<string, Promise<void>>();
  return {
    request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<void> {
      const granted = (tails.get(name) ?? Promise.resolve()).then(() => {
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
});
