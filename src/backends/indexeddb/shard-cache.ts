import type { TextShardRow } from './schema.js';
import { WeightedLru } from './weighted-lru.js';

/** Row bytes kept per store by default: at 100K memories a stem shard's rows are ~90 KB. */
const MAX_BYTES = 8 << 20;

const sizeOf = (rows: readonly TextShardRow[]) =>
  rows.reduce((bytes, row) => bytes + row.data.byteLength + 2 * row.terms.length + 64, 0);

/**
 * Text shard rows kept between searches in this tab (every group's row of a shard, as one key-range read
 * returned them), least recently used first out. They are good only for the text index as it was when
 * they were read, which the namespace's counters stamp (see `textStamp`): a stamp never comes back once
 * the index changed, so a search that reads the counters in its own transaction and finds the stamp
 * its rows were kept under may use them. Rows are never modified in place. Dropped with the connection.
 */
export class ShardCache {
  private readonly entries: WeightedLru<{ stamp: string; rows: TextShardRow[] }>;
  /** Bumped by `clear`: rows read before it are not kept. */
  generation = 0;

  constructor(private readonly maxBytes = MAX_BYTES) {
    this.entries = new WeightedLru(maxBytes);
  }

  /** Whether rows of the shard are kept, under any stamp. */
  has(namespace: string, shard: number | undefined): boolean {
    return this.entries.has(`${shard} ${namespace}`);
  }

  get(namespace: string, shard: number | undefined, stamp: string): TextShardRow[] | undefined {
    const key = `${shard} ${namespace}`;
    const found = this.entries.get(key);
    if (found === undefined || found.stamp === stamp) return found?.rows;
    this.entries.delete(key);
    return undefined;
  }

  set(
    namespace: string,
    shard: number | undefined,
    stamp: string,
    rows: TextShardRow[],
    generation: number,
  ): void {
    const bytes = sizeOf(rows);
    if (generation !== this.generation || bytes > this.maxBytes / 4) return;
    this.entries.set(`${shard} ${namespace}`, { stamp, rows }, bytes);
  }

  clear(): void {
    this.entries.clear();
    this.generation += 1;
  }
}
