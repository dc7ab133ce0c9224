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

/**
 * One façade per request, so every route runs exactly the SDK's logic. Façades are cheap; what must be
 * shared is the clock: one per server instance (a Node process, a Workers isolate) with its own node
 * id, so stamps keep increasing across requests and two instances never issue equal stamps.
 */
export function createFacades(): { facadeFor: FacadeFor; observe: (stamp: string) => void } {
  const clock = new HybridLogicalClock(`edge-${randomHex(6)}`, Date.now);
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
      new Engram(viewOf(c.var.store), c.var.namespace, clock, at === undefined ? Date.now : () => at),
    // A replica whose clock runs ahead pushes stamps from our future; observing them keeps a later API
    // write from losing to that older edit.
    observe: (stamp) => clock.observe(stamp),
  };
}
