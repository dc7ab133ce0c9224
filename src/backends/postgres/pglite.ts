import type { PGliteInterface, Transaction } from '@electric-sql/pglite';
import { EngramError, validationError } from '../../core/errors.js';
import { importOptional, importPeer } from '../../core/optional-peer.js';
import { type LockHolder, lockFile } from '../file-lock.js';
import type { SqlParam, SqlQueries } from '../sql/executor.js';
import { nodeFs, nodePath } from '../sqljs/node-modules.js';
import type { PostgresDriver } from './driver.js';

function queriesOf(db: Pick<PGliteInterface, 'query'> | Transaction): SqlQueries {
  return {
    async all<T extends object>(text: string, params: readonly SqlParam[]): Promise<T[]> {
      return (await db.query<T>(text, [...params])).rows;
    },
    async run(text: string, params: readonly SqlParam[]): Promise<void> {
      await db.query(text, [...params]);
    },
  };
}

/** What a second opener of a PGlite directory is told: the default, or the CLI's own words. */
export type PgliteBusyMessage = (dir: string, holder: LockHolder) => string;

const busyDirectory: PgliteBusyMessage = (dir, { pid, thisProcess, lock }) =>
  `pglite: ${dir} is in use by ${thisProcess ? 'another pglite() driver in this process' : `process ${pid}`}; PGlite is one process's database, and two openers of one directory would each keep writes the other never sees: close the other, or use another directory (delete ${lock} only if that process is gone)`;

/**
 * Embedded Postgres (PGlite): in a directory, in memory when none is given, or over a PGlite instance you
 * already have (left open on `close()`). PGlite loads on first use, so importing this costs nothing until then.
 * When `@electric-sql/pglite-pgvector` is installed, the database it creates loads pgvector.
 *
 * A directory on Node is locked from the first query until `close()` (`<dir>.lock`): a second driver on
 * it, in this process or another, fails its first query with a STORAGE error naming the holder, instead of
 * both running and one losing the other's acknowledged writes. A lock left by a process that died is taken
 * over. `memory://` and `idb://` databases, and instances you pass in, are not locked.
 *
 * @example
 * import { PostgresStore, pglite } from 'engram/edge';
 * const store = new PostgresStore(pglite('./data'));
 */
export function pglite(dirOrInstance?: string | PGliteInterface): PostgresDriver {
  return lockedPglite(dirOrInstance, busyDirectory);
}

