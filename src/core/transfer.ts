import * as v from 'valibot';
import { canonicalJson } from './canonical-json.js';
import { readChangeStates } from './change-states.js';
import type { KeyInfo } from './crypto/cipher.js';
import { KEY_INFO_META, readKeyInfo } from './crypto/namespace-key.js';
import { EngramError, validationError } from './errors.js';
import { adoptLanguage } from './language.js';
import type { Json } from './model.js';
import { type NamespaceDump, type RestoreResult, restoreNamespace } from './restore.js';
import type {
  LinkRecord,
  LinkWrite,
  MemoryRecord,
  MemoryStore,
  MemoryWrite,
  Tombstone,
  WriteBatch,
} from './store-contract.js';
import { linkRecordToWrite, memoryRecordToWrite } from './sync/records.js';
import { parseSyncRequest } from './sync/validate.js';
import { LANGUAGE_META, parseLanguage } from './text/index.js';
import { LIMITS, namespaceSchema, parse } from './validate.js';

/** One line of an export: a live record (with its clocks) or a tombstone, in change-feed order. */
export type TransferEntry =
  | { type: 'memory'; namespace: string; record: MemoryRecord }
  | { type: 'link'; namespace: string; record: LinkRecord }
  | { type: 'tombstone'; namespace: string; tombstone: Tombstone }
  /** An end-to-end encrypted namespace's key info, before its records: the records stay sealed. */
  | { type: 'key'; namespace: string; info: KeyInfo }
  /**
   * The language a namespace is indexed in, first of its lines when it has one recorded. An import
   * gives it to a target namespace that has no language and no memory yet (`adoptLanguage`).
   */
  | { type: 'language'; namespace: string; language: string };

export interface TransferOptions {
  /** Only these namespaces (default: every namespace the source holds). */
  namespaces?: string[];
  /** Entities read per store call; memory use stays bounded by it. */
  batchSize?: number;
  onProgress?: (progress: { namespace: string; done: number }) => void;
  /**
   * `merge` (default): records merge with the target's by clock. `restore`: each namespace of the dump
   * ends up equal to it (later edits overwritten, later additions removed, deletions brought back).
   */
  mode?: 'merge' | 'restore';
}

export interface ImportResult {
  imported: number;
  /** With `mode: 'restore'`: records deleted since the dump, by old id, with the id they came back under. */
  renamed?: Record<string, string>;
  /** With `mode: 'restore'`: records the target had and the dump did not, now removed. */
  removed?: number;
}

/**
 * Reads the whole dump (records by id per namespace), checking every line as a merge would, then restores
 * each namespace it names. Nothing is written until the whole dump has been read and found valid.
 */
async function restoreEntries(
  store: MemoryStore,
  entries: AsyncIterable<TransferEntry> | Iterable<TransferEntry>,
  onProgress: TransferOptions['onProgress'],
): Promise<ImportResult> {
  const dumps = new Map<string, NamespaceDump>();
  const keys: Array<Extract<TransferEntry, { type: 'key' }>> = [];
  const firstLanguage = new Map<string, Extract<TransferEntry, { type: 'language' }>>();
  let group: TransferEntry[] = [];
  const check = () => {
    if (group.length > 0) validateBatch(writeBatchOf(group), group[0]!.namespace, group);
    group = [];
  };
  const lines = new NamespaceLines();
  const dumpOf = (namespace: string) => {
    let dump = dumps.get(namespace);
    if (!dump) {
      dump = { memories: new Map(), links: new Map(), tombstones: [] };
      dumps.set(namespace, dump);
    }
    return dump;
  };
  for await (const entry of entries) {
    lines.check(entry);
    if (entry.type === 'key' || entry.type === 'language') {
      // A namespace the dump names holds what the dump holds of it, nothing included.
      dumpOf(entry.namespace);
      if (entry.type === 'key') {
        validateKeyEntry(entry, entry.namespace);
        keys.push(entry);
      } else if (!firstLanguage.has(entry.namespace)) {
        firstLanguage.set(entry.namespace, entry);
      }
      continue;
    }
    if (group.length > 0 && !sameBatch(group[0]!, entry)) check();
    group.push(entry);
    if (group.length >= LIMITS.batch) check();
    const dump = dumpOf(entry.namespace);
    if (entry.type === 'memory') dump.memories.set(entry.record.memory.id, entry.record);
    else if (entry.type === 'link') dump.links.set(entry.record.link.id, entry.record);
    else dump.tombstones.push(entry.tombstone);
  }
  check();
  for (const entry of firstLanguage.values()) {
    await adoptLanguage(store, entry.namespace, entry.language, languageField(entry));
  }
  for (const key of keys) {
    await store.apply(key.namespace, { meta: { [KEY_INFO_META]: key.info as unknown as Json } });
  }
  const total: Required<ImportResult> = { imported: 0, renamed: {}, removed: 0 };
  for (const [namespace, dump] of dumps) {
    const result: RestoreResult = await restoreNamespace(store, namespace, dump);
    total.imported += result.restored;
    total.removed += result.removed;
    Object.assign(total.renamed, result.renamed);
    onProgress?.({ namespace, done: total.imported });
  }
  return total;
}

