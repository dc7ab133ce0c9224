import { compareIdsDesc } from '../filter.js';

/**
 * The k best (slot, score) pairs seen so far, in two typed arrays reused across pushes: a min-heap on
 * score, so the worst kept is at the root and most candidates are rejected with one comparison. Given the
 * slots' `ids`, equal scores rank by id, descending, as core orders them: which of many equal vectors are
 * kept never depends on the order of their slots (more ties than k kept the first slots, not the ids
 * every other store returns).
 */
export class TopK {
  readonly slots: Int32Array;
  readonly scores: Float32Array;
  size = 0;

  constructor(
    readonly k: number,
    private readonly ids?: ReadonlyArray<string | undefined>,
  ) {
    this.slots = new Int32Array(k);
    this.scores = new Float32Array(k);
  }

  /** The score a candidate must reach to enter (−Infinity until k are kept); equal enters only on a tie won. */
  get threshold(): number {
    return this.size < this.k ? Number.NEGATIVE_INFINITY : this.scores[0]!;
  }

  /** Whether (a, slotA) ranks below (b, slotB): a lower score or, with ids, an equal score and a lower id. */
  private below(a: number, slotA: number, b: number, slotB: number): boolean {
    if (a !== b || !this.ids) return a < b;
    return this.ids[slotA]! < this.ids[slotB]!;
  }

  push(slot: number, given: number): void {
    const { slots, scores } = this;
    // Compared as stored, so that equal scores meet as equal.
    const score = Math.fround(given);
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.below(score, slot, scores[parent]!, slots[parent]!)) break;
        scores[i] = scores[parent]!;
        slots[i] = slots[parent]!;
        i = parent;
      }
      scores[i] = score;
      slots[i] = slot;
      return;
    }
    if (!this.below(scores[0]!, slots[0]!, score, slot)) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.k) break;
      const right = left + 1;
      const child =
        right < this.k && this.below(scores[right]!, slots[right]!, scores[left]!, slots[left]!)
          ? right
          : left;
      if (!this.below(scores[child]!, slots[child]!, score, slot)) break;
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
    const { ids } = this;
    const tie = ids
      ? (a: number, b: number) => compareIdsDesc(ids[a]!, ids[b]!)
      : (a: number, b: number) => a - b;
    return out.sort((a, b) => b.score - a.score || tie(a.slot, b.slot));
  }
}
