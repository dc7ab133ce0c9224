import { bytesToBase64 } from '../core/base64.js';
/**
 * An item's embeddings, one per indexed field, kept in its memory's metadata as base64 of float64:
 * exact (scores equal LangGraph's own to the last bit) and a third the size of JSON numbers, so several
 * 1536-dimension fields fit in the 64 KiB of metadata.
 */
export type FieldVectors = Record<string, string>;

export function encodeVector(vector: ArrayLike<number>): string {
  return bytesToBase64(new Uint8Array(Float64Array.from(vector).buffer));
}

export function decodeVector(text: string): number[] {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return Array.from(new Float64Array(bytes.buffer));
}

/** Cosine similarity; 0 when either vector has no length (as LangGraph's InMemoryStore scores it). */
export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < b.length; i++) dot += b[i]! * a[i]!;
  for (const x of a) na += x * x;
  for (const x of b) nb += x * x;
  const ma = Math.sqrt(na);
  const mb = Math.sqrt(nb);
  return ma && mb ? dot / (ma * mb) : 0;
}
