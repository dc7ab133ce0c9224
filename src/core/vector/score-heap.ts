/**
 * A growable binary heap of (slot, score) pairs in typed arrays, reused across searches: `best` pops
 * the highest score first (a graph search's frontier), `worst` keeps the lowest at the root (its
 * result set, which drops its worst member when full).
 */
export class ScoreHeap {
  slots = new Int32Array(64);
  keys = new Float64Array(64);
  size = 0;
  private readonly sign: number;

  constructor(order: 'best' | 'worst') {
    this.sign = order === 'best' ? -1 : 1;
  }

  clear(): void {
    this.size = 0;
  }

  /** The root's score. */
  get topScore(): number {
    return this.keys[0]! * this.sign;
  }

  get topSlot(): number {
    return this.slots[0]!;
  }

  push(slot: number, score: number): void {
    if (this.size === this.slots.length) this.grow();
    const key = score * this.sign;
    const { slots, keys } = this;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent]! < key || (keys[parent] === key && slots[parent]! < slot)) break;
      keys[i] = keys[parent]!;
      slots[i] = slots[parent]!;
      i = parent;
    }
    keys[i] = key;
    slots[i] = slot;
  }

  /** Removes the root; returns its slot. */
  pop(): number {
    const { slots, keys } = this;
    const top = slots[0]!;
    const last = --this.size;
    const key = keys[last]!;
    const slot = slots[last]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= last) break;
      const right = child + 1;
      if (
        right < last &&
        (keys[right]! < keys[child]! || (keys[right] === keys[child] && slots[right]! < slots[child]!))
      )
        child = right;
      if (keys[child]! > key || (keys[child] === key && slots[child]! > slot)) break;
      keys[i] = keys[child]!;
      slots[i] = slots[child]!;
      i = child;
    }
    keys[i] = key;
    slots[i] = slot;
    return top;
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2);
    slots.set(this.slots);
    this.slots = slots;
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    this.keys = keys;
  }
}
