/** Mulberry32: a small seeded PRNG, so that an index trained twice on the same data is the same. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index of the centroid with the largest dot product with the row at `offset` of `data`. */
export function nearestCentroid(
  centroids: Float32Array,
  count: number,
  dims: number,
  data: Float32Array,
  offset: number,
): number {
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let c = 0, base = 0; c < count; c++, base += dims) {
    let dot = 0;
    for (let d = 0; d < dims; d++) dot += centroids[base + d]! * data[offset + d]!;
    if (dot > bestScore) {
      bestScore = dot;
      best = c;
    }
  }
  return best;
}

/**
 * Spherical k-means (centroids kept unit length, nearness by dot product) over `rows` unit vectors:
 * `count` centroids seeded from distinct rows, `rounds` Lloyd iterations; a centroid left empty is
 * moved onto a random row so no list ends up unused.
 */
export function kMeans(
  data: Float32Array,
  rows: number,
  dims: number,
  count: number,
  rounds: number,
  random: () => number,
): Float32Array {
  const centroids = new Float32Array(count * dims);
  const step = rows / count;
  for (let c = 0; c < count; c++) {
    const row = Math.floor(c * step);
    centroids.set(data.subarray(row * dims, (row + 1) * dims), c * dims);
  }
  const sums = new Float64Array(count * dims);
  const sizes = new Int32Array(count);
  for (let round = 0; round < rounds; round++) {
    sums.fill(0);
    sizes.fill(0);
    for (let row = 0; row < rows; row++) {
      const c = nearestCentroid(centroids, count, dims, data, row * dims);
      sizes[c]! += 1;
      for (let d = 0; d < dims; d++) sums[c * dims + d]! += data[row * dims + d]!;
    }
    for (let c = 0; c < count; c++) {
      if (sizes[c] === 0) {
        const row = Math.floor(random() * rows);
        centroids.set(data.subarray(row * dims, (row + 1) * dims), c * dims);
        continue;
      }
      let norm = 0;
      for (let d = 0; d < dims; d++) norm += sums[c * dims + d]! ** 2;
      const scale = norm === 0 ? 0 : 1 / Math.sqrt(norm);
      for (let d = 0; d < dims; d++) centroids[c * dims + d] = sums[c * dims + d]! * scale;
    }
  }
  return centroids;
}
