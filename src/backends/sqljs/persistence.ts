/**
 * Where a SqlJsStore keeps its database file between runs: the whole file is loaded on open and written
 * back after writes. `save` must replace the previous copy atomically, so a crash keeps one whole copy.
 */
export interface SqlJsPersistence {
  /** The saved database, or null when nothing was saved yet. */
  load(): Promise<Uint8Array | null>;
  save(bytes: Uint8Array): Promise<void>;
  /**
   * Takes the file for this store alone until the returned release is called, or throws a STORAGE error
   * when another store holds it: two writers of one whole-file database would lose each other's writes.
   */
  lock?(): Promise<() => Promise<void>>;
  /**
   * Every save is refused (`filePersistence(path, { readOnly: true })`). The store then saves nothing for
   * the upkeep it does by itself (a namespace's client id, maintenance), so only a write of the caller's is
   * reported unsaved.
   */
  readonly readOnly?: boolean;
}
