import { describe, expect, it } from 'vitest';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import type { DocPostingList, TextStats } from '../../src/core/store-contract.js';
import { createMemory, type Memory } from '../../src/index.js';

/** Counts the text-index reads core makes; `together` adds `docPostingsWithStats`. */
class CountingStore extends SqlJsStore {
  readonly calls: string[] = [];

  override textStats(namespace: string): Promise<TextStats> {
    this.calls.push('textStats');
    return super.textStats(namespace);
  }

  override docPostings(namespace: string, terms: readonly string[], prefixes: readonly string[]) {
    this.calls.push('docPostings');
    return super.docPostings(namespace, terms, prefixes);
  }
}

class TogetherStore extends CountingStore {
  async docPostingsWithStats(
    namespace: string,
    terms: readonly string[],
    prefixes: readonly string[],
  ): Promise<{ stats: TextStats; lists: DocPostingList[] }> {
    this.calls.push('docPostingsWithStats');
    // The uncounted reads: only core's calls are recorded.
    const [stats, lists] = await Promise.all([
      SqlJsStore.prototype.textStats.call(this, namespace),
      SqlJsStore.prototype.docPostings.call(this, namespace, terms, prefixes),
    ]);
    return { stats, lists };
  }
}

const CONTENTS = [
  'dark roast coffee in the morning',
  'green tea after lunch',
  'coffee with oat milk',
  'a long walk before coffee and tea',
  'morning run by the river',
];

const ranked = (hits: { memory: Memory; score: number }[]) => hits.map((h) => [h.memory.content, h.score]);

describe("docPostingsWithStats: the statistics with a search's first read of postings", () => {
  it('is asked instead of textStats, a typo correction reading its postings alone, with the same results', async () => {
    const plain = new CountingStore();
    const together = new TogetherStore();
    const mems = await Promise.all([plain, together].map((store) => createMemory({ store, namespace: 'n' })));
    for (const mem of mems) await mem.addMany(CONTENTS.map((content) => ({ content })));
    for (const query of ['coffee', 'morning tea', 'cofee', 'walk*']) {
      plain.calls.length = 0;
      together.calls.length = 0;
      const [a, b] = await Promise.all(mems.map((mem) => mem.search(query)));
      expect(ranked(b!)).toEqual(ranked(a!));
      expect(a!.length).toBeGreaterThan(0);
      const corrected = query === 'cofee';
      expect(plain.calls.sort()).toEqual(
        corrected ? ['docPostings', 'docPostings', 'textStats'] : ['docPostings', 'textStats'],
      );
      expect(together.calls).toEqual(
        corrected ? ['docPostingsWithStats', 'docPostings'] : ['docPostingsWithStats'],
      );
    }
    await Promise.all(mems.map((mem) => mem.close()));
  });
});
