/** Entries kept per store: a few MiB at most, enough for the top results of many searches. */
const DEFAULT_CAPACITY = 50_000;

/**
 * Ids of document numbers already read, least recently used dropped first. It never needs invalidating:
 * within one database a document number names one memory for good. An edit keeps the memory's number, a
 * delete retires it (the posting blocks lose it in the same transaction), and a new memory, even one
 * re-created under a deleted id, takes the next number of the namespace's counter, which only grows
 * (`engram_namespaces.docnos`; a rolled-back transaction's numbers were never visible to a read). So it
 * holds on Postgres too, where other processes write: an entry read from committed rows stays true.
 */
export class DocIdCache {
  /** Namespaces, then their entries, each in order of last use (a Map iterates in insertion order). */
  private readonly entries = new Map<string, Map<number, string>>();
  private size = 0;
  /** The namespace last in `entries` (the most recently used), whose use then moves nothing. */
  private newest: string | undefined;

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  get(namespace: string, doc: number): string | undefined {
    const byDoc = this.entries.get(namespace);
    const id = byDoc?.get(doc);
    if (id !== undefined) {
      this.touch(namespace, byDoc!);
      byDoc!.delete(doc);
      byDoc!.set(doc, id);
    }
    return id;
  }

  set(namespace: string, doc: number, id: string): void {
    if (this.capacity === 0) return;
    const byDoc = this.entries.get(namespace) ?? new Map<number, string>();
    this.touch(namespace, byDoc);
    if (!byDoc.delete(doc)) this.size++;
    byDoc.set(doc, id);
    while (this.size > this.capacity) {
      // The least recently used entry of the least recently used namespace.
      const [oldestNamespace, oldest] = this.entries.entries().next().value!;
      oldest.delete(oldest.keys().next().value!);
      this.size--;
      if (oldest.size === 0) {
        this.entries.delete(oldestNamespace);
        if (this.newest === oldestNamespace) this.newest = undefined;
      }
    }
  }

  /**
   * Makes `namespace` the most recently used. Moving it when it already is the newest (every use, in a
   * store serving one namespace) made the outer Map grow a deleted slot a time and rebuild its small table
   * every other use: 0.8 µs a `set` instead of 0.2 (a search makes a dozen or so: 1-3 % of a sql.js search
   * at 10K, within the spread of whole-search timings).
   */
  private touch(namespace: string, byDoc: Map<number, string>): void {
    if (this.newest === namespace) return;
    this.entries.delete(namespace);
    this.entries.set(namespace, byDoc);
    this.newest = namespace;
  }
}
