import * as v from 'valibot';
import { errorMessage } from '../errors.js';
import type { MemoryRecord } from '../store-contract.js';
import { parse, positiveInt } from '../validate.js';
import {
  type Embedder,
  embedderDown,
  embedTexts,
  needsEmbedding,
  RefusalJudge,
  rejectsText,
} from './embedder.js';
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
  /**
   * Memories whose text the embedder refused (VALIDATION or PAYLOAD_TOO_LARGE, e.g. an HTTP 400 for a
   * text longer than the model takes), with why; present only when there were some. They keep their
   * old embedding, and a later run asks again.
   */
  failed?: Array<{ id: string; error: string }>;
}

const PAGE = 500;

const reembedOptionsSchema = v.strictObject(
  {
    embedder: v.optional(v.any()),
    batchSize: v.optional(positiveInt),
    onProgress: v.optional(
      v.custom<ReembedOptions['onProgress']>((f) => typeof f === 'function', 'expected a function'),
    ),
  },
  'expected { embedder?, batchSize?, onProgress? }',
);

/** Validates `reembed` options (errors name the field, e.g. `reembed.batchSize`); the embedder is checked by its caller. */
export function parseReembedOptions(options: unknown): ReembedOptions {
  return parse(reembedOptionsSchema, options, 'reembed') as ReembedOptions;
}

/**
 * True when the memory lacks an embedding of the embedder's model and length for its current content:
 * one of the same id but another length (the model at another `dimensions`) is skipped by vector search
 * like another model's, so it is moved too.
 */
function stale(record: MemoryRecord, embedder: Embedder): boolean {
  const { embedding, embeddingModel } = record.memory;
  return needsEmbedding(record) || embeddingModel !== embedder.id || embedding?.length !== embedder.dims;
}

/**
 * Moves every memory of the namespace (whatever its validity in time) to the host's embedder.
 * Resumable: a memory whose embedding is already of this model for its current content is skipped, so a
 * run stopped half-way (a crash, a failing embedder) continues where it stopped when run again. Unlike
 * the background queue it throws when the embedder fails (offline, rate limited, …): it is something a
 * person runs and watches. A text the embedder refuses does not stop it: that memory is reported in
 * `failed` and the run goes on, unless the embedder refuses several texts in a row and embeds none
 * in between (`RefusalJudge`): then it refuses every text, and the run throws.
 */
export async function reembedAll(host: EmbeddingHost, options: ReembedOptions = {}): Promise<ReembedResult> {
  const { store, namespace, embedder } = host;
  const batchSize = options.batchSize ?? 64;
  const todo: string[] = [];
  let skipped = 0;
  for (let beforeId: string | undefined; ; ) {
    const page = await store.list(namespace, {
      tagMode: 'any',
      now: host.now(),
      history: true,
      limit: PAGE,
      beforeId,
    });
    for (const record of page) {
      if (stale(record, embedder)) todo.push(record.memory.id);
      else skipped += 1;
    }
    if (page.length < PAGE) break;
    beforeId = page[page.length - 1]!.memory.id;
  }
  let embedded = 0;
  const failed: NonNullable<ReembedResult['failed']> = [];
  const judge = new RefusalJudge();
  const embedAndWrite = async (records: MemoryRecord[]) => {
    const vectors = await embedTexts(
      embedder,
      records.map((r) => r.memory.content),
      host.options.timeoutMs,
    );
    judge.embedded();
    await host.write(embeddingWrites(records, vectors, embedder.id, host.stamp(records)));
    embedded += records.length;
  };
  options.onProgress?.({ done: 0, total: todo.length });
  for (let i = 0; i < todo.length; i += batchSize) {
    const records = (await store.getMemories(namespace, todo.slice(i, i + batchSize))).filter((r) =>
      stale(r, embedder),
    );
    try {
      if (records.length > 0) await embedAndWrite(records);
    } catch (error) {
      if (embedderDown(error) || (records.length === 1 && !rejectsText(error))) throw error;
      // Maybe one text spoiled the batch: each alone, setting aside those the embedder refuses.
      for (const record of records) {
        try {
          await embedAndWrite([record]);
        } catch (single) {
          // An embedder refusing every text (a bad model parameter) fails the run, as an offline one does.
          if (!rejectsText(single) || judge.judge() === 'embedder') throw single;
          failed.push({ id: record.memory.id, error: errorMessage(single) });
        }
      }
    }
    options.onProgress?.({ done: Math.min(todo.length, i + batchSize), total: todo.length });
  }
  return failed.length > 0 ? { embedded, skipped, failed } : { embedded, skipped };
}