/** One kind of one namespace per batch keeps the target's change feed in the source's order. */
const sameBatch = (a: TransferEntry, b: TransferEntry) => a.namespace === b.namespace && a.type === b.type;

/** The store write of a run of record and tombstone entries. */
function writeBatchOf(
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

const DEFAULT_BATCH = 500;

const transferOptionsSchema = v.strictObject(
  {
    namespaces: v.optional(
      v.array(
        v.string('expected a namespace name'),
        'expected an array of namespace names, e.g. ["user-42"]',
      ),
    ),
    onProgress: v.optional(v.function('expected a function')),
    batchSize: v.optional(
      v.pipe(
        v.number('expected a number'),
        v.integer('expected an integer'),
        v.minValue(1, 'expected 1 or more'),
      ),
    ),
    mode: v.optional(v.picklist(['merge', 'restore'], "expected 'merge' or 'restore'")),
  },
  'expected an options object with namespaces, batchSize, onProgress or mode',
);

/**
 * Checks the options every transfer takes (errors name the function: `exportJsonl.batchSize`,
 * `importJsonl.mode`) and returns the batch size: a zero, fractional or NaN size would end an export
 * early or differently on each store, an unknown mode would silently merge.
 */
function batchSizeOf(options: TransferOptions, where: string, reading = true): number {
  const { batchSize, namespaces } = parse(transferOptionsSchema, options, where);
  // An import takes what the dump holds: a namespace filter there would be silently ignored.
  if (!reading && namespaces !== undefined) {
    throw validationError(`${where}.namespaces`, 'no namespaces option (filter the lines before importing)');
  }
  return Math.min(batchSize ?? DEFAULT_BATCH, LIMITS.batch);
}

/**
 * Streams every record and tombstone of a store in change-feed order, batch by batch, so a
 * million-memory export holds one batch in memory at a time. Bad options throw at the call.
 */
export function exportEntries(
  store: MemoryStore,
  options: TransferOptions = {},
  where = 'exportEntries',
): AsyncGenerator<TransferEntry> {
  return readEntries(store, options, batchSizeOf(options, where));
}

async function* readEntries(
  store: MemoryStore,
  options: TransferOptions,
  size: number,
): AsyncGenerator<TransferEntry> {
  await store.open();
  for (const namespace of options.namespaces ?? (await store.namespaces())) {
    const language = await store.getMeta(namespace, LANGUAGE_META);
    if (language !== undefined && language !== null)
      yield { type: 'language', namespace, language: String(language) };
    const info = await readKeyInfo(store, namespace);
    if (info) yield { type: 'key', namespace, info };
    for (let after = 0; ; ) {
      const page = await store.changes(namespace, after, size);
      if (page.length === 0) break;
      for (const { memory, link, tombstone } of await readChangeStates(store, namespace, page)) {
        if (tombstone) yield { type: 'tombstone', namespace, tombstone };
        else if (memory) yield { type: 'memory', namespace, record: memory };
        else if (link) yield { type: 'link', namespace, record: link };
      }
      after = page[page.length - 1]!.seq;
      options.onProgress?.({ namespace, done: after });
      if (page.length < size) break;
    }
  }
}

/** Writes entries into a store in batches; re-running it is harmless (writes merge by clock). */
export async function importEntries(
  store: MemoryStore,
  entries: AsyncIterable<TransferEntry> | Iterable<TransferEntry>,
  options: Pick<TransferOptions, 'batchSize' | 'onProgress' | 'mode'> = {},
  where = 'importEntries',
): Promise<ImportResult> {
  const size = batchSizeOf(options, where, false);
  await store.open();
  if (options.mode === 'restore') return restoreEntries(store, entries, options.onProgress);
  let pending: TransferEntry[] = [];
  let imported = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const { namespace } = pending[0]!;
    const batch = writeBatchOf(pending);
    // Imported files are input like any other: the sync protocol's rules check every record.
    await store.apply(namespace, validateBatch(batch, namespace, pending));
    imported += pending.length;
    pending = [];
    options.onProgress?.({ namespace, done: imported });
  };
  const lines = new NamespaceLines();
  for await (const entry of entries) {
    const fresh = lines.check(entry);
    if (entry.type === 'key') {
      await flush();
      validateKeyEntry(entry, entry.namespace);
      await store.apply(entry.namespace, { meta: { [KEY_INFO_META]: entry.info as unknown as Json } });
      continue;
    }
    if (entry.type === 'language') {
      await flush();
      if (fresh) await adoptLanguage(store, entry.namespace, entry.language, languageField(entry));
      continue;
    }
    if (pending.length > 0 && !sameBatch(pending[0]!, entry)) await flush();
    pending.push(entry);
    // Written as soon as it is full, not when the next entry comes: a bad line or an interrupt while
    // reading on must not take a complete batch down with it.
    if (pending.length >= size) await flush();
  }
  await flush();
  return { imported };
}