/** `pglite()` with the message a second opener of the directory gets (the CLI names `engram serve`). */
export function lockedPglite(
  dirOrInstance: string | PGliteInterface | undefined,
  busy: PgliteBusyMessage,
): PostgresDriver {
  const instanceLike =
    typeof dirOrInstance === 'object' &&
    dirOrInstance !== null &&
    typeof (dirOrInstance as { query?: unknown }).query === 'function';
  if (!(dirOrInstance === undefined || typeof dirOrInstance === 'string' || instanceLike))
    throw validationError(
      'pglite.dir',
      "a data directory ('./data', 'memory://', 'idb://name') or a PGlite instance",
      typeof dirOrInstance,
    );
  const owned = typeof dirOrInstance !== 'object';
  let instance: Promise<PGliteInterface> | undefined =
    typeof dirOrInstance === 'object' ? Promise.resolve(dirOrInstance) : undefined;
  let unlock: (() => Promise<void>) | undefined;
  const db = () => {
    instance ??= (async () => {
      const dir = typeof dirOrInstance === 'string' ? lockablePath(dirOrInstance) : undefined;
      if (dir !== undefined)
        unlock = await lockFile(dir, { label: 'pglite', busy: (holder) => busy(dir, holder) });
      let started: PgliteClass | undefined;
      try {
        const [{ PGlite }, pgvector] = await Promise.all([
          importPeer('@electric-sql/pglite', () => import('@electric-sql/pglite'), 'pglite()'),
          // pgvector when installed: PostgresStore then ranks vectors with it (docs/embeddings.md).
          importOptional('@electric-sql/pglite-pgvector', () => import('@electric-sql/pglite-pgvector')),
        ]);
        started = PGlite;
        return await PGlite.create(
          dirOrInstance as string,
          pgvector ? { extensions: { vector: pgvector.vector } } : {},
        );
      } catch (error) {
        await release();
        throw started && dir !== undefined ? await otherMajor(started, dir, error) : error;
      }
    })();
    // A refused lock or a failed start is not kept: the next query tries again (the holder may be gone).
    instance.catch(() => {
      instance = undefined;
    });
    return instance;
  };
  const release = async () => {
    const free = unlock;
    unlock = undefined;
    await free?.();
  };
  return {
    name: 'pglite',
    persistent: typeof dirOrInstance === 'string' ? !dirOrInstance.startsWith('memory://') : !owned,
    all: async (text, params) => queriesOf(await db()).all(text, params),
    run: async (text, params) => queriesOf(await db()).run(text, params),
    async transaction(fn) {
      return (await db()).transaction((tx) => fn(queriesOf(tx)));
    },
    async listen(channel, onPayload) {
      const stop = await (await db()).listen(channel, onPayload);
      return () => stop();
    },
    async notify(channel, payload) {
      await (await db()).query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    async close() {
      if (!owned || !instance) return;
      try {
        await (await instance.catch(() => undefined))?.close();
      } finally {
        instance = undefined;
        await release();
      }
    },
  };
}

type PgliteClass = typeof import('@electric-sql/pglite').PGlite;

/**
 * Why PGlite could not start on `dir` when the directory holds another Postgres major's database. Each
 * PGlite release runs one Postgres major (0.5.x: 18, 0.6.x: 19), whose data files no other major opens,
 * and PGlite then says only that it "failed to initialize": after `npm update` a server's data directory
 * would stop opening with no hint why. The directory's major is its `PG_VERSION` file; the installed
 * release's is asked of a throwaway in-memory instance (a second or so, only on this failure path). Any
 * other failure is passed on as it was.
 */
async function otherMajor(PGlite: PgliteClass, dir: string, error: unknown): Promise<unknown> {
  const fs = await nodeFs();
  const { join } = await nodePath();
  const written = (await fs.readFile(join(dir, 'PG_VERSION'), 'utf8').catch(() => '')).trim();
  if (!/^\d+$/.test(written)) return error;
  let installed: { major: string; release: string } | undefined;
  try {
    const probe = await PGlite.create();
    try {
      const [row] = (
        await probe.query<{ num: string; version: string }>(
          "SELECT current_setting('server_version_num') AS num, version() AS version",
        )
      ).rows;
      if (row)
        installed = {
          major: String(Math.floor(Number(row.num) / 10_000)),
          release: /PGlite ([^)\s]+)/.exec(row.version)?.[1] ?? 'release',
        };
    } finally {
      await probe.close();
    }
  } catch {
    return error;
  }
  if (installed === undefined || installed.major === written) return error;
  const known = PGLITE_OF_MAJOR[written];
  return new EngramError(
    'STORAGE',
    `pglite: ${dir} holds a Postgres ${written} database, and the installed @electric-sql/pglite ${installed.release} runs Postgres ${installed.major}, which cannot open it (each PGlite release runs one Postgres major). With the release that wrote it installed (${known ? `@electric-sql/pglite@${known}` : `one running Postgres ${written}`}), copy the memories out (engram export --from pglite:${dir} > memories.jsonl), then import them into a new directory with this one; or open another directory`,
    { cause: error },
  );
}

/** The PGlite release line of each Postgres major it ran, for the message above. */
const PGLITE_OF_MAJOR: Readonly<Record<string, string>> = { '18': '0.5', '19': '0.6' };

/**
 * The directory a PGlite data dir string names on Node's file system, or undefined where there is none to
 * lock: `memory://` and `idb://` (or any other scheme), and runtimes without Node's `process`.
 */
function lockablePath(dir: string): string | undefined {
  const onNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (!onNode) return undefined;
  if (dir.startsWith('file://')) return dir.slice('file://'.length);
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(dir) ? undefined : dir;
}
