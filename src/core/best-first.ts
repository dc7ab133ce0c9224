/**
 * Yields `items` best first (by `compare`, negative when `a` comes first) while ordering only what is
 * read: a binary heap built in linear time, then one pop per item taken. A search that needs the top
 * 10 of 30 000 candidates pays for 10 pops, not a full sort. Reorders `items` in place.
 */
export function* bestFirst<T>(items: T[], compare: (a: T, b: T) => number): Generator<T> {
  const heap = items;
  let size = heap.length;
  const siftDown = (start: number) => {
    let at = start;
    for (;;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let best = at;
      if (left < size && compare(heap[left]!, heap[best]!) < 0) best = left;
      if (right < size && compare(heap[right]!, heap[best]!) < 0) best = right;
      if (best === at) return;
      [heap[at], heap[best]] = [heap[best]!, heap[at]!];
      at = best;
    }
  };
  for (let at = (size >> 1) - 1; at >= 0; at--) siftDown(at);
  while (size > 0) {
    const top = heap[0]!;
    size--;
    heap[0] = heap[size]!;
    siftDown(0);
    yield top;
  }
}

/**
 * `bestFirst` for numbers ranked by `scores[number]`, highest first (equal scores in no set order): the
 * heap lives in `items`, a typed array, so ranking many candidates allocates nothing per candidate.
 * Reorders `items` in place.
 */
export function* bestFirstByScore(items: Int32Array, scores: Float64Array): Generator<number> {
  const heap = items;
  let size = heap.length;
  const siftDown = (start: number) => {
    let at = start;
    const item = heap[at]!;
    const score = scores[item]!;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= size) break;
      if (child + 1 < size && scores[heap[child + 1]!]! > scores[heap[child]!]!) child++;
      if (scores[heap[child]!]! <= score) break;
      heap[at] = heap[child]!;
      at = child;
    }
    heap[at] = item;
  };
  for (let at = (size >> 1) - 1; at >= 0; at--) siftDown(at);
  while (size > 0) {
    const top = heap[0]!;
    size--;
    heap[0] = heap[size]!;
    siftDown(0);
    yield top;
  }
}
