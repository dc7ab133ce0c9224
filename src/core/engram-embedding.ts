import { assertEmbedder, type Embedder, type EmbeddingOptions } from './embedding/embedder.js';
import { type EmbeddingHost, EmbeddingQueue } from './embedding/embedding-queue.js';
import {
  parseReembedOptions,
  type ReembedOptions,
  type ReembedResult,
  reembedAll,
} from './embedding/reembed.js';
import type { ChangeKind, MemoryEvents } from './engram-options.js';
import { EngramError, errorMessage } from './errors.js';
import type { HybridLogicalClock } from './hlc.js';
import { observeStamps } from './hlc.js';
import type { ApplyResult, MemoryStore, WriteBatch } from './store-contract.js';

/** What an Engram's background embedding needs of it: its store and clock, its writes, where to report. */
export interface EmbeddingOwner {
  readonly store: MemoryStore;
  readonly namespace: string;
  readonly clock: HybridLogicalClock;
  nowIso(): string;
  /** Throws the STORAGE error of a closed memory. */
  assertOpen(): void;
  write(batch: WriteBatch, type: ChangeKind, ids: string[]): Promise<ApplyResult>;
  onStatus(): void;
  warn(code: MemoryEvents['warning']['code'], message: string): void;
}

/** An Engram's embedder and the queue that embeds what was written without an embedding. */
export class EngramEmbedding {
  embedder: Embedder | undefined;
  options: EmbeddingOptions = {};
  queue: EmbeddingQueue | undefined;

  constructor(private readonly owner: EmbeddingOwner) {}

  /** See Engram.startEmbedding. */
  start(embedder: Embedder | undefined, options: EmbeddingOptions = {}): void {
    // Kept without an embedder too: a later `reembed({ embedder })` calls it under these options.
    this.options = options;
    if (!embedder) return;
    this.embedder = embedder;
    this.queue = new EmbeddingQueue(this.host(embedder, options));
    // Work left by an earlier session (the store is the durable queue) resumes in the background.
    this.queue.scan().catch((error) => this.owner.warn('EMBEDDING_FAILED', errorMessage(error)));
  }

  private host(embedder: Embedder, options: EmbeddingOptions): EmbeddingHost {
    return {
      store: this.owner.store,
      namespace: this.owner.namespace,
      embedder,
      options,
      now: () => this.owner.nowIso(),
      stamp: (records) => {
        for (const record of records) observeStamps(this.owner.clock, record);
        return this.owner.clock.tick();
      },
      write: async (writes) => {
        // A reembed run the memory was closed under fails, rather than count as embedded what it no longer stores.
        this.owner.assertOpen();
        await this.owner.write(
          { memories: writes },
          'update',
          writes.map((w) => w.id),
        );
      },
      onChange: () => this.owner.onStatus(),
      onRejected: (id, error) =>
        this.owner.warn(
          'EMBEDDING_FAILED',
          `embedding: the embedder refused memory ${id} (${errorMessage(error)}); it stays unembedded until its content changes or the memory is opened again`,
        ),
    };
  }

  /** Embeds those of `ids` that need it, in the background (written elsewhere: another tab, a pull). */
  consider(ids: string[]): void {
    this.queue?.consider(ids).catch((error) => this.owner.warn('EMBEDDING_FAILED', errorMessage(error)));
  }

  /** See Engram.reembed; the caller has checked the memory is open. */
  reembed(options: ReembedOptions): Promise<ReembedResult> {
    parseReembedOptions(options);
    const embedder = options.embedder ?? this.embedder;
    if (!embedder) {
      throw new EngramError(
        'VALIDATION',
        'reembed.embedder: expected an embedder (pass it here or to createMemory({ embedder }))',
        { field: 'reembed.embedder' },
      );
    }
    if (options.embedder !== undefined) assertEmbedder(options.embedder, 'reembed.embedder');
    return reembedAll(this.host(embedder, this.options), options);
  }
}
