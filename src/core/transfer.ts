import * as v from 'valibot';
import { feedPages, readChangeStates } from './change-states.js';
import type { KeyInfo } from './crypto/cipher.js';
import { KEY_INFO_META, readKeyInfo } from './crypto/namespace-key.js';
import { validationError } from './errors.js';
import { adoptLanguage } from './language.js';
import type { Json } from './model.js';
import type { LinkRecord, MemoryRecord, MemoryStore, Tombstone } from './store-contract.js';
import { LANGUAGE_META } from './text/index.js';
import {
  languageField,
  NamespaceLines,
  sameBatch,
  validateBatch,
  validateKeyEntry,
  writeBatchOf,
} from './transfer-checks.js';
import { parseLines, startReading, toLines } from './transfer-jsonl.js';
import { restoreEntries } from './transfer-restore.js';
import { LIMITS, parse } from './validate.js';

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
  /** After each batch: `done` is the running total of records (memories, links, tombstones) read or written. */
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
  // Progress counts the records read (as an import counts those it wrote), not feed positions.
  let done = 0;
  for (const namespace of options.namespaces ?? (await store.namespaces())) {
    const language = await store.getMeta(namespace, LANGUAGE_META);
    if (language !== undefined && language !== null)
      yield { type: 'language', namespace, language: String(language) };
    const info = await readKeyInfo(store, namespace);
    if (info) yield { type: 'key', namespace, info };
    for await (const page of feedPages(store, namespace, 0, size)) {
      for (const { memory, link, tombstone } of await readChangeStates(store, namespace, page)) {
        if (tombstone) yield { type: 'tombstone', namespace, tombstone };
        else if (memory) yield { type: 'memory', namespace, record: memory };
        else if (link) yield { type: 'link', namespace, record: link };
        else continue;
        done++;
      }
      options.onProgress?.({ namespace, done });
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
  // Progress counts imported entries; the export's own count of entries read is not mixed in.
  const { onProgress, ...read } = options;
  return importEntries(to, exportEntries(from, read, 'migrate'), {
    batchSize: options.batchSize,
    onProgress,
  });
}
