import type { IDBPObjectStore, IDBPTransaction } from 'idb';
import type { ChangeEntry, ChangeOrigin } from '../../core/store-contract.js';
import { namespaceRange } from './keys.js';
import type { EngramSchema, FeedBlockRow, StoreName } from './schema.js';

type ReadTransaction = IDBPTransaction<EngramSchema, StoreName[], 'readonly'>;
type BlockStore = IDBPObjectStore<EngramSchema, StoreName[], 'feedBlocks', 'readwrite'>;

const originCode = (origin: ChangeOrigin): string => (origin === 'remote' ? 'r' : 'l');
const originOf = (code: string): ChangeOrigin => (code === 'r' ? 'remote' : 'local');

/** Blocks read by the first request of a feed read; each further request reads twice as many. */
const FIRST_BLOCKS = 4;

/**
 * The first `limit` entries after `afterSeq` in the namespace's feed blocks. Blocks never overlap and
 * are keyed by their last sequence number, so the first block past `afterSeq` holds the next entries;
 * a block may hold fewer entries past it than it once did (the rest retired), hence the loop.
 */
async function readBlocks(
  blocks: IDBPObjectStore<EngramSchema, StoreName[], 'feedBlocks', 'readonly'>,
  namespace: string,
  afterSeq: number,
  limit: number,
): Promise<ChangeEntry[]> {
  const entries: ChangeEntry[] = [];
  let after = afterSeq;
  for (let count = Math.min(limit, FIRST_BLOCKS); entries.length < limit; count *= 2) {
    const range = namespaceRange(namespace, after);
    const [keys, rows] = await Promise.all([blocks.getAllKeys(range, count), blocks.getAll(range, count)]);
    for (const { seqs, ids, origins } of rows) {
      const names = ids.split(' ');
      seqs.forEach((seq, i) => {
        if (seq > afterSeq)
          entries.push({ seq, entity: 'memory', id: names[i]!, origin: originOf(origins[i]!) });
      });
    }
    if (rows.length < count) break;
    after = keys[keys.length - 1]![1];
  }
  return entries.slice(0, limit);
}

/** Ids of the memories whose feed entry is after `afterSeq`, read in the caller's transaction (a dedupe guard). */
export async function memoryIdsAfter(
  blocks: IDBPObjectStore<EngramSchema, StoreName[], 'feedBlocks', 'readonly' | 'readwrite'>,
  namespace: string,
  afterSeq: number,
  limit: number,
): Promise<string[]> {
  const store = blocks as IDBPObjectStore<EngramSchema, StoreName[], 'feedBlocks', 'readonly'>;
  const entries = await readBlocks(store, namespace, afterSeq, limit);
  return entries.map((e) => e.id);
}

/**
 * The change feed after `afterSeq`: memory entries live in feed blocks, link and tombstone entries on
 * their rows (see FeedEntry), so a page is the first `limit` of three reads merged by sequence number.
 */
export async function readFeed(
  tx: ReadTransaction,
  namespace: string,
  afterSeq: number,
  limit: number,
): Promise<ChangeEntry[]> {
  const range = namespaceRange(namespace, afterSeq);
  const [memories, links, tombstones] = await Promise.all([
    readBlocks(tx.objectStore('feedBlocks'), namespace, afterSeq, limit),
    tx.objectStore('links').index('feed').getAll(range, limit),
    tx.objectStore('tombstones').index('feed').getAll(range, limit),
  ]);
  const entries: ChangeEntry[] = [
    ...memories,
    ...links.map(({ seq, origin, link }) => ({ seq, entity: 'link' as const, id: link.id, origin })),
    ...tombstones.map(({ seq, origin, entity, id }) => ({ seq, entity, id, origin })),
  ];
  return entries.sort((a, b) => a.seq - b.seq).slice(0, limit);
}

/**
 * The feed side of one write transaction's memory rows: the entries it makes, written as one block at
 * the end, and the earlier entries it retires (of the rows it replaced or deleted).
 * Measured before choosing it (raw puts in Chromium, memory rows alone, 10 x 1000 per transaction):
 * rows without the `feed` index entry, their entries in one row per transaction, took 0.76x the wall
 * time; the browser process writes an index entry per row and index per put.
 */
export class FeedBlockWriter {
  private readonly seqs: number[] = [];
  private readonly ids: string[] = [];
  private origins = '';
  private readonly retired = new Set<number>();

  constructor(private readonly namespace: string) {}

  /** Entries made so far. */
  get size(): number {
    return this.seqs.length;
  }

  add(seq: number, id: string, origin: ChangeOrigin): void {
    this.seqs.push(seq);
    this.ids.push(id);
    this.origins += originCode(origin);
  }

  /** The entry numbered `seq`, in an earlier block or made here, is no longer its memory's. */
  retire(seq: number): void {
    this.retired.add(seq);
  }

  /**
   * Takes the retired entries out of their blocks (two reads: which block holds each, then each block
   * once) and hands the writes to `put` and `remove`, this transaction's block last.
   */
  async write(
    blocks: BlockStore,
    put: (block: FeedBlockRow, key: [string, number]) => void,
    remove: (key: [string, number]) => void,
  ): Promise<void> {
    const { namespace } = this;
    if (this.retired.size > 0) {
      const retired = [...this.retired];
      const holders = await Promise.all(
        retired.map((seq) => blocks.getKey(IDBKeyRange.bound([namespace, seq], [namespace, []]))),
      );
      const lasts = [...new Set(holders.filter((key) => key !== undefined).map(([, last]) => last))];
      const found = await Promise.all(lasts.map((last) => blocks.get([namespace, last])));
      found.forEach((block, i) => {
        if (!block) return;
        const key: [string, number] = [namespace, lasts[i]!];
        const kept = keepUnretired(block, this.retired);
        if (kept === block) return;
        if (kept.seqs.length === 0) remove(key);
        else put(kept, key);
      });
    }
    this.writeNew(put);
  }

  /**
   * Hands `put` the block of the entries made here, if any, without those a later write of the same
   * memory in this batch retired (one entry per memory, at its last change).
   */
  writeNew(put: (block: FeedBlockRow, key: [string, number]) => void): void {
    const made = { seqs: Float64Array.from(this.seqs), ids: this.ids.join(' '), origins: this.origins };
    const block = keepUnretired(made, this.retired);
    const last = block.seqs[block.seqs.length - 1];
    if (last === undefined) return;
    put(block, [this.namespace, last]);
  }
}

/** The block without its retired entries (the same object when it had none). */
function keepUnretired(block: FeedBlockRow, retired: ReadonlySet<number>): FeedBlockRow {
  const keep = Array.from(block.seqs, (seq) => !retired.has(seq));
  if (keep.every(Boolean)) return block;
  const ids = block.ids.split(' ');
  const at = keep.flatMap((kept, i) => (kept ? [i] : []));
  return {
    seqs: Float64Array.from(at, (i) => block.seqs[i]!),
    ids: at.map((i) => ids[i]).join(' '),
    origins: at.map((i) => block.origins[i]).join(''),
  };
}
