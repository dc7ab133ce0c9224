// A STAND-IN for an embedding model, for benchmarks only: no model can be downloaded here, so hybrid
// search is measured with this local, deterministic embedder. It is not semantic: it hashes each word's
// character trigrams (and the word itself) into a fixed number of signed dimensions ("feature hashing"),
// so texts sharing words or word pieces point the same way. It catches typos and word forms that exact
// terms miss, but knows no synonyms; a real model (see docs/embeddings.md) should do better.

/** Function words no stand-in embeds (also bench/fusion.mjs's word-vector average). */
export const STOP = new Set(
  'a an and are as at be but by did do does for from had has have he her his how i in is it its me my of on or our she so that the their them they this to was we were what when where which who why will with would you your'.split(
    ' ',
  ),
);

function hash(text) {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function standInEmbed(text, dims) {
  const vector = new Float64Array(dims);
  const words =
    text
      .normalize('NFKD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  const add = (feature, weight) => {
    const h = hash(feature);
    vector[h % dims] += h & 0x80000000 ? -weight : weight;
  };
  for (const word of words) {
    if (STOP.has(word)) continue;
    add(word, 1);
    const padded = `#${word}#`;
    for (let i = 0; i + 3 <= padded.length; i++) add(padded.slice(i, i + 3), 0.5);
  }
  const norm = Math.hypot(...vector) || 1;
  return Array.from(vector, (x) => x / norm);
}

/** An Embedder (see the Embedder interface in src/core) that is clearly not a model: id 'stand-in:hashed-trigrams'. */
export function standInEmbedder(dims = 512) {
  return {
    id: `stand-in:hashed-trigrams-${dims}`,
    dims,
    async embed(texts) {
      return texts.map((t) => standInEmbed(t, dims));
    },
  };
}
