import { Engram } from '../core/engram.js';
import { HybridLogicalClock } from '../core/hlc.js';
import { randomHex } from '../core/ids.js';
import type { MemoryStore } from '../core/store-contract.js';
import type { FacadeFor } from './env.js';

/**
 * The store as request-scoped façades see it: without `subscribe`, because a façade that lives for one
 * request would register a listener it never removes.
 */
function withoutSubscribe(store: MemoryStore): MemoryStore {
  if (!store.subscribe) return store;
  return new Proxy(store, {
    get(target, key) {
      if (key === 'subscribe') return undefined;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Namespaces whose clocks are kept; beyond this the least recently used clock is dropped. */
const MAX_CLOCKS = 10_000;

export interface Facades {
  facadeFor: FacadeFor;
  /** What moves one namespace's clock past pushed stamps (looked up once, not per stamp of a push). */
  observerOf: (namespace: string) => (stamp: string) => void;
  /** A fresh stamp of one namespace's clock (server-side deletes). */
  stamp: (namespace: string) => string;
}

/**
 * One façade per request, so every route runs exactly the SDK's logic. Façades are cheap; what must be
 * shared is the clock: one per namespace per server instance (a Node process, a Workers isolate) with
 * its own node id, so stamps keep increasing across requests, two instances never issue equal stamps,
 * and one namespace's pushes never move another namespace's timestamps.
 */
export function createFacades(maxClockSkewMs: number, now: () => number = Date.now): Facades {
  const node = `edge-${randomHex(6)}`;
  const clocks = new Map<string, HybridLogicalClock>();
  const clockOf = (namespace: string) => {
    let clock = clocks.get(namespace);
    if (clock) {
      clocks.delete(namespace);
    } else {
      clock = new HybridLogicalClock(node, now, () => maxClockSkewMs);
      if (clocks.size >= MAX_CLOCKS) clocks.delete(clocks.keys().next().value!);
    }
    clocks.set(namespace, clock);
    return clock;
  };
  const views = new WeakMap<MemoryStore, MemoryStore>();
  const viewOf = (store: MemoryStore) => {
    let view = views.get(store);
    if (!view) {
      view = withoutSubscribe(store);
      views.set(store, view);
    }
    return view;
  };
  return {
    facadeFor: (c, at) =>
      new Engram(
        viewOf(c.var.store),
        c.var.namespace,
        clockOf(c.var.namespace),
        at === undefined ? now : () => at,
      ),
    // A replica whose clock runs (boundedly) ahead pushes stamps from our future; observing them keeps a
    // later API write from losing to that older edit.
    observerOf: (namespace) => {
      const clock = clockOf(namespace);
      return (stamp) => clock.observe(stamp);
    },
    stamp: (namespace) => clockOf(namespace).tick(),
  };
}
