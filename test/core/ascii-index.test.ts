import { describe, expect, it } from 'vitest';
import { makeCorpus, mulberry32 } from '../../bench/corpus.mjs';
import { ENGLISH, STEM_CACHE_LIMIT } from '../../src/core/text/analyzer.js';
import { indexText, visitIndexTerms, wordKey } from '../../src/core/text/tokenize.js';
import { cjkRunEnds } from '../../src/core/text/words.js';

/** The generic path, word by word through the English analyzer: what the ASCII fast path must equal. */
function reference(text: string): { length: number; terms: Array<[string, number]> } {
  const terms = new Map<string, number>();
  const words: string[] = [];
  const length = ENGLISH.words(text, (word, term) => {
    terms.set(term, (terms.get(term) ?? 0) + 1);
    terms.set(wordKey(word), (terms.get(wordKey(word)) ?? 0) + 1);
    words.push(word);
  });
  // The run ends of CJK pairs are word keys too, uncounted in the length (cjkRunEnd), added here after
  // the words: the index counts one when it reaches the next word, the same order for these texts.
  for (const last of cjkRunEnds(words)) terms.set(wordKey(last), (terms.get(wordKey(last)) ?? 0) + 1);
  return { length, terms: [...terms] };
}

function fast(text: string): { length: number; terms: Array<[string, number]> } {
  const { length, terms } = indexText(text);
  return { length, terms: [...terms] };
}

function visited(text: string): { length: number; terms: Array<[string, number]> } {
  const terms: Array<[string, number]> = [];
  const length = visitIndexTerms(text, undefined, (term, count) => terms.push([term, count]));
  return { length, terms };
}

const random = mulberry32(7);
const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
const ALPHABET = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'];
const JOINERS = [' ', '  ', ', ', '. ', '-', "'", '\n', '\t', '_', '@', '\u0000', '\u007f', '~', '"', '*'];
const STEMMED = [
  'running',
  'runs',
  'run',
  'RUNNER',
  'Connection',
  'connected',
  'connects',
  'ponies',
  'caresses',
];

function randomWord(): string {
  const roll = random();
  if (roll < 0.3) return pick(STEMMED);
  const length = roll < 0.05 ? 60 + Math.floor(random() * 20) : 1 + Math.floor(random() * 12);
  return Array.from({ length }, () => pick(ALPHABET)).join('');
}

function randomText(): string {
  const words = Array.from({ length: Math.floor(random() * 40) }, randomWord);
  return words.map((word) => word + pick(JOINERS)).join(random() < 0.5 ? '' : pick(JOINERS));
}

describe('English indexing of ASCII text (the fast path) equals the word-by-word path', () => {
  it('on the bench corpus', () => {
    for (const { content } of makeCorpus(2000).items) expect(fast(content)).toEqual(reference(content));
  });

  it('on random ASCII: case, digits, punctuation, control characters, words over 64 letters, shared stems', () => {
    for (let i = 0; i < 3000; i++) {
      const text = randomText();
      expect(fast(text), JSON.stringify(text)).toEqual(reference(text));
    }
  });

  it('on edge cases', () => {
    const long = 'x'.repeat(70);
    for (const text of [
      '',
      '   ',
      '!!!',
      'A',
      'a1 A1 a1',
      `${long}a ${long}b ${long}`,
      'Run, run; RUNNING runs.',
    ]) {
      expect(fast(text)).toEqual(reference(text));
    }
    // Two words over 64 letters sharing their first 64 share one key as written, counted together.
    expect(fast(`${long}a ${long}b`).terms).toContainEqual([wordKey(long), 2]);
  });

  it('stays exact after its table of words fills up and is dropped', () => {
    const words = Array.from({ length: STEM_CACHE_LIMIT + 5000 }, (_, i) => `w${i.toString(36)}x`);
    for (let i = 0; i < words.length; i += 500) {
      const text = `${words.slice(i, i + 500).join(' ')} ${words[i]} ${words[0]}`;
      expect(fast(text)).toEqual(reference(text));
    }
  });

  it('stays exact when the letters of long unique words fill the table (8 MiB) and it is dropped', () => {
    // 1,000 words of 10,000 letters: the table is dropped by its letters, far below its word limit.
    for (let t = 0; t < 50; t++) {
      const words = Array.from({ length: 20 }, (_, i) =>
        `${(t * 20 + i).toString(36)}z`.repeat(5000).slice(0, 10_000),
      );
      const text = `${words.join(' ')} ${words[0]} short`;
      expect(fast(text)).toEqual(reference(text));
    }
  });

  it('tells apart words of one length and one hash (its letters are compared)', () => {
    // FNV-1a gives each pair one 32-bit hash (found by a search over 7-letter words).
    const pairs: Array<[string, string]> = [
      ['aasoevc', 'aaitfxq'],
      ['aasoeva', 'aaitfxs'],
    ];
    for (const [a, b] of pairs) {
      const text = `${a} ${b} ${a} note`;
      expect(fast(text)).toEqual(reference(text));
      expect(fast(`${b} ${b}`).terms).toContainEqual([wordKey(b), 2]);
    }
  });

  it('keeps a text’s keys when its visitor makes the table drop meanwhile', () => {
    const filler = Array.from({ length: STEM_CACHE_LIMIT }, (_, i) => `f${i.toString(36)}q`).join(' ');
    const terms: Array<[string, number]> = [];
    const length = visitIndexTerms('alpha beta alpha', undefined, (term, count) => {
      indexText(filler);
      // The table now holds its limit of words: indexing the next text drops it first.
      indexText('gamma delta');
      terms.push([term, count]);
    });
    expect({ length, terms }).toEqual(reference('alpha beta alpha'));
    expect(fast('alpha gamma')).toEqual(reference('alpha gamma'));
  });

  it('hands visitIndexTerms the same terms in the same order, ASCII or not', () => {
    for (const text of [
      'The runner ran; runners run.',
      'Café crème, naïve',
      '東京都に住む',
      'mixed ASCII and é',
    ]) {
      expect(visited(text)).toEqual(fast(text));
      expect(visited(text)).toEqual(reference(text));
    }
  });

  it('keeps a text’s counts when its visitor indexes another text meanwhile', () => {
    const terms: Array<[string, number]> = [];
    const length = visitIndexTerms('alpha beta alpha', undefined, (term, count) => {
      indexText('alpha gamma alpha alpha');
      terms.push([term, count]);
    });
    expect({ length, terms }).toEqual(reference('alpha beta alpha'));
  });
});
