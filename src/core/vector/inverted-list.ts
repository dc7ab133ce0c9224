import type { TopK } from './top-k.js';

/**
 * One IVF list: its rows' slots and int8 codes (one scale per row) side by side in growable typed
 * arrays, so that a query scans one contiguous block. Removal moves the last row into the gap.
 */
export class InvertedList {
  slots = new Int32Array(8);
  codes: Int8Array;
  scales = new Float32Array(8);
  length = 0;

  constructor(readonly dims: number) {
    this.codes = new Int8Array(8 * dims);
  }

  get bytes(): number {
    return this.slots.length * (8 + this.dims);
  }

  /** Appends a unit row; returns its position. */
  push(slot: number, row: Float32Array): number {
    const { dims } = this;
    if (this.length === this.slots.length) this.grow();
    const at = this.length++;
    let max = 0;
    for (let d = 0; d < dims; d++) max = Math.max(max, Math.abs(row[d]!));
    const scale = max === 0 ? 0 : 127 / max;
    const base = at * dims;
    for (let d = 0; d < dims; d++) this.codes[base + d] = Math.round(row[d]! * scale);
    this.scales[at] = scale === 0 ? 0 : 1 / scale;
    this.slots[at] = slot;
    return at;
  }

  /** Removes the row at `at`; returns the slot moved into its place, if any. */
  removeAt(at: number): number | undefined {
    const last = --this.length;
    if (at === last) return undefined;
    const { dims } = this;
    this.codes.copyWithin(at * dims, last * dims, (last + 1) * dims);
    this.scales[at] = this.scales[last]!;
    this.slots[at] = this.slots[last]!;
    return this.slots[at];
  }

  scan(
    q: Float32Array,
    top: TopK,
    ids: ReadonlyArray<string | undefined>,
    accept: ((id: string) => boolean) | undefined,
  ): void {
    const { codes, scales, slots, dims } = this;
    for (let j = 0, base = 0; j < this.length; j++, base += dims) {
      let dot = 0;
      for (let d = 0; d < dims; d++) dot += q[d]! * codes[base + d]!;
      dot *= scales[j]!;
      if (dot <= top.threshold) continue;
      if (accept && !accept(ids[slots[j]!]!)) continue;
      top.push(slots[j]!, dot);
    }
  }

  private grow(): void {
    const capacity = this.slots.length * 2;
    const slots = new Int32Array(capacity);
    slots.set(this.slots);
    this.slots = slots;
    const scales = new Float32Array(capacity);
    scales.set(this.scales);
    this.scales = scales;
    const codes = new Int8Array(capacity * this.dims);
    codes.set(this.codes);
    this.codes = codes;
  }
}
