import type { ListOptions, ListResult, Memory } from './model.js';

/** Memories read per page by the first scan: the façade's largest `list` page. */
const SCAN_PAGE = 1000;

/**
 * The validity boundaries still ahead (a `validFrom` or `validTo` after now) of the namespace's memories,
 * so that watches of what is valid now re-run when one passes: a memory whose `validTo` passes leaves
 * their results, one whose `validFrom` arrives may enter them, with no write in between. A watch hub keeps
 * one for all its watches: a full `list({ history: true })` walk when the first watch opens (memories
 * written before it), then every change the hub looks at anyway. Coarse by design: it knows no query,
 * so every "valid now" watch re-runs at every boundary (a run that finds the same results calls nobody).
 * Most namespaces have no bound ahead at all, and then nothing is scheduled.
 */
export class ValidityBoundaries {
  /** id -> its bounds still ahead (ms), as last seen. */
  private readonly ahead = new Map<string, number[]>();
  /** Bumped by `reset`: a walk begun before it drops what it reads. */
  private generation = 0;

  /**
   * Records what `memory` (or its absence: removed, gone) leaves ahead after `now`, replacing what was
   * known of it; with `keep`, adds to it instead (a walk's page may be older than a change noted since).
   */
  note(id: string, memory: Memory | undefined, now: number, keep = false): void {
    const bounds = keep ? [...(this.ahead.get(id) ?? [])] : [];
    for (const iso of [memory?.validFrom, memory?.validTo]) {
      if (iso === undefined) continue;
      const at = Date.parse(iso);
      if (at > now) bounds.push(at);
    }
    if (bounds.length > 0) this.ahead.set(id, bounds);
    else this.ahead.delete(id);
  }

  /**
   * The earliest bound after `now` (`at`, Infinity: none), forgetting those already passed; `passed` is
   * true when it forgot any. Every bound was ahead when noted, so a forgotten one passed since: the
   * "valid now" results read before it may be stale, and whoever asks owes them a re-run.
   */
  next(now: number): { at: number; passed: boolean } {
    let first = Number.POSITIVE_INFINITY;
    let passed = false;
    for (const [id, bounds] of this.ahead) {
      const left = bounds.filter((at) => at > now);
      if (left.length < bounds.length) passed = true;
      if (left.length === 0) {
        this.ahead.delete(id);
        continue;
      }
      if (left.length < bounds.length) this.ahead.set(id, left);
      for (const at of left) first = Math.min(first, at);
    }
    return { at: first, passed };
  }

  /** Forgets everything; a walk still running stops adding. */
  reset(): void {
    this.ahead.clear();
    this.generation++;
  }

  /**
   * Walks every memory of the namespace (valid or not) once, a page at a time. A change noted meanwhile
   * is never lost: the walk only adds bounds, and one it adds for a memory changed since is at worst a
   * re-run too many. Rejects when a page cannot be read.
   */
  async scan(
    list: (options: ListOptions) => Promise<ListResult>,
    now: () => number,
    nothingAhead: () => Promise<boolean> = async () => false,
  ): Promise<void> {
    const generation = this.generation;
    if (await nothingAhead()) return;
    let cursor: string | undefined;
    do {
      const page = await list({ history: true, limit: SCAN_PAGE, ...(cursor ? { cursor } : {}) });
      if (generation !== this.generation) return;
      for (const memory of page.items) {
        if (memory.validFrom !== undefined || memory.validTo !== undefined)
          this.note(memory.id, memory, now(), true);
      }
      cursor = page.cursor ?? undefined;
    } while (cursor);
  }
}
