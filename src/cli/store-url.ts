import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PostgresStore, postgresJs } from '../backends/postgres/index.js';
import { lockedPglite } from '../backends/postgres/pglite.js';
import { filePersistence, SqlJsStore } from '../backends/sqljs/index.js';
import { errorMessage, isEngramError, withoutUserinfo } from '../core/errors.js';
import type { MemoryStore } from '../core/store-contract.js';
import { checkEdgeUrl } from '../core/validate.js';
import { ChunkedRemoteStore } from './chunked-remote-store.js';
import { SetupError, UsageError } from './io.js';
import { withoutCredentials } from './open-store.js';

/** Where data comes from or goes to, as named on the command line. */
export type StoreUrl =
  | { kind: 'postgres'; url: string; shown: string }
  | { kind: 'sqlite'; path: string; shown: string }
  | { kind: 'pglite'; path: string; shown: string }
  | { kind: 'http'; url: string; shown: string }
  | { kind: 'jsonl'; path: string; shown: string };

export type DatabaseUrl = Exclude<StoreUrl, { kind: 'jsonl' }>;

const EXPECTED = 'postgres://user@host/db, sqlite:./file.db, pglite:./dir, http(s)://host, or jsonl:./file';

/**
 * sql.js keeps the whole database in memory and saves it whole: saving every few seconds during a bulk
 * import would rewrite the file over and over. The CLI saves once, on close; an interrupted import is
 * simply re-run (imports are idempotent).
 */
const SAVE_ON_CLOSE_MS = 2_000_000_000;

/** Reads a `<store>` flag; a mistake is a UsageError naming the flag. Paths resolve against `cwd`. */
export function parseStoreUrl(value: string, flag: string, cwd: string): StoreUrl {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined || /^[a-z]:[\\/]/i.test(value)) {
    throw new UsageError(
      `${flag}: expected a store URL (${EXPECTED}), got ${JSON.stringify(value)}${suggestion(value)}`,
    );
  }
  const rest = value.slice(scheme.length + 1);
  switch (scheme) {
    case 'postgres':
    case 'postgresql':
      checkUrl(value, flag);
      return { kind: 'postgres', url: value, shown: withoutCredentials(value) };
    case 'http':
    case 'https':
      edgeUrlFlag(value, flag);
      return { kind: 'http', url: value, shown: shownEdgeUrl(value) };
    case 'sqlite':
    case 'pglite':
    case 'jsonl': {
      // `sqlite:///abs/file.db` (the SQLAlchemy form) and `sqlite:./file.db` both name a path.
      const path = rest.startsWith('//') ? rest.slice(2) : rest;
      if (path === '')
        throw new UsageError(
          scheme === 'pglite'
            ? `${flag}: pglite: needs a directory, e.g. pglite:./data (engram serve's --data)`
            : `${flag}: ${scheme}: needs a file path, e.g. ${scheme}:./data.${scheme === 'sqlite' ? 'db' : 'jsonl'}`,
        );
      return { kind: scheme, path: resolve(cwd, path), shown: value };
    }
    default:
      throw new UsageError(`${flag}: unknown store URL scheme "${scheme}:" (expected ${EXPECTED})`);
  }
}

function checkUrl(value: string, flag: string): void {
  if (!URL.canParse(value))
    throw new UsageError(`${flag}: not a valid URL: ${JSON.stringify(withoutUserinfo(value))}`);
}

