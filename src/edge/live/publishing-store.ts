import type { MemoryStore } from '../../core/store-contract.js';

/** A store that can say its newest feed position cheaply (SqlStore does: one key lookup). */
interface SeqSource {
  latestSeq?(namespace: string): Promise<number>;
}

export async function latestSeq(store: MemoryStore, namespace: string): Promise<number | undefined> {
  const source = store as MemoryStore & SeqSource;
  if (typeof source.latestSeq === 'function') return source.latestSeq(namespace);
  return undefined;
}

/**
 * The store as the edge's routes see it: every `apply` that changed something is announced to live
 * clients after it committed. `defer` keeps the announcement alive past the response where the runtime
 * needs telling (Workers' `waitUntil`); a failed announcement is logged, never the request's failure,
 * because clients still poll.
 */
export function publishingStore(
  store: MemoryStore,
  publish: (namespace: string, seq?: number) => Promise<void>,
  defer: (work: Promise<unknown>) => void,
): MemoryStore {
  return new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (key !== 'apply' || typeof value !== 'function') {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (namespace: string, batch: Parameters<MemoryStore['apply']>[1]) => {
        const result = await target.apply(namespace, batch);
        if (result.memories.length + result.links.length + result.deleted.length > 0) {
          const announce = latestSeq(target, namespace)
            .catch(() => undefined)
            .then((seq) => publish(namespace, seq))
            .catch((error: unknown) => console.error('engram: live publish failed', error));
          defer(announce);
        }
        return result;
      };
    },
  });
}
