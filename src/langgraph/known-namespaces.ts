import type { Engram } from '../core/engram.js';
import { loadNamespaces, namespaceStored } from './item-records.js';

/**
 * Which LangGraph namespaces already have their memory, so that a put adds one only for a new namespace
 * without reading every namespace: those this store has seen stored (EngramStore never removes one) are
 * kept here, and any other is looked up by its tag, so one another writer added is found too. Only
 * `listNamespaces` and `search`, which need them all, read them all (and bring what is known up to date).
 */
export class KnownNamespaces {
  private known = new Set<string>();

  /**
   * Every namespace, in the order first written. What is known is then exactly what was read: a namespace
   * whose memory was removed from outside (`clear()` on the Engram namespace) is written again by its next put.
   */
  async all(mem: Engram): Promise<string[][]> {
    const list = await loadNamespaces(mem);
    this.known = new Set(list.map((ns) => ns.join(':')));
    return list;
  }

  /** Those of `namespaces` that have their memory already, by their labels joined with ':'. */
  async stored(mem: Engram, namespaces: string[][]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const ns of namespaces) {
      const joined = ns.join(':');
      if (found.has(joined)) continue;
      if (this.known.has(joined) || (await namespaceStored(mem, ns))) {
        this.known.add(joined);
        found.add(joined);
      }
    }
    return found;
  }

  /** Notes namespaces whose memory has been written. */
  add(namespaces: Iterable<string[]>): void {
    for (const ns of namespaces) this.known.add(ns.join(':'));
  }
}
