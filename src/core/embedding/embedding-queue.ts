import { isExpired } from '../filter.js';
import type { MemoryRecord, MemoryStore, MemoryWrite } from '../store-contract.js';
import {
  checkVectors,
  type Embedder,
  type EmbeddingOptions,
  errorMessage,
  needsEmbedding,
} from './embedder.js';

export interface EmbeddingHost {
  store: MemoryStore;
  namespace: string;
  embedder: Embedder;
  options: EmbeddingOptions;
  now(): string;
  /** A stamp greater than every clock of `records` (observe, then tick). */
  stamp(records: readonly MemoryRecord[]): string;
  write(writes: MemoryWrite[]): Promise<void>;
  /** Called whenever the pending count or the last error changes. */
  onChange(): void;
}

const SCAN_PAGE = 500;

/** The write that stores embeddings: the vector and its model, both stamped after the content they describe. */
export function embeddingWrites(
  records: readonly MemoryRecord[],
  vectors: readonly number[][],
  model: string,
  stamp: string,
): MemoryWrite[] {
  return records.map((record, i) => ({
    id: record.memory.id,
    values: { embedding: vectors[i]!, embeddingModel: model },
    clocks: { embedding: stamp, embeddingModel: stamp },
  }));
}

/**
 * Embeds memories in the background. Writes never wait for it: they enqueue ids and return. The queue
 * itself is not the durable record of what is pending: the store is (a memory whose embedding is missing
 * or older than its content), so `scan()` after a reload finds what was left, and an embedding that
 * arrived by sync from another replica is simply no longer pending.
 */
export class EmbeddingQueue {
  private readonly waiting = new Set<string>();
  private running = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private stopped = false;
  lastError: string | undefined;

  constructor(private readonly host: EmbeddingHost) {}

  get pending(): number {
    return this.waiting.size;
  }

  /** Ids that were just written without an embedding. */
  enqueue(ids: readonly string[]): void {
    if (this.stopped || ids.length === 0) return;
    for (const id of ids) this.waiting.add(id);
    this.host.onChange();
    this.kick();
  }

  /** Ids that changed elsewhere (sync, another tab): enqueued only if they still need an embedding. */
  async consider(ids: readonly string[]): Promise<void> {
    const records = await this.host.store.getMemories(this.host.namespace, ids);
    this.enqueue(records.filter((r) => needsEmbedding(r)).map((r) => r.memory.id));
  }

  /** Finds every memory of the namespace still waiting for an embedding (after a reload). */
  async scan(): Promise<void> {
    const found: string[] = [];
    for (let beforeId: string | undefined; !this.stopped; ) {
      const page = await this.host.store.list(this.host.namespace, {
        tagMode: 'any',
        now: this.host.now(),
        limit: SCAN_PAGE,
        beforeId,
      });
      for (const record of page) if (needsEmbedding(record)) found.push(record.memory.id);
      if (page.length < SCAN_PAGE) break;
      beforeId = page[page.length - 1]!.memory.id;
    }
    this.enqueue(found);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private kick(): void {
    if (this.running || this.timer || this.stopped) return;
    this.running = true;
    void this.drain().finally(() => {
      this.running = false;
    });
  }

  private retryLater(error: unknown): void {
    this.attempt += 1;
    this.lastError = errorMessage(error);
    this.host.onChange();
    if (this.stopped) return;
    const base = this.host.options.backoff?.baseMs ?? 1000;
    const max = this.host.options.backoff?.maxMs ?? 60_000;
    const ceiling = Math.min(max, base * 2 ** (this.attempt - 1));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, delay);
  }

  /** Embeds batches until nothing waits; a failure (embedder or store) backs off and tries again later. */
  private async drain(): Promise<void> {
    const { store, namespace, embedder } = this.host;
    const batchSize = this.host.options.batchSize ?? 32;
    while (!this.stopped && this.waiting.size > 0) {
      try {
        const ids = [...this.waiting].slice(0, batchSize);
        const now = this.host.now();
        const records = (await store.getMemories(namespace, ids)).filter(
          (r) => needsEmbedding(r) && !isExpired(r.memory, now),
        );
        const wanted = new Set(records.map((r) => r.memory.id));
        for (const id of ids) if (!wanted.has(id)) this.waiting.delete(id);
        if (records.length === 0) {
          this.host.onChange();
          continue;
        }
        const output = await embedder.embed(records.map((r) => r.memory.content));
        const vectors = checkVectors(embedder, output, records.length);
        if (this.stopped) return;
        // Re-read: the content may have changed while the embedder worked, or another replica's
        // embedding may have arrived; only content versions that still lack one are written.
        const embeddedClock = new Map(records.map((r, i) => [r.memory.id, [r.clocks.content, i] as const]));
        const current = (await store.getMemories(namespace, [...wanted])).filter(
          (r) => needsEmbedding(r) && embeddedClock.get(r.memory.id)?.[0] === r.clocks.content,
        );
        if (current.length > 0) {
          const stamp = this.host.stamp(current);
          const chosen = current.map((r) => vectors[embeddedClock.get(r.memory.id)![1]]!);
          await this.host.write(embeddingWrites(current, chosen, embedder.id, stamp));
        }
        const changed = new Set(
          (await store.getMemories(namespace, [...wanted])).filter(needsEmbedding).map((r) => r.memory.id),
        );
        for (const id of wanted) if (!changed.has(id)) this.waiting.delete(id);
        this.attempt = 0;
        this.lastError = undefined;
        this.host.onChange();
      } catch (error) {
        if (this.stopped) return;
        this.retryLater(error);
        return;
      }
    }
  }
}