/** An edge's URL given to `flag`, checked as RemoteStore and sync check theirs; a mistake is a UsageError. */
export function edgeUrlFlag(value: string, flag: string): string {
  try {
    checkEdgeUrl(value, flag);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return value;
}

/** An edge's URL as typed, or without its query and fragment (which may carry a secret) when it has them. */
function shownEdgeUrl(value: string): string {
  const url = new URL(value);
  return url.search || url.hash ? withoutCredentials(value) : value;
}

function suggestion(value: string): string {
  if (/\.(db|sqlite3?)$/i.test(value)) return ` (did you mean sqlite:${value}?)`;
  if (/\.jsonl?$/i.test(value)) return ` (did you mean jsonl:${value}?)`;
  return '';
}

export interface OpenOptions {
  /**
   * `source`: must exist, and is only read (a sqlite: file in a directory this user cannot write is read
   * without the writer's lock, and never saved); `target`: created when missing; `update`: must exist,
   * and is read and written.
   */
  role: 'source' | 'target' | 'update';
  /** For http(s) stores. */
  token: string | undefined;
  /** The namespaces the command works on, if given: an http store is probed with the first. */
  namespaces: string[] | undefined;
}

/**
 * Opens the store a URL names and proves it usable before any data moves: a database is connected and
 * its schema prepared (a missing sqlite: target is created then); an edge answers an authenticated
 * request. Any failure is a SetupError (exit 2).
 */
export async function openStoreUrl(url: DatabaseUrl, options: OpenOptions): Promise<MemoryStore> {
  const { store, created } =
    url.kind === 'sqlite'
      ? await sqliteStore(url, options.role)
      : url.kind === 'pglite'
        ? { store: await pgliteStore(url, options.role), created: undefined }
        : { store: create(url, options), created: undefined };
  try {
    await store.open();
    await created?.();
    if (store instanceof ChunkedRemoteStore) await probe(store, url.shown, options);
    return store;
  } catch (error) {
    await store.close().catch(() => {});
    if (error instanceof SetupError) throw error;
    throw new SetupError(`cannot open ${url.shown}: ${errorMessage(error)}`);
  }
}

/** A sqlite: store, and for a target that does not exist yet, what writes it as soon as it is open. */
async function sqliteStore(
  url: Extract<DatabaseUrl, { kind: 'sqlite' }>,
  role: OpenOptions['role'],
): Promise<{ store: SqlJsStore; created?: () => Promise<void> }> {
  if (role !== 'target') await mustExist(url.path, url.shown);
  const missing = role === 'target' && (await isMissing(url.path));
  const persist = filePersistence(url.path, { readOnly: role === 'source' });
  const store = new SqlJsStore({ persist, saveDelayMs: SAVE_ON_CLOSE_MS, saveMaxDelayMs: SAVE_ON_CLOSE_MS });
  // Saved now, not only when the command ends: an import of nothing still leaves the file it names.
  return { store, created: missing ? async () => persist.save(await store.export()) : undefined };
}

/**
 * A pglite: store: `engram serve --data <dir>`'s database, `<dir>/pglite`, or the named directory itself
 * when it holds one (its `PG_VERSION` file). A source, or a store to update, must hold a database; a target
 * that holds none gets it in `<dir>/pglite`, where `engram serve --data <dir>` finds it. The directory is
 * locked while open, as `engram serve` locks it.
 */
async function pgliteStore(
  url: Extract<DatabaseUrl, { kind: 'pglite' }>,
  role: OpenOptions['role'],
): Promise<PostgresStore> {
  const info = await stat(url.path).catch(() => undefined);
  if (info !== undefined && !info.isDirectory()) throw new SetupError(`${url.shown}: not a directory`);
  const named = await holdsDatabase(url.path);
  const dir = named ? url.path : join(url.path, 'pglite');
  if (role !== 'target' && !named && !(await holdsDatabase(dir)))
    throw new SetupError(
      `${url.shown}: no PGlite database there (neither it nor its pglite/ directory holds PG_VERSION)`,
    );
  const driver = lockedPglite(
    dir,
    (at, { pid, thisProcess, lock }) =>
      `${at} is in use by ${thisProcess ? 'the other end of this command' : `process ${pid}`} (engram serve?); PGlite is one process's database: stop it, or go through the server (http://127.0.0.1:8787 with --token) (delete ${lock} only if that process is gone)`,
  );
  return new PostgresStore(driver);
}

async function holdsDatabase(dir: string): Promise<boolean> {
  return stat(join(dir, 'PG_VERSION')).then(
    (info) => info.isFile(),
    () => false,
  );
}

async function isMissing(path: string): Promise<boolean> {
  return stat(path).then(
    () => false,
    (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
  );
}

function create(
  url: Exclude<DatabaseUrl, { kind: 'sqlite' | 'pglite' }>,
  { token }: OpenOptions,
): MemoryStore {
  switch (url.kind) {
    case 'postgres':
      return new PostgresStore(postgresJs(url.url, { max: 4 }));
    case 'http':
      if (!token) throw new UsageError(`${url.shown} needs a token: pass --token (or set ENGRAM_TOKEN)`);
      return new ChunkedRemoteStore({ url: url.url, token });
  }
}

/** A namespace name only used to have the edge check a token whose namespaces cannot be read. */
const UNGRANTED_PROBE = 'engram-token-check';

/** One small authenticated read: a wrong URL, a refused token or a closed port shows up here, not mid-copy. */
async function probe(store: ChunkedRemoteStore, shown: string, options: OpenOptions): Promise<void> {
  const namespace = options.namespaces?.[0] ?? (await store.namespaces())[0];
  if (namespace === undefined) {
    // No namespace to read from the token (not a JWT, no "ns" claim): the edge judges it. A refused token
    // is the setup error it is, before anything moves, and so is an edge that cannot be reached; only a
    // namespace it does not grant is not (an import writes the namespaces of its dump, which may be others).
    const failure = await store.changes(UNGRANTED_PROBE, 0, 1).then(
      () => undefined,
      (error: unknown) => error,
    );
    if (isEngramError(failure, 'UNAUTHORIZED')) throw new SetupError(`${shown}: ${failure.message}`);
    if (failure !== undefined && !isEngramError(failure, 'FORBIDDEN')) throw failure;
    if (options.role === 'target') return;
    throw new SetupError(`${shown}: the token names no namespaces (no "ns" claim); pass --ns`);
  }
  await store.changes(namespace, 0, 1);
}

export async function mustExist(path: string, shown: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new SetupError(`${shown}: not a file`);
    return info.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new SetupError(`${shown}: no such file`);
    throw error;
  }
}
