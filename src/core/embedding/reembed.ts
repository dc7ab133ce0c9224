import type { MemoryRecord } from '../store-contract.js';
import { checkVectors, type Embedder, needsEmbedding } from './embedder.js';
import { type EmbeddingHost, embeddingWrites } from './embedding-queue.js';

export interface ReembedOptions {
  /** The embedder to move to (default: the memory's own). */
  embedder?: Embedder;
  /** Texts per embedder call (default 64). */
  batchSize?: number;
  /** Called after every batch with how many memories are done out of how many needed it. */
  onProgress?: (progress: { done: number; total: number }) => void;
}

export interface ReembedResult {
  /** Memories embedded by this run. */
  embedded: number;
  /** Memories that already had an embedding of this model for their current content. */
  skipped: number;
}

const PAGE = 500;

/** True when the memory lacks an embedding of `model` for its current content. */
function stale(record: MemoryRecord, model: string): boolean {
  return needsEmbedding(record) || record.memory.embeddingModel !== model;
}

/**
 * Moves every memory of the namespace to the host's embedder. Resumable: a memory whose embedding is
 * already of this model for its current content is skipped, so a run stopped half-way (a crash, a
 * failing embedder) continues where it stopped when run again. Unlike the background queue it throws
 * when the embedder fails: it is something a person runs and watches.
 */
export async function reembedAll(host: EmbeddingHost, options: ReembedOptions = {}): Promise<ReembedResult> {
  const { store, namespace, embedder } = host;
  const batchSize = options.batchSize ?? 64;
  const todo: string[] = [];
  let skipped = 0;
  for (let beforeId: string | undefined; ; ) {
    const page = await store.list(namespace, { tagMode: 'any', now: host.now(), limit: PAGE, beforeId });
    for (const record of page) {
      if (stale(record, embedder.id)) todo.push(record.memory.id);
      else skipped += 1;
    }
    if (page.length < PAGE) break;
    beforeId = page[page.length - 1]!.memory.id;
  }
  let done = 0;
  options.onProgress?.({ done, total: todo.length });
  for (let i = 0; i < todo.length; i += batchSize) {
    const records = (await store.getMemories(namespace, todo.slice(i, i + batchSize))).filter((r) =>
      stale(r, embedder.id),
    );
    if (records.length > 0) {
      const vectors = checkVectors(
        embedder,
        await embedder.embed(records.map((r) => r.memory.content)),
        records.length,
      );
      await host.write(embeddingWrites(records, vectors, embedder.id, host.stamp(records)));
    }
    done = Math.min(todo.length, i + batchSize);
    options.onProgress?.({ done, total: todo.length });
  }
  return { embedded: todo.length, skipped };
}
