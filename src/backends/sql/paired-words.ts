import { EngramError } from '../../core/errors.js';
import { WORD_MARK } from '../../core/text/index.js';
import { BulkWriter, upsertOn } from './bulk.js';
import type { SqlDialect } from './dialect.js';
import type { SqlExecutor, SqlParam, SqlQueries } from './executor.js';
import { blockOf } from './posting-blocks.js';

/**
 * Paired rows (schema v21, SQLite only). Every word is indexed twice: under its stem and, marked, as
 * written (`~word`, for prefixes). When a word is its own stem ("cat", "jester") and no other word of a
 * group shares that stem, the two rows of the group hold the same bytes. A closed group keeps one row
 * for both, keyed `=word`: in the bench corpus at 100K memories, 131K of the 200K `~word` rows, about
 * 9 MiB of an 80 MiB file (posting-tails.ts pairs a group's rows when a bulk add leaves it, `pairGroup`
 * those of a group another batch leaves).
 *
 * `=` sorts apart from stems (letters and digits) and from `~`, so the paired rows of a prefix are one
 * more key range. Readers ask for the pair key beside every term and prefix and read a paired row as
 * both of its terms; a writer that changes either term of a pair splits it first (posting-writes.ts).
 * Postgres never pairs: its postings are a small part of its size, and a read there would pay a second
 * index probe per term.
 */
export const PAIR_MARK = '=';

/** Whether the dialect's posting rows may be paired. */
export const pairsRows = (dialect: SqlDialect): boolean => dialect.name === 'sqlite';

/** The pair key that may hold `term`'s row: `=w` for the stem `w` and for the word key `~w`. */
export function pairKeyOf(term: string): string {
  return PAIR_MARK + (term.startsWith(WORD_MARK) ? term.slice(WORD_MARK.length) : term);
}

/** The pair keys a prefix of terms may meet: none for '' (its range holds them all). */
export function pairPrefixOf(prefix: string): string | undefined {
  return prefix === '' ? undefined : pairKeyOf(prefix);
}

export const isPairKey = (key: string): boolean => key.startsWith(PAIR_MARK);

/** The stem and the word key a pair key stands for. */
export function pairedTerms(key: string): [stem: string, word: string] {
  const word = key.slice(PAIR_MARK.length);
  return [word, WORD_MARK + word];
}

/**
 * The words of a group whose two rows hold the same bytes: each such stem `w` with `~w` (so `w` is its
 * own stem), in key order. `rows` must hold every row of the group.
 */
export function pairableWords(rows: ReadonlyMap<string, Uint8Array>): string[] {
  const out: string[] = [];
  // forEach rather than for…of over the entries: no [term, bytes] array per row (a group has ~30K rows,
  // and pairing reads them three times).
  rows.forEach((bytes, term) => {
    if (term.startsWith(WORD_MARK) || isPairKey(term)) return;
    const twin = rows.get(WORD_MARK + term);
    if (twin !== undefined && sameBytes(bytes, twin)) out.push(term);
  });
  return out.sort();
}

/**
 * A word row that holds the same bytes as a stem row of its group, yet is no pair (its stem is another
 * word: "running" and "run" where only "running" occurs), is written as a reference to that row: these
 * two bytes, then the stem's UTF-8. No posting list starts so (a continuation byte over a zero is a
 * number our varints never write), so a reference is never read as postings. Readers of word rows
 * resolve it in their statement (`resolvingSelect`). 13K rows and 1.0 MB of the 100K bench file.
 *
 * Both rows hold the same documents, so an edit or a delete that changes one changes the other: the
 * writer that reads a reference (posting-writes.ts) always meets its target in the same batch.
 */
const REFERENCE = [0x80, 0x00] as const;
const utf8 = new TextEncoder();
const text = new TextDecoder();

export function referenceTo(stem: string): Uint8Array {
  const name = utf8.encode(stem);
  const out = new Uint8Array(REFERENCE.length + name.length);
  out.set(REFERENCE);
  out.set(name, REFERENCE.length);
  return out;
}

export const isReference = (bytes: Uint8Array): boolean =>
  bytes.length >= 2 && bytes[0] === REFERENCE[0] && bytes[1] === REFERENCE[1];

/** The stem a reference names. */
export const referenceTarget = (bytes: Uint8Array): string => text.decode(bytes.subarray(REFERENCE.length));

