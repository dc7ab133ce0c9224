import { EngramError } from '../errors.js';
import { seededRandom } from './k-means.js';
import { ScoreHeap } from './score-heap.js';
import { TopK } from './top-k.js';
import { VectorMatrix } from './vector-matrix.js';
import type { VectorHit, VectorRows } from './vector-rows.js';

export interface HnswOptions {
  /** Links per node on the upper layers, twice as many on the base layer (default 16). */
  m?: number;
  /** Candidates weighed when linking a new node (default 40): more builds slower and finds better. */
  efConstruction?: number;
  /** Candidates a query keeps while walking the base layer (default 64, at least k). */
  efSearch?: number;
  /** Seed of the level generator, so that the same writes build the same graph (default 1). */
  seed?: number;
  /**
   * At most this many milliseconds of linking per search (default: no limit); rows not linked yet are
   * scanned exactly, so a search after a bulk load or a reopen costs about an exact scan plus this,
   * and the graph fills in over the next searches.
   */
  linkMs?: number;
}

/**
 * Approximate search by a hierarchical navigable small-world graph (HNSW, Malkov & Yashunin): each
 * vector is a node linked to near ones on layer 0 and, with a probability falling by 1/m per layer, on
 * sparser layers above; a query walks greedily down from the top and then keeps the `efSearch` best
 * nodes seen while walking layer 0, visiting a few thousand vectors instead of all of them.
 *
 * Written here because no maintained library fits Node, browsers and Workers alike: `hnswlib-wasm` is
 * compiled for the web only (it throws "not compiled for this environment" in Node), `usearch` and
 * `hnswlib-node` are native Node addons, and the pure-TypeScript `hnsw` package is CommonJS, has no
 * deletion and keeps every vector and neighbour list as JS arrays (it is the bench's ANN peer).
 *
 * The vectors stay in the store's matrix (Float32 or int8), which must not reuse freed slots: a node
 * is its slot. A deleted node keeps its row and links and goes on routing queries, but is never
 * returned; the owner rebuilds the graph once deleted nodes are a large share ({@link deletedShare}).
 * Rows written since the last search are linked in at the next one ({@link catchUp}), so writes stay
 * as cheap as the matrix's and a bulk load is linked in one pass. Neighbour lists are typed arrays:
 * the base layer one block of `2m + 1` ints per node (count, then slots) with the links' similarities
 * beside it; a full list keeps its `2m` nearest when a new link arrives.
 */
export class HnswIndex {
  private readonly m: number;
  private readonly m0: number;
  private readonly efConstruction: number;
  private readonly efSearch: number;
  private readonly linkMs: number;
  private readonly mL: number;
  private readonly random: () => number;
  private links0 = new Int32Array(0);
  private sims0 = new Float32Array(0);
  private readonly upper: Array<Int32Array | undefined> = [];
  private readonly upperSims: Array<Float32Array | undefined> = [];
  /** Top layer of each slot's node; −1 when the slot is not in the graph. */
  private levels = new Int8Array(0);
  private visited = new Uint32Array(0);
  private epoch = 0;
  private entry = -1;
  private top = -1;
  /** Slots below this one have been through {@link catchUp}. */
  private indexed = 0;
  private data: Float32Array | undefined;
  private readonly frontier = new ScoreHeap('best');
  private readonly found = new ScoreHeap('worst');
  private readonly row: Float32Array;
  private readonly other: Float32Array;
  /** Milliseconds spent linking nodes in, over the index's life. */
  buildMs = 0;

  constructor(
    readonly matrix: VectorRows,
    options: HnswOptions = {},
  ) {
    if (matrix.recycle) {
      throw new EngramError(
        'VALIDATION',
        'matrix: an HNSW graph needs rows that keep their slots (create the matrix with recycle = false)',
        { field: 'matrix' },
      );
    }
    this.m = options.m ?? 16;
    this.m0 = this.m * 2;
    this.efConstruction = options.efConstruction ?? 40;
    this.efSearch = options.efSearch ?? 64;
    this.linkMs = options.linkMs ?? Number.POSITIVE_INFINITY;
    this.mL = 1 / Math.log(Math.max(2, this.m));
    this.random = seededRandom(options.seed ?? 1);
    this.row = new Float32Array(matrix.dims);
    this.other = new Float32Array(matrix.dims);
  }

  /** Nodes deleted from the matrix over all slots: the graph's dead weight. */
  get deletedShare(): number {
    const { rows, size } = this.matrix;
    return rows === 0 ? 0 : (rows - size) / rows;
  }

  /** Rows written since the last {@link catchUp}. */
  get pending(): number {
    return this.matrix.rows - this.indexed;
  }

  /** Bytes held by the graph (the vectors are the matrix's). */
  get bytes(): number {
    let bytes = this.links0.byteLength + this.sims0.byteLength + this.levels.byteLength;
    bytes += this.visited.byteLength;
    for (const links of this.upper) bytes += links ? links.byteLength * 2 : 0;
    return bytes;
  }

