import { canonicalJson } from './canonical-json.js';
import { EngramError } from './errors.js';
import type { TransferEntry } from './transfer.js';

/** Line numbers of entries read from JSON Lines, so a bad record is reported by its line. */
export const lineOf = new WeakMap<TransferEntry, number>();

export async function* toLines(entries: AsyncIterable<TransferEntry>): AsyncGenerator<string> {
  for await (const entry of entries) yield canonicalJson(entry);
}

export async function* parseLines(
  lines: AsyncIterable<string> | Iterable<string>,
): AsyncGenerator<TransferEntry> {
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
export function startReading<T>(items: AsyncIterable<T> | Iterable<T>): AsyncIterable<T> {
  const iterator: AsyncIterator<T> | Iterator<T> =
    Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  return { [Symbol.asyncIterator]: () => ({ next: async () => iterator.next() }) };
}
