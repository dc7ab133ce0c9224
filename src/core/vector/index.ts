export { HnswIndex, type HnswOptions } from './hnsw.js';
export { Int8Matrix } from './int8-matrix.js';
export { IvfIndex, type IvfOptions } from './ivf-index.js';
export { TopK } from './top-k.js';
export { VectorMatrix } from './vector-matrix.js';
export { parseVectorOptions, type VectorOptions } from './vector-options.js';
export { normalizeInto, type VectorHit, VectorRows } from './vector-rows.js';
