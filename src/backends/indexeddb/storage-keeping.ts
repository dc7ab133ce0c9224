/**
 * Keeping browser storage, and knowing when it was not kept.
 *
 * Browsers may evict an origin's IndexedDB under storage pressure (or, in Safari, after days without a
 * visit) unless the page asked for persistent storage. An evicted database simply reopens empty, which
 * looks exactly like a first visit. To tell the two apart, the store leaves a sentinel outside
 * IndexedDB (a localStorage key, which Chromium's quota eviction does not remove) when it creates the
 * database: a database created while its sentinel already exists was lost, not new. Where both are
 * wiped together (Safari's 7-day cap, "clear site data") the loss cannot be seen; the sync engine still
 * pulls everything again, because its cursor went with the data.
 */

interface LocalStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

function localStore(): LocalStorageLike | undefined {
  try {
    return (globalThis as { localStorage?: LocalStorageLike }).localStorage;
  } catch {
    // Access can throw (storage disabled, opaque origins).
    return undefined;
  }
}

export function sentinelKey(name: string): string {
  return `engram:indexeddb:${name}:created`;
}

/**
 * Called once the database is open: `created` says whether this open created it. Returns true when a
 * database that existed before is gone (evicted or deleted behind the store's back); either way the
 * sentinel is (re)written for the next open.
 */
export function checkSentinel(name: string, created: boolean): boolean {
  const storage = localStore();
  if (!storage) return false;
  try {
    const before = storage.getItem(sentinelKey(name));
    if (before === null || created) storage.setItem(sentinelKey(name), new Date().toISOString());
    return created && before !== null;
  } catch {
    return false;
  }
}

/** Forgets the sentinel: for an app that deletes the database on purpose (sign-out, "clear data"). */
export function clearSentinel(name: string): void {
  try {
    localStore()?.removeItem(sentinelKey(name));
  } catch {
    // Nothing to clear where storage is unavailable.
  }
}

/** `navigator.storage.persist()`: true when the browser granted persistent storage; undefined where unsupported. */
export async function requestPersistence(): Promise<boolean | undefined> {
  const storage = (globalThis as { navigator?: { storage?: { persist?: () => Promise<boolean> } } }).navigator
    ?.storage;
  if (typeof storage?.persist !== 'function') return undefined;
  try {
    return await storage.persist();
  } catch {
    return false;
  }
}
