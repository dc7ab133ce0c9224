import { type MemoryFilter, matchesFilter } from '../../core/filter.js';
import type { MemoryRecord, NativeSearchHit, VectorEntry } from '../../core/store-contract.js';
import { rankExactly } from '../../core/vector/rank-exactly.js';
import type { parseVectorOptions } from '../../core/vector/vector-options.js';
import { loadApproximate, VectorSpace } from '../../core/vector/vector-space.js';

/** What the index needs from the store: embeddings in id order, and records by id. */
export interface VectorSource {
  vectors(namespace: string, afterId: string | null, limit: number): Promise<VectorEntry[]>;
  getMemories(namespace: string, ids: readonly string[]): Promise<MemoryRecord[]>;
}

interface Built {
  space: VectorSpace;
  /** Ids written (here or in another tab) since the space last read them. */
  dirty: Set<string>;
  /** Serialises catching up, so two searches never refresh the same ids at once. */
  ready: Promise<void>;
}

const PAGE = 2000;

/**
 * The IndexedDB store's opt-in vector index, held in memory per namespace: built from the embeddings
 * in IndexedDB on the namespace's first vector search (its time is in {@link buildMs}), then kept
 * current without a rebuild: every write, in this tab or another (heard over the change channel), marks
 * its ids, and the next search re-reads only those. Nothing is persisted, so the database schema is
 * unchanged and a tab that never searches by vector pays nothing.
 */
export class IndexedDBVectorIndex {
  private readonly built = new Map<string, Built>();
  /** Milliseconds the last build of each namespace took (reading IndexedDB, filling, IVF training). */
  readonly buildMs = new Map<string, number>();

  constructor(
    private readonly options: ReturnType<typeof parseVectorOptions>,
    private readonly source: VectorSource,
  ) {}

  /** Ids that changed: re-read at the next search of a built namespace. */
  changed(namespace: string, ids: readonly string[]): void {
    const built = this.built.get(namespace);
    if (built) for (const id of ids) built.dirty.add(id);
  }

  /** Drops every built space (the store closed). */
  forget(): void {
    this.built.clear();
  }

  async nearest(
    namespace: string,
    query: { vector: readonly number[]; model?: string; limit: number; filter: MemoryFilter },
  ): Promise<{ hits: NativeSearchHit[]; otherModels: number }> {
    const { space } = await this.current(namespace);
    // Records live in IndexedDB, so the filter runs after the index: widen the net until enough pass.
    for (let want = space.candidates(query.limit); ; want *= 4) {
      const found = space.nearest(query.vector, query.model, want);
      const records = await this.source.getMemories(
        namespace,
        found.hits.map((h) => h.id),
      );
      const kept = records.filter(
        ({ memory }) =>
          memory.embedding &&
          (query.model === undefined || memory.embeddingModel === query.model) &&
          matchesFilter(memory, query.filter),
      );
      if (kept.length >= query.limit || found.hits.length < want || want >= space.size) {
        return { hits: rankExactly(query.vector, kept, query.limit), otherModels: found.otherModels };
      }
    }
  }

  /** The namespace's space, built on first use and caught up with the writes since. */
  private async current(namespace: string): Promise<Built> {
    // Before the lookup, so that two first searches still share one build.
    const approximate = await loadApproximate(this.options);
    let built = this.built.get(namespace);
    if (!built) {
      const fresh: Built = {
        space: new VectorSpace(this.options, () => approximate),
        dirty: new Set(),
        ready: Promise.resolve(),
      };
      fresh.ready = this.build(namespace, fresh.space);
      this.built.set(namespace, fresh);
      built = fresh;
      try {
        await fresh.ready;
      } catch (error) {
        this.built.delete(namespace);
        throw error;
      }
    }
    const target = built;
    // A failed catch-up leaves its ids dirty for the next search; it must not poison the chain.
    const run = target.ready.catch(() => undefined).then(() => this.catchUp(namespace, target));
    target.ready = run;
    await run;
    return target;
  }

  private async build(namespace: string, space: VectorSpace): Promise<void> {
    const started = performance.now();
    for (let after: string | null = null; ; ) {
      const page = await this.source.vectors(namespace, after, PAGE);
      for (const { id, embedding, model } of page) space.put(id, embedding, model);
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    space.train();
    this.buildMs.set(namespace, performance.now() - started);
  }

  private async catchUp(namespace: string, built: Built): Promise<void> {
    if (built.dirty.size === 0) return;
    const ids = [...built.dirty];
    built.dirty.clear();
    try {
      const records = new Map((await this.source.getMemories(namespace, ids)).map((r) => [r.memory.id, r]));
      for (const id of ids) {
        const memory = records.get(id)?.memory;
        built.space.put(id, memory?.embedding, memory?.embeddingModel);
      }
    } catch (error) {
      for (const id of ids) built.dirty.add(id);
      throw error;
    }
  }
}
