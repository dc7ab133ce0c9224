import type { Engram } from '../core/engram.js';
import type { Node } from './graph-nodes.js';
import { extrasOf, linkOrder } from './graph-records.js';

/** The order stamps of a KnowledgeGraph: its lists come in the reference's order, that of creation. */
export class OrderStamps {
  /** The greatest order stamp this graph is known to hold or to have drawn. */
  private lastStamp = Number.NEGATIVE_INFINITY;
  /** Whether the links' stamps have been read (once per process; entities' are read at every write). */
  private linkStampsKnown = false;

  constructor(private readonly mem: Engram) {}

  /**
   * The next order stamp: the clock in milliseconds, but always past every stamp the graph holds, so what
   * is made later lists later even when the clock was set back (a restart an hour behind, a corrected
   * clock). Concurrent writers on one store (two servers on one edge) order roughly by their clocks.
   */
  next(): number {
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
    return this.lastStamp;
  }

  /** Before a write draws stamps: learns the greatest stamp the graph holds. */
  async learn(nodes: Map<string, Node>): Promise<void> {
    const raise = (stamp: number) => {
      if (stamp > this.lastStamp) this.lastStamp = stamp;
    };
    for (const { memory } of nodes.values()) {
      const { order, selfRelationsOrder } = extrasOf(memory);
      if (order !== undefined) raise(order);
      for (const stamp of selfRelationsOrder) raise(stamp);
    }
    if (this.linkStampsKnown) return;
    for (const { memory } of nodes.values()) {
      for (const link of await this.mem.links(memory.id, { direction: 'out' })) raise(linkOrder(link));
    }
    this.linkStampsKnown = true;
  }
}
