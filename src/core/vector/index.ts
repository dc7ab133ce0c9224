export { Int8Matrix } from './int8-matrix.js';
export { IvfIndex, type IvfOptions } from './ivf-index.js';
export { TopK } from './top-k.js';
export { normalizeInto, type VectorHit, VectorMatrix } from './vector-matrix.js';
