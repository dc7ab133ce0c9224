// A deterministic corpus shared by every benchmark: memories of 10-60 words with tags, words drawn
// from a Zipf-like vocabulary so that some terms are common and most are rare, as in real notes.

/** A small seeded PRNG, so every benchmark's data is the same on every run. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ne',
  'ru',
  'sa',
  'ti',
  'vo',
  'ze',
  'ba',
  'do',
  'fi',
  'gu',
  'ha',
  'je',
  'pu',
  'qua',
  'ster',
  'ing',
  'tion',
];

function vocabulary(size, random) {
  const words = new Set();
  while (words.size < size) {
    const n = 2 + Math.floor(random() * 3);
    let w = '';
    for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    words.add(w);
  }
  return [...words];
}

/**
 * Words per memory, `min,max` (BENCH_WORDS; default 10,60). Shorter memories weigh each memory's fixed
 * cost (its id, clocks and index entries) against less text: see BENCHMARKS.md, session 38.
 */
const [MIN_WORDS, MAX_WORDS] = (process.env.BENCH_WORDS ?? '10,60').split(',').map(Number);
if (
  !(Number.isInteger(MIN_WORDS) && Number.isInteger(MAX_WORDS) && MIN_WORDS >= 1 && MIN_WORDS <= MAX_WORDS)
) {
  throw new Error(
    `BENCH_WORDS must be two whole numbers min,max with 1 <= min <= max, got ${process.env.BENCH_WORDS}`,
  );
}

export function makeCorpus(count, seed = 42) {
  const random = mulberry32(seed);
  const words = vocabulary(8000, random);
  const tags = ['work', 'home', 'health', 'travel', 'food', 'music', 'code', 'family', 'money', 'books'];
  const kinds = ['note', 'fact', 'preference', 'event'];
  // Zipf-ish: index = floor(size * u^3) favours the head of the vocabulary.
  const pick = () => words[Math.floor(words.length * random() ** 3)];
  const items = [];
  for (let i = 0; i < count; i++) {
    const length = MIN_WORDS + Math.floor(random() * (MAX_WORDS - MIN_WORDS + 1));
    const content = Array.from({ length }, pick).join(' ');
    const tagCount = 1 + Math.floor(random() * 3);
    items.push({
      content,
      kind: kinds[i % kinds.length],
      tags: [...new Set(Array.from({ length: tagCount }, () => tags[Math.floor(random() * tags.length)]))],
    });
  }
  const queries = Array.from({ length: 100 }, (_, q) => {
    const terms = 1 + (q % 3);
    // Mid-frequency words: not the very head (stop-word-like), not singletons.
    return Array.from({ length: terms }, () => words[50 + Math.floor(random() * 1500)]).join(' ');
  });
  return { items, queries, words };
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function median(values) {
  return percentile(values, 50);
}

/** Milliseconds taken by an async function. */
export async function time(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}