/** A reference whose stem row is missing: the index is corrupt (never read as postings). */
export function danglingReference(term: string, grp: number, bytes: Uint8Array): EngramError {
  return new EngramError(
    'STORAGE',
    `corrupt text index: the row of "${term}" in group ${grp} names the row of "${referenceTarget(bytes)}", which does not exist`,
  );
}

/**
 * A select of `engram_postings` rows (aliased `p`, so conditions name `p.ns`, `p.term`) whose references
 * are read as the rows they name: `term`, `grp`, `data` resolved, and with `target` the stem a reference
 * named (else null). A row that is no reference joins nothing: its key is null, which SQLite never seeks.
 * The test is two comparisons of the blob (its bytes from 80 00 up to, not including, 80 01), no copy.
 */
export function resolvingSelect(target: boolean): string {
  return (
    `SELECT p.term, p.grp, coalesce(t.data, p.data) AS data${target ? ', t.term AS target' : ''} ` +
    'FROM engram_postings p LEFT JOIN engram_postings t ON t.ns = p.ns AND t.grp = p.grp AND ' +
    "t.term = (CASE WHEN p.data > x'8000' AND p.data < x'8001' THEN CAST(substr(p.data, 3) AS TEXT) END)"
  );
}

/**
 * The least a reference must save. A search reads a reference's stem row by one more seek where the
 * word row came in its range: at 32 bytes, 28% of the references that would save anything keep 65% of
 * their bytes (the 100K bench file: 13K references, 1.0 of 1.6 MB), so a prefix read makes a quarter of
 * the seeks.
 */
const MIN_SAVING = 32;

/**
 * The word rows of a group (not paired) that may be written as references (`referenceTo`), each with
 * the stem row holding the same bytes, when the reference saves at least MIN_SAVING bytes. `rows`: every row of the group;
 * `twins`: the terms written as pairs.
 */
export function referableWords(
  rows: ReadonlyMap<string, Uint8Array>,
  twins: ReadonlySet<string>,
): [word: string, stem: string][] {
  // Stem rows by a hash of their bytes; a word row's candidates are then compared byte for byte.
  const stems = new Map<number, string[]>();
  rows.forEach((bytes, term) => {
    if (term.startsWith(WORD_MARK) || isPairKey(term) || twins.has(term)) return;
    const hash = hashBytes(bytes);
    const list = stems.get(hash);
    if (list === undefined) stems.set(hash, [term]);
    else list.push(term);
  });
  const out: [string, string][] = [];
  rows.forEach((bytes, term) => {
    if (!term.startsWith(WORD_MARK) || twins.has(term)) return;
    let stem: string | undefined;
    // The least of the stems holding the same bytes, so that the choice does not hang on the Map's order.
    for (const candidate of stems.get(hashBytes(bytes)) ?? []) {
      if ((stem === undefined || candidate < stem) && sameBytes(rows.get(candidate)!, bytes))
        stem = candidate;
    }
    if (stem !== undefined && bytes.length - REFERENCE.length - utf8.encode(stem).length >= MIN_SAVING) {
      out.push([term, stem]);
    }
  });
  return out;
}

/** What a group's rows become: pair rows by key, the terms they replace, references by word. */
export interface GroupPairing {
  pairs: [key: string, bytes: Uint8Array][];
  twins: Set<string>;
  references: Map<string, string>;
}

/** The pairs and references of a group whose every row is in `rows` (none paired yet). */
export function pairingOf(rows: ReadonlyMap<string, Uint8Array>): GroupPairing {
  const words = pairableWords(rows);
  const twins = new Set(words.flatMap((word) => pairedTerms(pairKeyOf(word))));
  const pairs = words.map((word): [string, Uint8Array] => [pairKeyOf(word), rows.get(word)!]);
  return { pairs, twins, references: new Map(referableWords(rows, twins)) };
}

/**
 * Pairs a group left by a batch that did not hold its rows (an edit came between bulk adds, or the file
 * was reopened mid-group), in the caller's transaction: its rows are read (a scan of the namespace's
 * keys, once per group of 4096 documents), then written as a bulk add leaving it writes them. A group
 * that already holds a pair or a reference was paired before and is left alone.
 */
