import { EngramError, validationError } from './errors.js';
import type { LinkWrite, MemoryWrite, Tombstone, WriteBatch } from './store-contract.js';
import { linkRecordToWrite, memoryRecordToWrite } from './sync/records.js';
import { parseSyncRequest } from './sync/validate.js';
import { parseLanguage } from './text/index.js';
import type { TransferEntry } from './transfer.js';
import { lineOf } from './transfer-jsonl.js';
import { namespaceSchema, parse } from './validate.js';

/** One kind of one namespace per batch keeps the target's change feed in the source's order. */
export const sameBatch = (a: TransferEntry, b: TransferEntry) =>
  a.namespace === b.namespace && a.type === b.type;

/** The store write of a run of record and tombstone entries. */
export function writeBatchOf(
  entries: readonly TransferEntry[],
): Required<Pick<WriteBatch, 'memories' | 'links' | 'tombstones'>> {
  const batch = { memories: [] as MemoryWrite[], links: [] as LinkWrite[], tombstones: [] as Tombstone[] };
  for (const entry of entries) {
    if (entry.type === 'memory') batch.memories.push(memoryRecordToWrite(entry.record));
    else if (entry.type === 'link') batch.links.push(linkRecordToWrite(entry.record));
    else if (entry.type === 'tombstone') batch.tombstones.push(entry.tombstone);
  }
  return batch;
}

export function validateKeyEntry(entry: Extract<TransferEntry, { type: 'key' }>, namespace: string): void {
  const line = lineOf.get(entry);
  try {
    parseSyncRequest({ key: { info: entry.info } }, namespace);
  } catch (error) {
    if (line === undefined || !(error instanceof EngramError)) throw error;
    throw new EngramError(
      error.code,
      `line.${line}.info: ${error.message.slice(error.message.indexOf(': ') + 2)}`,
      {
        field: `line.${line}.info`,
      },
    );
  }
}

/**
 * Checks what the entries say of their namespaces as they come: a language or key line names a valid
 * namespace, and a namespace's language comes before its records (an export writes it first) and once,
 * so that merge and restore read a dump alike.
 */
export class NamespaceLines {
  private readonly withRecords = new Set<string>();
  private readonly languages = new Map<string, string>();

  /** Returns false for a language line repeating the namespace's (nothing more to do). */
  check(entry: TransferEntry): boolean {
    if (entry.type !== 'language' && entry.type !== 'key') {
      this.withRecords.add(entry.namespace);
      return true;
    }
    const line = lineOf.get(entry);
    const at = line === undefined ? entry.namespace : `line.${line}`;
    parse(namespaceSchema, entry.namespace, `${at}.namespace`);
    if (entry.type === 'key') return true;
    const field = languageField(entry);
    parseLanguage(entry.language, field);
    const before = this.languages.get(entry.namespace);
    if (before !== undefined && before !== entry.language) {
      throw validationError(
        field,
        `the language already given for namespace '${entry.namespace}' ('${before}')`,
        `'${entry.language}'`,
      );
    }
    if (this.withRecords.has(entry.namespace)) {
      throw validationError(
        field,
        `namespace '${entry.namespace}''s language before its records, as an export writes it`,
        'it after them',
      );
    }
    this.languages.set(entry.namespace, entry.language);
    return before === undefined;
  }
}

/** Where a language entry's errors point: its line when read from JSON Lines. */
export function languageField(entry: TransferEntry): string {
  const line = lineOf.get(entry);
  return line === undefined ? `${entry.namespace}.language` : `line.${line}.language`;
}

/** The batch as the sync protocol parses it (instants in UTC's form), or the first bad line's error. */
export function validateBatch(
  batch: WriteBatch,
  namespace: string,
  entries: readonly TransferEntry[],
): WriteBatch {
  try {
    return parseSyncRequest({ push: batch }, namespace).push as WriteBatch;
  } catch (error) {
    const at = error instanceof EngramError ? /^sync\.push\.\w+\.(\d+)(.*)$/.exec(error.field ?? '') : null;
    const line = at ? lineOf.get(entries[Number(at[1])]!) : undefined;
    if (!at || line === undefined || !(error instanceof EngramError)) throw error;
    const field = `line.${line}${at[2]}`;
    throw new EngramError(error.code, `${field}: ${error.message.slice(error.message.indexOf(': ') + 2)}`, {
      field,
    });
  }
}
