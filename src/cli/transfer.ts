import { createReadStream, fstat } from 'node:fs';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { untilAborted } from '../core/abort.js';
import { errorMessage } from '../core/errors.js';
import type { MemoryStore } from '../core/store-contract.js';
import { exportEntries, exportJsonl, importEntries, importJsonl } from '../core/transfer.js';
import { type CliIo, Interrupted, SetupError, UsageError } from './io.js';
import { type JsonlFile, openJsonlFile, readLines, writeLines } from './lines.js';
import { type Progress, progressLine } from './progress.js';
import { type DatabaseUrl, mustExist, openStoreUrl, type StoreUrl } from './store-url.js';

export interface TransferPlan {
  verb: 'export' | 'import' | 'migrate';
  from: StoreUrl | 'stdin';
  to: StoreUrl | 'stdout';
  namespaces: string[] | undefined;
  batchSize: number;
  fromToken: string | undefined;
  toToken: string | undefined;
  /** `import --restore`: importJsonl's `mode: 'restore'`. */
  restore?: boolean;
}

/**
 * Moves everything between two ends with core's streaming functions: store → store with
 * exportEntries/importEntries, store → JSON Lines with exportJsonl, JSON Lines → store with importJsonl.
 * Stores are opened (and proved usable) before anything moves and always closed, which is when a
 * sql.js file is saved. Resolves with the exit code.
 */
export async function runTransfer(plan: TransferPlan, io: CliIo): Promise<number> {
  if (isLines(plan.from) && isLines(plan.to)) {
    throw new UsageError('both ends are JSON Lines: there is nothing to convert (copy the file instead)');
  }
  if (sameStore(plan.from, plan.to)) {
    throw new UsageError(
      `--from and --to are the same store (${(plan.to as DatabaseUrl).shown}): there is nothing to copy`,
    );
  }
  if (plan.from === 'stdin' && io.stdin.isTTY) {
    throw new UsageError(
      'expects JSON Lines on stdin, e.g. engram import --to sqlite:./memory.db < dump.jsonl',
    );
  }
  const opened: MemoryStore[] = [];
  const open = async (url: DatabaseUrl, role: 'source' | 'target', token: string | undefined) => {
    const store = await openStoreUrl(url, { role, token, namespaces: plan.namespaces });
    opened.push(store);
    return store;
  };
  let failure: unknown;
  let progress: Progress | undefined;
  let moved = 0;
  let input: Readable | undefined;
  let toFile: JsonlFile | undefined;
  try {
    const totalBytes = await inputSize(plan.from, io);
    // Stores first: a file is opened for reading only once both ends are known to work.
    const { from, to } = plan;
    const fromStore = isLines(from) ? undefined : await open(from, 'source', plan.fromToken);
    const toStore = isLines(to) ? undefined : await open(to, 'target', plan.toToken);
    toFile = to !== 'stdout' && isLines(to) ? await openTargetFile(to) : undefined;
    const bar = progressLine(io.terminal, plan.verb, totalBytes);
    progress = bar;
    const onProgress = ({ namespace, done }: { namespace: string; done: number }) => {
      moved = done;
      bar.update(done, namespace);
    };
    const options = { namespaces: plan.namespaces, batchSize: plan.batchSize };

    if (fromStore && toStore) {
      const entries = stoppable(exportEntries(fromStore, options), io.stop);
      await importEntries(toStore, entries, { batchSize: plan.batchSize, onProgress });
    } else if (fromStore && isLines(to)) {
      let namespace = '';
      const lines = exportJsonl(fromStore, { ...options, onProgress: (p) => (namespace = p.namespace) });
      const output = counted(stoppable(lines, io.stop), () => {
        moved++;
        bar.update(moved, namespace);
      });
      await (toFile ? toFile.write(output, io.stop) : writeLines(io.stdout, output, io.stop));
    } else if (toStore && isLines(from)) {
      input = inputOf(from, io);
      const lines = stoppable(readLines(input, bar.read), io.stop);
      const result = await importJsonl(toStore, onlyNamespaces(lines, plan.namespaces), {
        batchSize: plan.batchSize,
        onProgress,
        mode: plan.restore ? 'restore' : 'merge',
      });
      for (const [id, revived] of Object.entries(result.renamed ?? {})) {
        io.err(`restored ${id} as ${revived} (the id was deleted after the dump; ids are never reused)`);
      }
    }
  } catch (error) {
    // A pipeline aborted by the signal says AbortError; to the user it is the same interruption.
    failure = io.stop.aborted && !(error instanceof Interrupted) ? interrupted(io.stop) : error;
  }
  input?.destroy();
  await toFile?.discard();
  for (const store of opened.reverse()) {
    try {
      await store.close();
    } catch (error) {
      failure ??= error;
    }
  }
  progress?.end(failure === undefined);
  if (failure === undefined) return 0;
  throw explain(failure, moved);
}

