import { putPosting } from './posting-blocks.js';

/**
 * The bytes of one group's tail rows, in one buffer: a row that outgrows its room moves to a region twice
 * the size at the end, rather than getting a typed array of its own. Rows doubling from 16 bytes each made
 * ~1.5M arrays in a bulk add of 100K memories; their allocation, copies and collection took ~1 s of its 12
 * (GC 1.4 -> 0.8 s). What moved rows leave behind is not reused: the buffer lives while its group is the
 * newest (4096 memories of the bench corpus: 0.7 MB of postings, 2.7 MB taken, a 4 MB buffer). It starts
 * at 1 KiB: a store keeps one per namespace it wrote, and most namespaces are small.
 */
export class ByteArena {
  constructor(
    public buffer: Uint8Array = new Uint8Array(1 << 10),
    private used = 0,
  ) {}

  /** The offset of `size` new bytes; the buffer doubles as needed, every region keeping its offset. */
  take(size: number): number {
    const at = this.used;
    if (at + size > this.buffer.length) {
      let length = this.buffer.length * 2;
      while (at + size > length) length *= 2;
      const grown = new Uint8Array(length);
      grown.set(this.buffer.subarray(0, at));
      this.buffer = grown;
    }
    this.used = at + size;
    return at;
  }
}

/**
 * A posting row of a namespace's newest group as the store holds it: its bytes and their last document.
 * The bytes sit in a region of their group's arena with room to grow, so a bulk add appends each posting
 * in place (`append`) instead of copying the row once per batch.
 */
export class TailRow {
  /** The batch that last touched the row (PostingTails' undo log records a row once per batch). */
  stamp = 0;

  private constructor(
    private readonly arena: ByteArena,
    private at: number,
    private room: number,
    public size: number,
    public last: number,
  ) {}

  /** A row holding `bytes` (not copied until it grows), in an arena of its own. */
  static of(bytes: Uint8Array, last: number): TailRow {
    return new TailRow(new ByteArena(bytes, bytes.length), 0, bytes.length, bytes.length, last);
  }

  static empty(arena: ByteArena): TailRow {
    return new TailRow(arena, arena.take(16), 16, 0, 0);
  }

  /** A view of the row's bytes, to be used before the row grows again. */
  get bytes(): Uint8Array {
    return this.arena.buffer.subarray(this.at, this.at + this.size);
  }

  /** One posting after the row's last, as `encodeTriples` writes it (putPosting). */
  append(doc: number, tf: number, length: number): void {
    // Three varints of safe integers take at most 24 bytes.
    if (this.size + 24 > this.room) {
      const room = Math.max(this.room * 2, this.size + 24);
      const at = this.arena.take(room);
      this.arena.buffer.copyWithin(at, this.at, this.at + this.size);
      this.at = at;
      this.room = room;
    }
    this.size = putPosting(this.arena.buffer, this.at + this.size, doc - this.last, tf, length) - this.at;
    this.last = doc;
  }
}

/**
 * The rows of a namespace's newest group as this store last wrote them, for a store that alone writes its
 * database (sql.js): a bulk add then appends to them without reading them back. `docnos` is the namespace's
 * counter after that write; a batch that finds another value, or that edits or deletes texts, drops the
 * cache. `data` maps a term to its row, or to null when the row is known not to exist; `complete`: every
 * row of the group is in `data` (the group was started by a cached write), so a term not in it has no row.
 * `pending`: terms whose row in `data` is newer than the database's, a write buffer like FTS4's pending
 * terms: a batch of 1000 memories touches ~13K rows of the newest group, and each row is written once
 * when the group is left or before anything reads the postings, instead of once per batch.
 */
export interface TailBlocks {
  grp: number;
  docnos: number;
  complete: boolean;
  data: Map<string, TailRow | null>;
  pending: Set<string>;
  /** Some of the group's rows were written before it was left (a search or a save came between batches). */
  flushed?: boolean;
  /** Where the rows a bulk add starts keep their bytes (made by the first). */
  arena?: ByteArena;
}
