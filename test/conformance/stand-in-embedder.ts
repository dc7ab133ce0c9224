import type { Embedder } from '../../src/index.js';
import { tokenize } from '../../src/store/index.js';

/**
 * A deterministic stand-in for a real model (none can be downloaded here): each token adds 1 to the
 * dimension its hash picks, then the vector is normalised. Texts sharing words point the same way, so
 * nearest-neighbour results are predictable.
 */
export function hashEmbed(text: string, dims: number): number[] {
  const vector = new Array<number>(dims).fill(0);
  for (const token of tokenize(text)) {
    let h = 2166136261;
    for (let i = 0; i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 16777619);
    vector[(h >>> 0) % dims]! += 1;
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((x) => x / norm);
}

export interface StandInEmbedder extends Embedder {
  /** Every call's texts, in order. */
  calls: string[][];
  /** While set, every call rejects: with an Error of this message, or with this error itself. */
  failWith: string | Error | null;
  /** While set, every call waits for it before answering. */
  hold: Promise<void> | null;
}

export function standInEmbedder(id = 'stand-in-a', dims = 32): StandInEmbedder {
  const embedder: StandInEmbedder = {
    id,
    dims,
    calls: [],
    failWith: null,
    hold: null,
    async embed(texts) {
      embedder.calls.push([...texts]);
      if (embedder.hold) await embedder.hold;
      const { failWith } = embedder;
      if (failWith) throw typeof failWith === 'string' ? new Error(failWith) : failWith;
      return texts.map((t) => hashEmbed(t, dims));
    },
  };
  return embedder;
}