  /**
   * Links the rows written since the last call into the graph, in slot order (so the graph does not
   * depend on how the work was split), for at most `budgetMs`.
   */
  catchUp(budgetMs = Number.POSITIVE_INFINITY): void {
    const rows = this.matrix.rows;
    if (this.indexed >= rows) return;
    const started = performance.now();
    this.ensure(rows);
    this.data = this.matrix instanceof VectorMatrix ? this.matrix.data : undefined;
    const { ids } = this.matrix;
    let slot = this.indexed;
    while (slot < rows) {
      if (ids[slot] !== undefined) this.insert(slot);
      slot += 1;
      if ((slot & 15) === 0 && performance.now() - started >= budgetMs) break;
    }
    this.indexed = slot;
    this.buildMs += performance.now() - started;
  }

  /**
   * The k best live rows by the graph walk, best first, with their stored similarity; `accept` filters
   * during the walk (rejected nodes still route). `ef` overrides `efSearch`; it is at least k.
   */
  search(vector: ArrayLike<number>, k: number, accept?: (id: string) => boolean, ef?: number): VectorHit[] {
    const q = this.matrix.query(vector);
    this.catchUp(this.linkMs);
    if (k <= 0) return [];
    this.data = this.matrix instanceof VectorMatrix ? this.matrix.data : undefined;
    const best = new TopK(k);
    if (this.entry >= 0) {
      let ep = this.entry;
      let epSim = this.sim(q, ep);
      for (let level = this.top; level > 0; level--) [ep, epSim] = this.greedy(q, ep, epSim, level);
      this.walk(q, ep, epSim, Math.max(k, ef ?? this.efSearch), 0, accept, false);
      const { found } = this;
      while (found.size > 0) {
        const score = found.topScore;
        best.push(found.pop(), score);
      }
    }
    // Rows the link budget left for later are scanned exactly.
    const { ids, rows } = this.matrix;
    for (let slot = this.indexed; slot < rows; slot++) {
      const id = ids[slot];
      if (id === undefined) continue;
      const sim = this.sim(q, slot);
      if (sim > best.threshold && (!accept || accept(id))) best.push(slot, sim);
    }
    return this.matrix.hits(best);
  }

  private insert(slot: number): void {
    const level = Math.min(15, Math.floor(-Math.log(1 - this.random()) * this.mL));
    this.levels[slot] = level;
    this.links0[slot * (this.m0 + 1)] = 0;
    if (level > 0) {
      this.upper[slot] = new Int32Array(level * (this.m + 1));
      this.upperSims[slot] = new Float32Array(level * this.m);
    }
    const q = this.row;
    this.matrix.rowInto(slot, q);
    if (this.entry < 0) {
      this.entry = slot;
      this.top = level;
      return;
    }
    let ep = this.entry;
    let epSim = this.sim(q, ep);
    for (let l = this.top; l > level; l--) [ep, epSim] = this.greedy(q, ep, epSim, l);
    for (let l = Math.min(level, this.top); l >= 0; l--) {
      this.walk(q, ep, epSim, this.efConstruction, l, undefined, true);
      const { found } = this;
      const count = found.size;
      const slots = new Int32Array(count);
      const sims = new Float64Array(count);
      for (let i = count - 1; i >= 0; i--) {
        sims[i] = found.topScore;
        slots[i] = found.pop();
      }
      const chosen = this.diverse(slots, sims, this.m);
      for (const i of chosen) {
        this.link(slot, slots[i]!, sims[i]!, l);
        this.link(slots[i]!, slot, sims[i]!, l);
      }
      ep = slots[0]!;
      epSim = sims[0]!;
    }
    if (level > this.top) {
      this.entry = slot;
      this.top = level;
    }
  }

  /**
   * The neighbour-selection heuristic: candidates (best first) kept unless closer to one already kept
   * than to the new node, so links reach out to other clusters instead of piling into one.
   */
  private diverse(slots: Int32Array, sims: Float64Array, max: number): number[] {
    const chosen: number[] = [];
    for (let i = 0; i < slots.length && chosen.length < max; i++) {
      let keep = true;
      for (const j of chosen) {
        if (this.simSlots(slots[i]!, slots[j]!) > sims[i]!) {
          keep = false;
          break;
        }
      }
      if (keep) chosen.push(i);
    }
    return chosen;
  }