export async function pairGroup(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  grp: number,
): Promise<boolean> {
  const rows = new Map<string, Uint8Array>();
  const read = 'SELECT term, data FROM engram_postings WHERE ns = ? AND grp = ?';
  for (const { term, data } of await db.all<{ term: string; data: Uint8Array }>(read, [namespace, grp])) {
    if (isPairKey(term) || isReference(data)) return false;
    rows.set(term, data);
  }
  const pairing = pairingOf(rows);
  if (pairing.pairs.length === 0 && pairing.references.size === 0) return false;
  await deleteTwins(db, namespace, grp, pairing.twins);
  await new BulkWriter(db, dialect).insert(
    'engram_postings',
    POSTING_COLUMNS,
    pairingRows(namespace, grp, pairing),
    upsertOn(['ns', 'term', 'grp'], POSTING_COLUMNS),
  );
  return true;
}

/** What a store learned of a namespace's older groups (`pairOlderGroups`), kept for the store's life. */
export interface OlderGroups {
  /** Groups found with nothing to pair: no rows left, or a reference already. */
  settled: Set<number>;
  /** Every closed group holds pairs or is settled: groups closed from now on are paired as they close. */
  done: boolean;
}

/**
 * Pairs closed groups that hold no pair yet (SQLite only: the caller checks `pairsRows`): groups
 * written before schema v21, which the upgrade left as they were (readers take both forms). `Engram.maintain()` asks for a few per run (`compactText`), so an
 * older file shrinks to what a newer one takes over a few runs: at most `limit` groups read per call,
 * each in its own transaction (~0.15 s a group of a 100K-memory file). The newest group is never paired
 * (it still grows). Once none is left it sets `known.done`, and the caller (`SqlStore.compactText`) then
 * spares later runs even the look for them (one range of the pair keys, ~20 ms at 100K). Returns how many
 * groups it paired.
 */
export async function pairOlderGroups(
  db: SqlExecutor,
  dialect: SqlDialect,
  namespace: string,
  limit: number,
  known: OlderGroups,
): Promise<number> {
  const counter = 'SELECT docnos FROM engram_namespaces WHERE ns = ?';
  const [row] = await db.all<{ docnos: number | string | bigint }>(counter, [namespace]);
  const newest = blockOf(Math.max(Number(row?.docnos ?? 0) - 1, 0));
  // The pair keys are one key range (`=` sorts before `>`): the groups holding one were paired before.
  const pairedSql = 'SELECT DISTINCT grp FROM engram_postings WHERE ns = ? AND term >= ? AND term < ?';
  const paired = new Set(
    (await db.all<{ grp: number | string }>(pairedSql, [namespace, PAIR_MARK, PAIR_END])).map((r) =>
      Number(r.grp),
    ),
  );
  const left = [];
  for (let grp = 0; grp < newest; grp++) if (!paired.has(grp) && !known.settled.has(grp)) left.push(grp);
  let done = 0;
  // A limit below 1 (or not a number) reads no group: slice would count a negative one from the end.
  const take = limit >= 1 ? Math.floor(limit) : 0;
  for (const grp of left.slice(0, take)) {
    if (await db.transaction((tx) => pairGroup(tx, dialect, namespace, grp))) done++;
    else known.settled.add(grp);
  }
  known.done = left.length <= take;
  return done;
}

/** The character after PAIR_MARK: the end of the pair keys' range. */
const PAIR_END = String.fromCharCode(PAIR_MARK.charCodeAt(0) + 1);

const POSTING_COLUMNS = ['ns', 'term', 'grp', 'data'];

/** Takes out a group's stored rows that its pairs replace, in the caller's transaction (SQLite). */
export async function deleteTwins(
  db: SqlQueries,
  namespace: string,
  grp: number,
  twins: ReadonlySet<string>,
) {
  if (twins.size === 0) return;
  const sql =
    'DELETE FROM engram_postings WHERE ns = ? AND grp = ? AND term IN (SELECT value FROM json_each(?))';
  await db.run(sql, [namespace, grp, JSON.stringify([...twins])]);
}

/** The rows a pairing writes for its group: each pair, and each reference in place of its word row. */
export function pairingRows(namespace: string, grp: number, pairing: GroupPairing): SqlParam[][] {
  const rows: SqlParam[][] = pairing.pairs.map(([key, bytes]) => [namespace, key, grp, bytes]);
  for (const [word, stem] of pairing.references) rows.push([namespace, word, grp, referenceTo(stem)]);
  return rows;
}

/** FNV-1a of the bytes: a Map key for rows to compare. */
function hashBytes(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash >>> 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
