/**
 * Dense renumbering of a store's document numbers (integers below 2^53) for one search, in order of first
 * sight, so that ranking keeps per-document values in typed arrays: an open-addressing hash in typed
 * arrays, sized for the postings read. A `Map` would hash each number as a heap double; slots over the
 * numbers' whole range would cost memory with the namespace rather than with the query. The numbers met
 * are kept in a typed array too, and a whole list is numbered per call: pushing tens of thousands of
 * numbers onto a JS array, one call per posting, cost as much as the hashing (at a million memories, half
 * of ranking a query's ~20K postings).
 */
export class DocNumbering {
  private readonly seen: Float64Array;
  private count = 0;
  private readonly slotKeys: Float64Array;
  /** Dense index + 1 per slot; 0 for an empty slot. */
  private readonly slotValues: Int32Array;
  private readonly shift: number;
  private readonly mask: number;

  /** `most`: how many distinct numbers may be met at most (the count of postings read bounds it). */
  constructor(most: number) {
    let bits = 4;
    while (1 << bits < 2 * most) bits++;
    this.seen = new Float64Array(most);
    this.slotKeys = new Float64Array(1 << bits);
    this.slotValues = new Int32Array(1 << bits);
    this.shift = 32 - bits;
    this.mask = (1 << bits) - 1;
  }

  /** The store's numbers, by dense index. */
  get keys(): Float64Array {
    return this.seen.subarray(0, this.count);
  }

  /** Writes the dense index of each of `docs` into `out`, from `at` on. */
  number(docs: ArrayLike<number>, out: Int32Array, at: number): void {
    const { seen, slotKeys, slotValues, shift, mask } = this;
    let count = this.count;
    for (let i = 0; i < docs.length; i++, at++) {
      const key = docs[i]!;
      // Fibonacci hashing of both 32-bit halves: consecutive numbers spread over the table.
      let slot = Math.imul((key >>> 0) ^ Math.floor(key / 4294967296), 0x9e3779b1) >>> shift;
      for (;;) {
        const held = slotValues[slot]!;
        if (held === 0) {
          // More numbers than promised would overflow `seen`, then fill the table.
          if (count === seen.length) throw new RangeError(`DocNumbering met more than ${count} numbers`);
          seen[count] = key;
          slotKeys[slot] = key;
          out[at] = count++;
          slotValues[slot] = count;
          break;
        }
        if (slotKeys[slot] === key) {
          out[at] = held - 1;
          break;
        }
        slot = (slot + 1) & mask;
      }
    }
    this.count = count;
  }
}
