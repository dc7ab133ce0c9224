import type { IDBPTransaction } from 'idb';
import type { TextPosting } from '../../core/types.js';
import { namespaceRange } from './keys.js';
import type { EngramSchema, StoreName, TermBlockRow } from './schema.js';
import { forEachTerm, splitIds } from './text-groups.js';

type ReadTransaction = IDBPTransaction<EngramSchema, StoreName[], 'readonly'>;
type BlockKey = [string, number, string];

/** A term asked for exactly, or every term starting with a prefix. */
interface Wanted {
  text: string;
  prefix: boolean;
}

const matches = (wanted: Wanted, term: string) =>
  wanted.prefix ? term.startsWith(wanted.text) : term === wanted.text;

/**
 * The blocks of one group that may hold `wanted`: the last block starting at or before it, and for a
 * prefix every later block starting inside the prefix. `firsts` is sorted and begins with ''.
 */
function blocksFor(firsts: readonly string[], wanted: Wanted): number[] {
  let last = 0;
  while (last + 1 < firsts.length && firsts[last + 1]! <= wanted.text) last++;
  const picked = [last];
  if (wanted.prefix) {
    for (let i = last + 1; i < firsts.length && firsts[i]!.startsWith(wanted.text); i++) picked.push(i);
  }
  return picked;
}

/**
 * Postings of exact terms and prefixes, in the order asked (as the reference store emits them). One
 * key read lists every block; then only the blocks that can hold a wanted term are read, and the
 * document tables of the groups that had hits.
 */
export async function readPostings(
  tx: ReadTransaction,
  namespace: string,
  terms: readonly string[],
  prefixes: readonly string[],
): Promise<TextPosting[]> {
  const wanted: Wanted[] = [
    ...terms.map((text) => ({ text, prefix: false })),
    ...prefixes.map((text) => ({ text, prefix: true })),
  ];
  if (wanted.length === 0) return [];
  const termStore = tx.objectStore('textTerms');
  const directory = new Map<number, string[]>();
  for (const [, group, first] of await termStore.getAllKeys(namespaceRange(namespace))) {
    const firsts = directory.get(group);
    if (firsts) firsts.push(first);
    else directory.set(group, [first]);
  }
  const needed = new Map<string, BlockKey>();
  for (const [group, firsts] of directory) {
    for (const w of wanted) {
      for (const i of blocksFor(firsts, w))
        needed.set(`${group}\u0000${firsts[i]}`, [namespace, group, firsts[i]!]);
    }
  }
  const keys = [...needed.values()];
  const blocks = await Promise.all(keys.map((key) => termStore.get(key)));
  // Per wanted entry, in order: [group, block, start, end, term] spans of matching postings.
  const spans: Array<Array<[number, TermBlockRow, number, number, string]>> = wanted.map(() => []);
  blocks.forEach((block, b) => {
    if (!block) return;
    const group = keys[b]![1];
    forEachTerm(block, (term, start, end) => {
      wanted.forEach((w, i) => {
        if (matches(w, term)) spans[i]!.push([group, block, start, end, term]);
      });
    });
  });
  const groupsHit = [...new Set(spans.flat().map(([group]) => group))];
  const tables = await Promise.all(
    groupsHit.map((group) => tx.objectStore('textGroups').get([namespace, group])),
  );
  const docsOf = new Map(
    groupsHit.map((group, i) => {
      const table = tables[i];
      return [
        group,
        table ? { ids: splitIds(table), lengths: table.lengths } : { ids: [], lengths: new Uint32Array() },
      ];
    }),
  );
  const out: TextPosting[] = [];
  for (const list of spans) {
    // A prefix's terms come in term order, like the reference store's sorted vocabulary.
    list.sort((a, b) => (a[4] < b[4] ? -1 : a[4] > b[4] ? 1 : 0));
    for (const [group, block, start, end, term] of list) {
      const docs = docsOf.get(group)!;
      for (let i = start; i < end; i++) {
        const slot = block.slots[i]!;
        out.push({ term, id: docs.ids[slot]!, tf: block.tfs[i]!, length: docs.lengths[slot]! });
      }
    }
  }
  return out;
}
