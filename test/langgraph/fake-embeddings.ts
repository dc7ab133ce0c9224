import { Embeddings } from '@langchain/core/embeddings';

/**
 * Deterministic embeddings for tests: each text maps to a vector from its character codes, so equal
 * texts embed equally and different texts (almost always) differently. Records every call.
 */
export class CountingEmbeddings extends Embeddings {
  readonly documentCalls: string[][] = [];
  readonly queryCalls: string[] = [];

  constructor(readonly dims = 4) {
    super({});
  }

  vector(text: string): number[] {
    const v = new Array<number>(this.dims).fill(0);
    for (let i = 0; i < text.length; i++) v[i % this.dims]! += ((text.charCodeAt(i) * (i + 7)) % 97) - 40;
    return v;
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    this.documentCalls.push(texts);
    return texts.map((t) => this.vector(t));
  }

  async embedQuery(text: string): Promise<number[]> {
    this.queryCalls.push(text);
    return this.vector(text);
  }
}

/** Embeddings that point each known word along its own axis: similarity is predictable by hand. */
export class WordEmbeddings extends Embeddings {
  constructor(readonly words: string[]) {
    super({});
  }

  private vector(text: string): number[] {
    const lower = text.toLowerCase();
    return this.words.map((w) => (lower.includes(w) ? 1 : 0));
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map((t) => this.vector(t));
  }

  async embedQuery(text: string): Promise<number[]> {
    return this.vector(text);
  }
}
