import type { Engram } from '../core/engram.js';
import type { SyncOptions } from '../core/engram-options.js';
import { EngramError } from '../core/errors.js';
import type { MemoryStore } from '../core/store-contract.js';
import { createMemory } from '../create-memory.js';

export interface MemoryOptions {
  store?: MemoryStore;
  namespace: string;
  sync?: SyncOptions;
}

/**
 * The Engram memory under an EngramStore, opened on first use. LangGraph hosts may `stop()` a store and
 * `start()` it again (BaseStore's are no-ops): `release` closes the memory, so its sync and maintenance
 * stop and a SQLite file is saved, but leaves the store open, and the next `open` makes a new memory on
 * it. Only `close` closes the store, for good.
 */
export class ReopenableMemory {
  private memory: Promise<Engram> | undefined;
  private store: MemoryStore | undefined;
  private closed = false;

  constructor(private readonly options: MemoryOptions) {}

  open(): Promise<Engram> {
    if (this.closed) {
      return Promise.reject(
        new EngramError('STORAGE', 'EngramStore: closed by close(); make a new EngramStore to use it again'),
      );
    }
    if (!this.memory) {
      const opening: Promise<Engram> = this.create().catch((error: unknown) => {
        // A memory that failed to open (an edge's token refused, say) is tried again on the next use.
        if (this.memory === opening) this.memory = undefined;
        throw error;
      });
      this.memory = opening;
    }
    return this.memory;
  }

  private async create(): Promise<Engram> {
    // The default store is made once, so that a memory opened again finds what the last one wrote.
    this.store ??=
      this.options.store ?? new (await import('../backends/in-memory/in-memory-store.js')).InMemoryStore();
    const { namespace, sync } = this.options;
    return createMemory({ store: keptOpen(this.store), namespace, sync });
  }

  /** Closes the memory, not its store: saved, background work stopped, open again on the next use. */
  async release(): Promise<void> {
    const memory = this.memory;
    this.memory = undefined;
    await (await memory?.catch(() => undefined))?.close();
  }

  /** Closes the memory and its store (when one was opened); the memory cannot be opened again. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.release();
    await this.store?.close();
  }
}

const kept = new WeakMap<MemoryStore, MemoryStore>();

/**
 * The store as a memory sees it: closing the memory saves what the store has not saved yet (SqlJsStore's
 * `flush`) instead of closing it. One per store, so that every memory on it shares one identity (core keeps
 * its per-store write queues by it).
 */
function keptOpen(store: MemoryStore): MemoryStore {
  let shield = kept.get(store);
  if (!shield) {
    const flush = async () => {
      await (store as { flush?: () => Promise<void> }).flush?.();
    };
    shield = new Proxy(store, {
      get(target, property) {
        if (property === 'close') return flush;
        const value: unknown = Reflect.get(target, property, target);
        // Bound to the store itself: its methods may use private fields, which a proxy does not have.
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    kept.set(store, shield);
  }
  return shield;
}