  /** Adds `to` to `from`'s list on `level`; a full list drops its farthest link if `to` is nearer. */
  private link(from: number, to: number, sim: number, level: number): void {
    let links: Int32Array;
    let sims: Float32Array;
    let base: number;
    let simBase: number;
    let max: number;
    if (level === 0) {
      links = this.links0;
      sims = this.sims0;
      max = this.m0;
      base = from * (max + 1);
      simBase = from * max;
    } else {
      links = this.upper[from]!;
      sims = this.upperSims[from]!;
      max = this.m;
      base = (level - 1) * (max + 1);
      simBase = (level - 1) * max;
    }
    const count = links[base]!;
    if (count < max) {
      links[base + 1 + count] = to;
      sims[simBase + count] = sim;
      links[base] = count + 1;
      return;
    }
    let worst = 0;
    for (let i = 1; i < max; i++) if (sims[simBase + i]! < sims[simBase + worst]!) worst = i;
    if (sims[simBase + worst]! >= sim) return;
    links[base + 1 + worst] = to;
    sims[simBase + worst] = sim;
  }

  /** Moves to a nearer neighbour on `level` until none is nearer. */
  private greedy(q: Float32Array, ep: number, epSim: number, level: number): [number, number] {
    for (let moved = true; moved; ) {
      moved = false;
      const links = this.upper[ep];
      if (!links || level > this.levels[ep]!) break;
      const base = (level - 1) * (this.m + 1);
      for (let i = 1, count = links[base]!; i <= count; i++) {
        const next = links[base + i]!;
        const sim = this.sim(q, next);
        if (sim > epSim) {
          epSim = sim;
          ep = next;
          moved = true;
        }
      }
    }
    return [ep, epSim];
  }

  /**
   * The best-first walk of one layer from `ep`, leaving the `ef` best nodes in `found`. Deleted and
   * rejected nodes are walked through but not kept unless `all`; with few accepted the walk goes on
   * until `ef` are found or the layer is exhausted, so a strict filter costs at most an exact scan.
   */
  private walk(
    q: Float32Array,
    ep: number,
    epSim: number,
    ef: number,
    level: number,
    accept: ((id: string) => boolean) | undefined,
    all: boolean,
  ): void {
    const { frontier, found, visited, levels } = this;
    const { ids } = this.matrix;
    if (++this.epoch === 0xffffffff) {
      visited.fill(0);
      this.epoch = 1;
    }
    const epoch = this.epoch;
    const keeps = (slot: number) => {
      if (all) return true;
      const id = ids[slot];
      return id !== undefined && (!accept || accept(id));
    };
    frontier.clear();
    found.clear();
    visited[ep] = epoch;
    frontier.push(ep, epSim);
    if (keeps(ep)) found.push(ep, epSim);
    const m = level === 0 ? this.m0 : this.m;
    while (frontier.size > 0) {
      if (found.size >= ef && frontier.topScore < found.topScore) break;
      const current = frontier.pop();
      const links = level === 0 ? this.links0 : this.upper[current];
      if (!links) continue;
      const base = level === 0 ? current * (m + 1) : (level - 1) * (m + 1);
      for (let i = 1, count = links[base]!; i <= count; i++) {
        const next = links[base + i]!;
        if (visited[next] === epoch || levels[next]! < level) continue;
        visited[next] = epoch;
        const sim = this.sim(q, next);
        if (found.size < ef || sim > found.topScore) {
          frontier.push(next, sim);
          if (keeps(next)) {
            found.push(next, sim);
            if (found.size > ef) found.pop();
          }
        }
      }
    }
  }

  private sim(q: Float32Array, slot: number): number {
    const { data } = this;
    if (!data) return this.matrix.score(q, slot);
    return dotAt(q, 0, data, slot * q.length, q.length);
  }

  private simSlots(a: number, b: number): number {
    const { data } = this;
    if (!data) {
      this.matrix.rowInto(a, this.other);
      return this.matrix.score(this.other, b);
    }
    const dims = this.matrix.dims;
    return dotAt(data, a * dims, data, b * dims, dims);
  }

  private ensure(rows: number): void {
    if (rows <= this.levels.length) return;
    const capacity = Math.max(rows, this.levels.length * 2, 64);
    const links0 = new Int32Array(capacity * (this.m0 + 1));
    links0.set(this.links0);
    this.links0 = links0;
    const sims0 = new Float32Array(capacity * this.m0);
    sims0.set(this.sims0);
    this.sims0 = sims0;
    const levels = new Int8Array(capacity).fill(-1);
    levels.set(this.levels);
    this.levels = levels;
    this.visited = new Uint32Array(capacity);
    this.epoch = 0;
  }
}

/** Dot product of two rows, four lanes at a time (about twice the speed of one accumulator in V8). */
function dotAt(a: Float32Array, baseA: number, b: Float32Array, baseB: number, dims: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  for (const end = dims - 3; d < end; d += 4) {
    s0 += a[baseA + d]! * b[baseB + d]!;
    s1 += a[baseA + d + 1]! * b[baseB + d + 1]!;
    s2 += a[baseA + d + 2]! * b[baseB + d + 2]!;
    s3 += a[baseA + d + 3]! * b[baseB + d + 3]!;
  }
  for (; d < dims; d++) s0 += a[baseA + d]! * b[baseB + d]!;
  return s0 + s1 + s2 + s3;
}