function validateKeyEntry(entry: Extract<TransferEntry, { type: 'key' }>, namespace: string): void {
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
class NamespaceLines {
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
function languageField(entry: TransferEntry): string {
  const line = lineOf.get(entry);
  return line === undefined ? `${entry.namespace}.language` : `line.${line}.language`;
}

/** Line numbers of entries read from JSON Lines, so a bad record is reported by its line. */
const lineOf = new WeakMap<TransferEntry, number>();

/** The batch as the sync protocol parses it (instants in UTC's form), or the first bad line's error. */
function validateBatch(batch: WriteBatch, namespace: string, entries: readonly TransferEntry[]): WriteBatch {
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

/**
 * Exports a store as JSON Lines: one canonical line per record or tombstone, lossless (ids,
 * timestamps, clocks, embeddings, links, tombstones). Export → import → export gives identical lines.
 *
 * @example
 * for await (const line of exportJsonl(store)) process.stdout.write(`${line}\n`);
 */
export function exportJsonl(store: MemoryStore, options: TransferOptions = {}): AsyncGenerator<string> {
  return toLines(exportEntries(store, options, 'exportJsonl'));
}

async function* toLines(entries: AsyncIterable<TransferEntry>): AsyncGenerator<string> {
  for await (const entry of entries) yield canonicalJson(entry);
}

async function* parseLines(lines: AsyncIterable<string> | Iterable<string>): AsyncGenerator<TransferEntry> {
  let number = 0;
  for await (const read of lines) {
    number++;
    // A byte order mark before the first line (a file read with readline keeps it).
    const line = number === 1 && read.startsWith('\ufeff') ? read.slice(1) : read;
    if (line.trim() === '') continue;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch (cause) {
      throw new EngramError(
        'VALIDATION',
        `line ${number}: expected JSON, got ${JSON.stringify(line.slice(0, 40))}`,
        {
          field: `line.${number}`,
          cause,
        },
      );
    }
    if (!hasEntryShape(entry)) {
      throw new EngramError(
        'VALIDATION',
        `line ${number}: expected an Engram export entry (type memory with record.memory and record.clocks, link with record.link and record.clocks, tombstone, key with info, or language)`,
        {
          field: `line.${number}`,
        },
      );
    }
    lineOf.set(entry, number);
    yield entry;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function hasEntryShape(entry: unknown): entry is TransferEntry {
  if (!isObject(entry) || typeof entry.namespace !== 'string') return false;
  const record = entry.record;
  if (entry.type === 'memory') return isObject(record) && isObject(record.memory) && isObject(record.clocks);
  if (entry.type === 'link') return isObject(record) && isObject(record.link) && isObject(record.clocks);
  if (entry.type === 'key') return isObject(entry.info);
  if (entry.type === 'language') return 'language' in entry;
  return entry.type === 'tombstone' && isObject(entry.tombstone);
}

/**
 * Takes the source's iterator at once: some sources (a `readline` interface) drop what they emit
 * before someone iterates, and the import first waits for the store to open.
 */
function startReading<T>(items: AsyncIterable<T> | Iterable<T>): AsyncIterable<T> {
  const iterator: AsyncIterator<T> | Iterator<T> =
    Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  return { [Symbol.asyncIterator]: () => ({ next: async () => iterator.next() }) };
}

/** Imports JSON Lines written by `exportJsonl`; idempotent, so an interrupted import can simply be re-run. */
export function importJsonl(
  store: MemoryStore,
  lines: AsyncIterable<string> | Iterable<string>,
  options: Pick<TransferOptions, 'batchSize' | 'onProgress' | 'mode'> = {},
): Promise<ImportResult> {
  return importEntries(store, parseLines(startReading(lines)), options, 'importJsonl');
}

/** Copies everything from one store to another, streamed in batches; safe to re-run. */
export async function migrate(
  from: MemoryStore,
  to: MemoryStore,
  options: TransferOptions = {},
): Promise<{ imported: number }> {
  // Progress counts imported entries; the export's own progress (feed positions) is not mixed in.
  const { onProgress, ...read } = options;
  return importEntries(to, exportEntries(from, read, 'migrate'), {
    batchSize: options.batchSize,
    onProgress,
  });
}
