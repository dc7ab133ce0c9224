/**
 * Dense renumbering of a store's document numbers (integers below 2^53) for one search: an open-addressing
 * hash in typed arrays, sized for the postings read. A `Map` would hash each number as a heap double,
 * the costliest step of ranking tens of thousands of postings; slots over the numbers' whole range would
 * cost memory with the namespace rather than with the query.
 */
export class DocNumbering {
  /** The store's numbers, by dense index. */
  readonly keys: number[] = [];
  private readonly slotKeys: Float64Array;
  /** Dense index + 1 per slot; 0 for an empty slot. */
  private readonly slotValues: Int32Array;
  private readonly shift: number;
  private readonly mask: number;

  /** `most`: how many distinct numbers may be met at most (the count of postings read bounds it). */
  constructor(most: number) {
    let bits = 4;
    while (1 << bits < 2 * most) bits++;
    this.slotKeys = new Float64Array(1 << bits);
    this.slotValues = new Int32Array(1 << bits);
    this.shift = 32 - bits;
    this.mask = (1 << bits) - 1;
  }

  /** The dense index of `key`, given in order of first sight. */
  indexOf(key: number): number {
    // Fibonacci hashing of both 32-bit halves: consecutive numbers spread over the table.
    let slot = Math.imul((key >>> 0) ^ Math.floor(key / 4294967296), 0x9e3779b1) >>> this.shift;
    for (;;) {
      const held = this.slotValues[slot]!;
      if (held === 0) {
        const doc = this.keys.length;
        // The table is twice the promised size: filling it means the promise was broken.
        if (doc === this.mask) throw new RangeError(`DocNumbering met more than ${doc} numbers`);
        this.keys.push(key);
        this.slotKeys[slot] = key;
        this.slotValues[slot] = doc + 1;
        return doc;
      }
      if (this.slotKeys[slot] === key) return held - 1;
      slot = (slot + 1) & this.mask;
    }
  }
}
