import type { IDBPObjectStore } from 'idb';
import { indexText } from '../../core/text/index.js';
import { groupRange } from './keys.js';
import type { PendingRequests } from './pending-requests.js';
import type { EngramSchema, NamespaceStats, StoreName } from './schema.js';
import { decodeGroup, encodeGroup, GROUP_DOCS, type GroupDoc } from './text-groups.js';

type Mode = 'readwrite' | 'versionchange';
export interface TextStores {
  groups: IDBPObjectStore<EngramSchema, StoreName[], 'textGroups', Mode>;
  terms: IDBPObjectStore<EngramSchema, StoreName[], 'textTerms', Mode>;
}

/**
 * Stages one transaction's edits to the grouped inverted index and writes each touched group once.
 * New memories fill the namespace's open group, then new ones; a group that existed before is read,
 * edited and rewritten whole. `stats` (docs, tokens, open group) is updated as edits are staged.
 */
export class TextIndexWriter {
  private readonly added = new Map<number, GroupDoc[]>();
  private readonly removed = new Map<number, Set<string>>();
  /** Groups from this number on had no rows when the writer began... */
  private readonly firstNewGroup: number;
  /** ...except those it has already written out. */
  private readonly written = new Set<number>();

  constructor(
    private readonly stores: TextStores,
    private readonly namespace: string,
    private readonly stats: NamespaceStats,
    private readonly writes: PendingRequests,
  ) {
    this.firstNewGroup = stats.openGroupDocs === 0 ? stats.openGroup : stats.openGroup + 1;
  }

  /** Indexes a memory's text and returns the group that holds it. */
  add(id: string, content: string): number {
    const { length, terms } = indexText(content);
    if (this.stats.openGroupDocs >= GROUP_DOCS) this.closeOpenGroup();
    const group = this.stats.openGroup;
    this.stats.openGroupDocs += 1;
    this.stats.docs += 1;
    this.stats.tokens += length;
    const docs = this.added.get(group);
    if (docs) docs.push({ id, length, terms });
    else this.added.set(group, [{ id, length, terms }]);
    return group;
  }

  remove(id: string, group: number, content: string): void {
    this.stats.docs -= 1;
    this.stats.tokens -= indexText(content).length;
    if (group === this.stats.openGroup) this.stats.openGroupDocs -= 1;
    const staged = this.added.get(group);
    const at = staged ? staged.findIndex((doc) => doc.id === id) : -1;
    if (at >= 0) staged!.splice(at, 1);
    else this.removed.set(group, (this.removed.get(group) ?? new Set()).add(id));
  }

  /** A full group made entirely in this transaction is written at once, so huge batches stay small in memory. */
  private closeOpenGroup(): void {
    const closing = this.stats.openGroup;
    this.stats.openGroup += 1;
    this.stats.openGroupDocs = 0;
    if (closing < this.firstNewGroup || this.removed.has(closing)) return;
    this.writeGroup(closing, this.added.get(closing) ?? [], []);
    this.added.delete(closing);
    this.written.add(closing);
  }

  async flush(): Promise<void> {
    const touched = new Set([...this.added.keys(), ...this.removed.keys()]);
    await Promise.all(
      [...touched].map(async (group) => {
        const stored = group < this.firstNewGroup || this.written.has(group);
        const { docs, blockKeys } = stored ? await this.load(group) : { docs: [], blockKeys: [] };
        const gone = this.removed.get(group);
        const kept = gone ? docs.filter((doc) => !gone.has(doc.id)) : docs;
        this.writeGroup(group, [...kept, ...(this.added.get(group) ?? [])], blockKeys);
      }),
    );
  }

  private async load(group: number): Promise<{ docs: GroupDoc[]; blockKeys: [string, number, string][] }> {
    const range = groupRange(this.namespace, group);
    const [table, blocks, blockKeys] = await Promise.all([
      this.stores.groups.get([this.namespace, group]),
      this.stores.terms.getAll(range),
      this.stores.terms.getAllKeys(range),
    ]);
    return { docs: table ? decodeGroup(table, blocks) : [], blockKeys };
  }

  private writeGroup(group: number, docs: GroupDoc[], staleKeys: [string, number, string][]): void {
    const { groups, terms } = this.stores;
    const fresh = new Set<string>();
    if (docs.length === 0) {
      this.writes.track(groups.delete([this.namespace, group]));
    } else {
      const { table, blocks } = encodeGroup(docs);
      this.writes.track(groups.put(table, [this.namespace, group]));
      for (const [first, block] of blocks) {
        fresh.add(first);
        this.writes.track(terms.put(block, [this.namespace, group, first]));
      }
    }
    for (const key of staleKeys) if (!fresh.has(key[2])) this.writes.track(terms.delete(key));
  }
}
