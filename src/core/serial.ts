/** Runs async tasks one at a time, in call order: a store's writes must not interleave their reads. */
export function createSerialQueue(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}

/**
 * One serial queue per store and namespace, shared by every façade opened on them (an edge opens one per
 * request): a write that checks before it writes (an id still free, a fact not yet superseded, no copy
 * yet) must not have another such write slip in between its check and its write. Writers in other
 * processes are not covered (docs/lifecycle.md).
 */
const checkedWrites = new WeakMap<object, Map<string, { run: SerialQueue; waiting: number }>>();

type SerialQueue = ReturnType<typeof createSerialQueue>;

/** Runs `task` after every earlier checked write of the store's namespace; an idle queue is dropped. */
export function checkedWrite<T>(store: object, namespace: string, task: () => Promise<T>): Promise<T> {
  let byNamespace = checkedWrites.get(store);
  if (!byNamespace) {
    byNamespace = new Map();
    checkedWrites.set(store, byNamespace);
  }
  let queue = byNamespace.get(namespace);
  if (!queue) {
    queue = { run: createSerialQueue(), waiting: 0 };
    byNamespace.set(namespace, queue);
  }
  const entry = queue;
  const namespaces = byNamespace;
  entry.waiting += 1;
  return entry.run(task).finally(() => {
    entry.waiting -= 1;
    // An edge sees many namespaces: one without a write waiting keeps no queue.
    if (entry.waiting === 0 && namespaces.get(namespace) === entry) namespaces.delete(namespace);
  });
}
