import { EngramError } from '../errors.js';

/**
 * Which stored embeddings a query vector is compared with, by length. One of another length comes from
 * another model (or another setting of one, e.g. a `dimensions` option): it is skipped, never scored,
 * and counted with the other models' embeddings (SearchReport.otherModels, the EMBEDDING_MODEL_MISMATCH
 * warning). Only when none of the embeddings compared has the query's length is the query itself wrong:
 * VALIDATION naming `vector`. Every store's vector search tallies the same way, so all agree.
 */
export class LengthTally {
  private matched = false;
  private readonly others = new Set<number>();
  /** Embeddings of another length seen so far. */
  skipped = 0;

  constructor(readonly dims: number) {}

  /** Whether `count` embeddings of `length` (null: unknown) are compared; if not, they are counted. */
  admits(length: number | null, count = 1): boolean {
    if (count <= 0) return false;
    if (length === this.dims) {
      this.matched = true;
      return true;
    }
    if (length !== null) this.others.add(length);
    this.skipped += count;
    return false;
  }

  /** The embeddings skipped; VALIDATION when every embedding seen had another length. */
  settle(): number {
    if (this.matched || this.skipped === 0) return this.skipped;
    const lengths = [...this.others].sort((a, b) => a - b);
    const expected =
      lengths.length > 1 ? `${lengths.slice(0, -1).join(', ')} or ${lengths.at(-1)}` : (lengths[0] ?? 'the');
    throw new EngramError(
      'VALIDATION',
      `vector: expected ${expected} dimensions like the stored embeddings, got ${this.dims}`,
      { field: 'vector' },
    );
  }
}
