import type { TextShardRow } from './schema.js';

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
  private readonly entries = new Map<string, { stamp: string; rows: TextShardRow[]; bytes: number }>();
  private bytes = 0;
  /** Bumped by `clear`: rows read before it are not kept. */
  generation = 0;

  constructor(private readonly maxBytes = MAX_BYTES) {}

  /** Whether rows of the shard are kept, under any stamp. */
  has(namespace: string, shard: number | undefined): boolean {
    return this.entries.has(`${shard} ${namespace}`);
  }

  get(namespace: string, shard: number | undefined, stamp: string): TextShardRow[] | undefined {
    const key = `${shard} ${namespace}`;
    const found = this.entries.get(key);
    if (!found) return undefined;
    this.entries.delete(key);
    if (found.stamp !== stamp) {
      this.bytes -= found.bytes;
      return undefined;
    }
    this.entries.set(key, found);
    return found.rows;
  }

  set(
    namespace: string,
    shard: number | undefined,
    stamp: string,
    rows: TextShardRow[],
    generation: number,
  ): void {
    if (generation !== this.generation) return;
    const key = `${shard} ${namespace}`;
    const bytes = sizeOf(rows);
    if (bytes > this.maxBytes / 4) return;
    const old = this.entries.get(key);
    if (old) this.bytes -= old.bytes;
    this.entries.delete(key);
    this.entries.set(key, { stamp, rows, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.bytes -= entry.bytes;
      this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
    this.generation += 1;
  }
}
