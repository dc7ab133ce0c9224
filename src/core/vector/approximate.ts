// The approximate side of vector search (IVF, HNSW, int8 rows), loaded on demand by `loadApproximate`
// like the stemmers of languages other than English: an app on the default exact index never ships it.
export { HnswIndex } from './hnsw.js';
export { Int8Matrix } from './int8-matrix.js';
export { IvfIndex } from './ivf-index.js';