/** Both ends name one database: it would be opened twice (a sqlite: file is refused as locked). */
function sameStore(from: StoreUrl | 'stdin', to: StoreUrl | 'stdout'): boolean {
  if (typeof from === 'string' || typeof to === 'string' || from.kind !== to.kind) return false;
  if (from.kind === 'sqlite' || from.kind === 'pglite' || from.kind === 'jsonl')
    return from.path === (to as typeof from).path;
  const key = (url: string) => url.replace(/\/+$/, '');
  return key(from.url) === key((to as typeof from).url);
}

/** True for the ends that carry JSON Lines rather than a store: stdin, stdout, `jsonl:` files. */
function isLines<E extends StoreUrl | 'stdin' | 'stdout'>(end: E): end is Exclude<E, DatabaseUrl> {
  return typeof end === 'string' || end.kind === 'jsonl';
}

function inputOf(from: Exclude<StoreUrl, DatabaseUrl> | 'stdin', io: CliIo): Readable {
  return from === 'stdin' ? io.stdin : createReadStream(from.path);
}

/** A `jsonl:` target, checked before anything moves: a directory, or one no file can be made in, is exit 2. */
async function openTargetFile(to: Exclude<StoreUrl, DatabaseUrl>): Promise<JsonlFile> {
  try {
    return await openJsonlFile(to.path);
  } catch (error) {
    throw new SetupError(`cannot write ${to.shown}: ${errorMessage(error)}`);
  }
}

/** The size of the input when it is a file (`jsonl:` or stdin redirected from one), for a percentage. */
async function inputSize(from: StoreUrl | 'stdin', io: CliIo): Promise<number | undefined> {
  if (from !== 'stdin') return from.kind === 'jsonl' ? mustExist(from.path, from.shown) : undefined;
  const fd = (io.stdin as { fd?: unknown }).fd;
  if (typeof fd !== 'number') return undefined;
  const info = await promisify(fstat)(fd).catch(() => undefined);
  return info?.isFile() ? info.size : undefined;
}

/**
 * Ends the copy on SIGINT/SIGTERM even while waiting for input that may never come (an idle pipe): each
 * wait is raced against the signal. Entries already written stay written.
 */
async function* stoppable<T>(items: AsyncIterable<T>, stop: AbortSignal): AsyncGenerator<T> {
  const iterator = items[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await untilAborted(iterator.next(), stop, () => interrupted(stop));
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Not awaited: a source blocked on a read settles only when its stream is destroyed.
    iterator.return?.()?.catch(() => {});
  }
}

function interrupted(stop: AbortSignal): Interrupted {
  return new Interrupted(
    `interrupted by ${String(stop.reason ?? 'a signal')}: what was copied is kept; re-run to finish (imports are idempotent)`,
  );
}

async function* counted<T>(items: AsyncIterable<T>, onItem: () => void): AsyncGenerator<T> {
  for await (const item of items) {
    yield item;
    onItem();
  }
}

/**
 * Lines of other namespaces become blank lines rather than disappearing, so importJsonl's error
 * messages still give the line's number in the file. A line that does not parse passes through for
 * importJsonl to report.
 */
async function* onlyNamespaces(
  lines: AsyncIterable<string>,
  namespaces: string[] | undefined,
): AsyncGenerator<string> {
  if (!namespaces) return yield* lines;
  const wanted = new Set(namespaces);
  for await (const line of lines) {
    let namespace: unknown;
    try {
      namespace = (JSON.parse(line) as { namespace?: unknown }).namespace;
    } catch {
      yield line;
      continue;
    }
    yield typeof namespace === 'string' && !wanted.has(namespace) ? '' : line;
  }
}

/** A failure once data is moving is exit 1 (even a VALIDATION of a bad line), with how far it got. */
function explain(failure: unknown, moved: number): unknown {
  if (failure instanceof UsageError || failure instanceof SetupError || failure instanceof Interrupted) {
    return failure;
  }
  const message = errorMessage(failure);
  const progress = moved > 0 ? ` (after ${moved} entries; re-running is safe)` : '';
  return new Error(`${message}${progress}`, { cause: failure });
}
