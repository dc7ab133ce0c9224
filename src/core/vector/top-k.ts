/**
 * The k best (slot, score) pairs seen so far, in two typed arrays reused across pushes: a min-heap on
 * score, so the worst kept is at the root and most candidates are rejected with one comparison.
 */
export class TopK {
  readonly slots: Int32Array;
  readonly scores: Float32Array;
  size = 0;

  constructor(readonly k: number) {
    this.slots = new Int32Array(k);
    this.scores = new Float32Array(k);
  }

  /** The score a candidate must beat to enter (−Infinity until k are kept). */
  get threshold(): number {
    return this.size < this.k ? Number.NEGATIVE_INFINITY : this.scores[0]!;
  }

  push(slot: number, score: number): void {
    const { slots, scores } = this;
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (scores[parent]! <= score) break;
        scores[i] = scores[parent]!;
        slots[i] = slots[parent]!;
        i = parent;
      }
      scores[i] = score;
      slots[i] = slot;
      return;
    }
    if (score <= scores[0]!) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.k) break;
      const right = left + 1;
      const child = right < this.k && scores[right]! < scores[left]! ? right : left;
      if (scores[child]! >= score) break;
      scores[i] = scores[child]!;
      slots[i] = slots[child]!;
      i = child;
    }
    scores[i] = score;
    slots[i] = slot;
  }

  /** Best first. */
  sorted(): Array<{ slot: number; score: number }> {
    const out: Array<{ slot: number; score: number }> = [];
    for (let i = 0; i < this.size; i++) out.push({ slot: this.slots[i]!, score: this.scores[i]! });
    return out.sort((a, b) => b.score - a.score || a.slot - b.slot);
  }
}
