import { errorMessage } from '../errors.js';
import { isExpired } from '../filter.js';
import type { MemoryRecord, MemoryStore, MemoryWrite } from '../store-contract.js';
import {
  type Embedder,
  type EmbeddingOptions,
  embedderDown,
  embedTexts,
  needsEmbedding,
  RefusalJudge,
  rejectsText,
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
  /** Called when the embedder refused a memory's text, which is then set aside (see EmbeddingQueue). */
  onRejected?(id: string, error: unknown): void;
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
 *
 * One text the embedder always refuses must not hold up the others: a failed batch is tried again one
 * text at a time, and a text refused on its own (`rejectsText`) while the embedder embeds other texts
 * is set aside for that content version: not asked again until its content changes or the memory is
 * opened again (the scan finds it). An embedder that refuses every text (`RefusalJudge`), or answers
 * with vectors of the wrong shape, is at fault itself: the queue backs off and nothing is set aside.
 */
export class EmbeddingQueue {
  private readonly waiting = new Set<string>();
  /** Ids the embedder refused, with the content clock of the version it refused. */
  private readonly refused = new Map<string, string | undefined>();
  private running = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private stopped = false;
  private readonly judge = new RefusalJudge();
  lastError: string | undefined;

  constructor(private readonly host: EmbeddingHost) {}

  get pending(): number {
    return this.waiting.size;
  }

  /** Memories set aside because the embedder refused their current content. */
  get rejected(): number {
    return this.refused.size;
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
    const needed = records.filter((r) => needsEmbedding(r));
    // Embedded elsewhere (another replica's model took the text): no longer set aside here.
    for (const r of records) if (!needed.includes(r)) this.refused.delete(r.memory.id);
    this.enqueue(needed.map((r) => r.memory.id));
  }

  /**
   * Finds every memory of the namespace still waiting for an embedding (after a reload), whatever its
   * validity: a superseded, past or future-valid memory is searched with `asOf` / `history` too.
   */
  async scan(): Promise<void> {
    const found: string[] = [];
    for (let beforeId: string | undefined; !this.stopped; ) {
      const page = await this.host.store.list(this.host.namespace, {
        tagMode: 'any',
        now: this.host.now(),
        history: true,
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
    this.judge.faulted();
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
    const batchSize = this.host.options.batchSize ?? 32;
    while (!this.stopped && this.waiting.size > 0) {
      try {
        const records = await this.nextBatch(batchSize);
        if (records.length === 0) {
          this.host.onChange();
          continue;
        }
        if (await this.embedBatch(records)) {
          this.attempt = 0;
          this.lastError = undefined;
        }
        this.host.onChange();
      } catch (error) {
        if (this.stopped) return;
        this.retryLater(error);
        return;
      }
    }
  }

  /** The next waiting memories that still need an embedding; the others leave the queue. */
  private async nextBatch(batchSize: number): Promise<MemoryRecord[]> {
    const ids = [...this.waiting].slice(0, batchSize);
    const now = this.host.now();
    const records = (await this.host.store.getMemories(this.host.namespace, ids)).filter(
      (r) => needsEmbedding(r) && !isExpired(r.memory, now) && !this.isRefused(r),
    );
    const wanted = new Set(records.map((r) => r.memory.id));
    for (const id of ids) if (!wanted.has(id)) this.waiting.delete(id);
    return records;
  }

  /** Refused before, for this very content version (a new version is asked for again). */
  private isRefused(record: MemoryRecord): boolean {
    const id = record.memory.id;
    if (!this.refused.has(id)) return false;
    if (this.refused.get(id) === record.clocks.content) return true;
    this.refused.delete(id);
    return false;
  }

  /** True when every record of the batch got its embedding; throws to back off. */
  private async embedBatch(records: MemoryRecord[]): Promise<boolean> {
    let vectors: number[][];
    try {
      vectors = await this.embed(records);
    } catch (error) {
      if (records.length > 1 && !embedderDown(error)) return this.embedOneByOne(records);
      if (records.length === 1 && rejectsText(error) && this.judge.judge() === 'text') {
        this.refuse(records[0]!, error);
        return true;
      }
      // After the backoff the others go first: one text failing for an unknown reason cannot block them.
      for (const record of records) this.toBack(record.memory.id);
      throw error;
    }
    this.judge.embedded();
    await this.save(records, vectors);
    return true;
  }

  /**
   * After a batch failed for a reason that may be one of its texts: each text alone. A text refused while
   * the embedder embeds others is set aside; one refused before any other went through, or failing for
   * an unknown reason, goes to the back of the queue, so it cannot keep failing the batch in front of
   * the others. Throws (back off) when the embedder itself is down or refuses every text (the judge
   * says so after a few refusals in a row, so the rest of the batch is not tried), when the first text
   * tried fails for an unknown reason, or when nothing went through.
   */
  private async embedOneByOne(records: MemoryRecord[]): Promise<boolean> {
    let progressed = false;
    let failure: unknown;
    for (const record of records) {
      if (this.stopped) return false;
      let vectors: number[][];
      try {
        vectors = await this.embed([record]);
      } catch (error) {
        const verdict = rejectsText(error) ? this.judge.judge() : undefined;
        if (verdict === 'text') {
          this.refuse(record, error);
          progressed = true;
          continue;
        }
        this.toBack(record.memory.id);
        if (verdict === 'embedder' || embedderDown(error) || (verdict === undefined && !progressed)) {
          throw error;
        }
        failure = error;
        this.lastError = errorMessage(error);
        continue;
      }
      this.judge.embedded();
      await this.save([record], vectors);
      progressed = true;
    }
    if (!progressed && failure !== undefined) throw failure;
    return failure === undefined;
  }

  private embed(records: MemoryRecord[]): Promise<number[][]> {
    return embedTexts(
      this.host.embedder,
      records.map((r) => r.memory.content),
      this.host.options.timeoutMs,
    );
  }

  private toBack(id: string): void {
    this.waiting.delete(id);
    this.waiting.add(id);
  }

  private refuse(record: MemoryRecord, error: unknown): void {
    this.refused.set(record.memory.id, record.clocks.content);
    this.waiting.delete(record.memory.id);
    this.host.onRejected?.(record.memory.id, error);
  }

  /**
   * Writes the vectors of the content versions that still lack one: the content may have changed while
   * the embedder worked, or another replica's embedding may have arrived. Ids whose current version is
   * now embedded leave the queue; a changed content stays for the next round.
   */
  private async save(records: MemoryRecord[], vectors: number[][]): Promise<void> {
    if (this.stopped) return;
    const { store, namespace, embedder } = this.host;
    const ids = records.map((r) => r.memory.id);
    const embeddedClock = new Map(records.map((r, i) => [r.memory.id, [r.clocks.content, i] as const]));
    const current = (await store.getMemories(namespace, ids)).filter(
      (r) => needsEmbedding(r) && embeddedClock.get(r.memory.id)?.[0] === r.clocks.content,
    );
    if (current.length > 0) {
      const stamp = this.host.stamp(current);
      const chosen = current.map((r) => vectors[embeddedClock.get(r.memory.id)![1]]!);
      await this.host.write(embeddingWrites(current, chosen, embedder.id, stamp));
    }
    // Done: every id whose content is still the version just embedded. Judged by that version, not by
    // the stamps alone: a content stamp later than any this clock issues (kept from a clock that ran ahead
    // before the edge's bound) sorts above every embedding written now, and the id would be embedded
    // again and again, holding the event loop.
    const changed = new Set(
      (await store.getMemories(namespace, ids))
        .filter((r) => needsEmbedding(r) && embeddedClock.get(r.memory.id)?.[0] !== r.clocks.content)
        .map((r) => r.memory.id),
    );
    for (const id of ids) if (!changed.has(id)) this.waiting.delete(id);
  }
}
