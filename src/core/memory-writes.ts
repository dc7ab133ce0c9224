import { findDuplicate } from './duplicate-lookup.js';
import type { EmbeddingQueue } from './embedding/embedding-queue.js';
import type { ChangeKind } from './engram-options.js';
import { EngramError, NotFoundError, validationError } from './errors.js';
import { isExpired } from './filter.js';
import { type HybridLogicalClock, hlcToIso, observeStamps } from './hlc.js';
import { assertIdsFree } from './id-checks.js';
import { uuidv7 } from './ids.js';
import { assertPeriod, liveIds, tombstoneBatches } from './lifecycle.js';
import { putLink } from './link-write.js';
import { type NamespaceView, requireLive, requireLivePair } from './live-records.js';
import type { Link, LinkOptions, Memory, MemoryInput, MemoryPatch } from './model.js';
import { checkedWrite } from './serial.js';
import type { ApplyResult, Entity, MemoryRecord, MemoryStore, WriteBatch } from './store-contract.js';
import { replaceFact } from './supersede-write.js';
import type { Language } from './text/index.js';
import * as schema from './validate.js';
import { createMemoryWrite, patchMemoryWrite } from './writes.js';

/** Reads-and-writes of one supersede or deduping add before other processes' writes end it in CONFLICT. */
const RACE_ATTEMPTS = 5;

/** What the façade lends its writes: its namespace, clock and language, and how a batch is applied. */
export interface WritesHost extends NamespaceView {
  readonly clock: HybridLogicalClock;
  readonly now: () => number;
  readonly language: Language | undefined;
  /** Applies a batch and tells the façade's listeners, replication, maintenance and watches. */
  write(batch: WriteBatch, type: ChangeKind, ids: string[]): Promise<ApplyResult>;
  /** The background embedding queue, once an embedder is set. */
  embeddings(): EmbeddingQueue | undefined;
}

/** The store's newest change-feed position, where it can tell (SQL stores, a RemoteStore): `WriteBatch.dedupe`'s `since`. */
async function feedPosition(store: MemoryStore, namespace: string): Promise<number | undefined> {
  const source = store as MemoryStore & { latestSeq?: (namespace: string) => Promise<number | undefined> };
  return typeof source.latestSeq === 'function' ? source.latestSeq(namespace) : undefined;
}

function isConflict(error: unknown, ...fields: string[]): error is EngramError {
  return error instanceof EngramError && error.code === 'CONFLICT' && fields.includes(error.field ?? '');
}

/**
 * The façade's writes, after their input is validated: each builds its batch from what the store holds
 * now. Those that check before they write (given ids, supersedes, deduping adds, links) and those whose
 * call order matters (updates, removes, unlinks) run in the store's and namespace's checked-write queue;
 * a check another process's write made stale is refused by the store in its transaction (`newIds`,
 * `unchanged`, `dedupe`) and read again here.
 */
export class MemoryWrites {
  constructor(private readonly host: WritesHost) {}

  /** Runs a check-then-write alone among this store's and namespace's (serial.ts). */
  private checked<T>(task: () => Promise<T>): Promise<T> {
    return checkedWrite(this.host.store, this.host.namespace, task);
  }

  private observe(record: { clocks: Record<string, string> }): void {
    observeStamps(this.host.clock, record);
  }

  /** A deduping add: the memory valid now with the same normalized content (tags merged), or a new one. */
  addDeduped(parsed: MemoryInput): Promise<Memory> {
    const { store, namespace } = this.host;
    // One deduping add at a time: two at once would each find no copy and both add, or each merge
    // its tags into the tags it read and lose the other's.
    return this.checked(async () => {
      // Another process (an edge beside this one on the same Postgres) may add the same content between
      // the search and the write: the store refuses the write then (`WriteBatch.dedupe`, from the feed
      // position read before the search), and the next round finds that memory and merges into it.
      for (let attempt = 1; ; attempt++) {
        const since = await feedPosition(store, namespace);
        const existing = await findDuplicate(this.host, parsed.content);
        if (existing) return this.mergeTags(existing, parsed.tags ?? []);
        const guard =
          since === undefined ? undefined : { content: parsed.content, since, now: this.host.nowIso() };
        try {
          const [memory] = await this.insert([parsed], 'add', true, guard);
          return memory!;
        } catch (error) {
          if (!isConflict(error, 'dedupe') || attempt === RACE_ATTEMPTS) throw error;
        }
      }
    });
  }

  private async mergeTags(existing: Memory, tags: readonly string[]): Promise<Memory> {
    const merged = [...new Set([...existing.tags, ...tags])];
    if (merged.length === existing.tags.length) return existing;
    if (merged.length > schema.LIMITS.tags) {
      throw validationError(
        'add.tags',
        `at most ${schema.LIMITS.tags} tags together with those of the memory it duplicates (${existing.id})`,
        merged.length,
      );
    }
    return this.patch(existing.id, { tags: merged });
  }

  /** Adds `parsed` as the successor of `oldId` (Engram.supersede), alone among the checked writes. */
  supersede(oldId: string, parsed: MemoryInput): Promise<Memory> {
    // Alone: two supersedes of one fact at once would both find it current and both succeed.
    return this.checked(async () => {
      // Another process may close the fact (or take the given id) between this read and the write: the
      // store refuses the write then (`unchanged`, `newIds`), and the check runs again on what it holds
      // now, which tells the caller why (superseded, deleted, id taken) or writes when it still holds.
      for (let attempt = 1; ; attempt++) {
        try {
          return await replaceFact(this.host, oldId, parsed);
        } catch (error) {
          if (!isConflict(error, 'unchanged', 'newIds')) throw error;
          if (attempt === RACE_ATTEMPTS)
            throw new EngramError(
              'CONFLICT',
              `supersede.oldId: memory ${JSON.stringify(oldId)} kept changing while it was superseded (${attempt} attempts); try again`,
              { field: 'supersede.oldId' },
            );
        }
      }
    });
  }

  /**
   * Tombstones every memory and link of the namespace; returns how many memories. In call order with the
   * other checked writes: an add called before it is cleared, one called after it is kept.
   */
  clear(): Promise<number> {
    // Adds without a given id skip the queue; those called before the clear are cleared with the rest,
    // and those called while it waits queue behind it, so they stay.
    const before = [...this.unqueued];
    this.clearing += 1;
    return this.checked(async () => {
      await Promise.allSettled(before);
      const { store, namespace, clock } = this.host;
      const ids = await liveIds(store, namespace, this.host.nowIso());
      if (ids.memories.length + ids.links.length === 0) return 0;
      for (const stamp of ids.clocks) clock.observe(stamp);
      const stamp = clock.tick();
      for (const tombstones of tombstoneBatches(namespace, ids, stamp, schema.LIMITS.batch)) {
        await this.host.write(
          { tombstones },
          'clear',
          tombstones.map((t) => t.id),
        );
      }
      // Like remove(), an expired memory (gone from reads, not yet purged) is buried but not counted.
      return ids.unexpired;
    }).finally(() => {
      this.clearing -= 1;
    });
  }

  /** Adds in flight that skipped the checked-write queue (no given id), for a clear called meanwhile. */
  private readonly unqueued = new Set<Promise<unknown>>();
  /** Clears called and not yet done: adds called meanwhile queue behind them. */
  private clearing = 0;

  /**
   * Inserts new memories; those with an id the caller gave, and any called while a clear waits, are
   * checked and written in the checked-write queue.
   */
  insert(
    inputs: MemoryInput[],
    where: string,
    queued = false,
    dedupe?: WriteBatch['dedupe'],
  ): Promise<Memory[]> {
    if (!queued && (this.clearing > 0 || inputs.some((input) => input.id !== undefined))) {
      return this.checked(() => this.insert(inputs, where, true));
    }
    if (queued) return this.insertNow(inputs, where, dedupe);
    const running = this.insertNow(inputs, where, dedupe);
    const settled = () => this.unqueued.delete(running);
    this.unqueued.add(running);
    running.then(settled, settled);
    return running;
  }

  private async insertNow(
    inputs: MemoryInput[],
    where: string,
    dedupe?: WriteBatch['dedupe'],
  ): Promise<Memory[]> {
    const { store, namespace, clock, now } = this.host;
    for (const [i, input] of inputs.entries()) {
      assertPeriod(input.validFrom, input.validTo, where === 'add' ? 'add' : `${where}.${i}`);
    }
    await assertIdsFree(store, namespace, inputs, where, now());
    const writes = inputs.map((input) => {
      const id = input.id ?? uuidv7(now());
      const stamp = clock.tick();
      return createMemoryWrite(namespace, id, input, stamp, hlcToIso(stamp));
    });
    // Ids the caller gave are checked again inside the store's transaction: another process on the same
    // database (two edges on one Postgres) may have taken one since the check above.
    const given = inputs.flatMap((input) => (input.id === undefined ? [] : [input.id]));
    const result = await this.host
      .write(
        {
          memories: writes,
          ...(given.length > 0 ? { newIds: given } : {}),
          ...(dedupe ? { dedupe } : {}),
        },
        'add',
        writes.map((w) => w.id),
      )
      .catch(async (error: unknown) => {
        if (!isConflict(error, 'newIds')) throw error;
        // Told as the check above tells it, now that the other writer's record is there to name.
        await assertIdsFree(store, namespace, inputs, where, now());
        const field = where === 'add' ? 'add.id' : `${where}.id`;
        throw new EngramError('CONFLICT', `${field}: ${error.message.replace(/^newIds: /, '')}`, { field });
      });
    this.host.embeddings()?.enqueue(writes.filter((w) => w.values.embedding === undefined).map((w) => w.id));
    return result.memories.map((r) => r.memory);
  }

  /**
   * Changes the named fields of a live memory. Queued with the other writes that read first: updates and
   * removes called at once apply in call order (each stamps its write after its read, so reads finishing
   * out of order would reorder them).
   */
  update(id: string, parsed: MemoryPatch): Promise<Memory> {
    return this.checked(() => this.patch(id, parsed));
  }

  /**
   * A read-change-write of one memory that no other process's write in between undoes: `change` gets the
   * memory as the store holds it and returns the patch (null: nothing to write), and the store refuses the
   * write (`unchanged`) when `guard`'s field was written since that read; then it is read and changed
   * again. For writers that keep a list in one field (the MCP graph's observations), where last writer
   * wins would drop the other's items.
   */
  modify(id: string, change: (memory: Memory) => MemoryPatch | null, guard: string): Promise<Memory> {
    return this.checked(async () => {
      for (let attempt = 1; ; attempt++) {
        const existing = await requireLive(this.host, id, 'update.id');
        const parsed = change(existing.memory);
        if (parsed === null) return existing.memory;
        try {
          return await this.patch(id, parsed, { existing, guard });
        } catch (error) {
          if (!isConflict(error, 'unchanged')) throw error;
          if (attempt === RACE_ATTEMPTS)
            throw new EngramError(
              'CONFLICT',
              `update.id: memory ${JSON.stringify(id)} kept changing while it was updated (${attempt} attempts); try again`,
              { field: 'update.id' },
            );
        }
      }
    });
  }

  /** update()'s read and write, run in the checked-write queue (mergeTags is already in it). */
  private async patch(
    id: string,
    parsed: MemoryPatch,
    read?: { existing: MemoryRecord; guard: string },
  ): Promise<Memory> {
    const existing = read?.existing ?? (await requireLive(this.host, id, 'update.id'));
    assertPeriod(
      parsed.validFrom === undefined ? existing.memory.validFrom : (parsed.validFrom ?? undefined),
      parsed.validTo === undefined ? existing.memory.validTo : (parsed.validTo ?? undefined),
      'update.patch',
      parsed.validTo === undefined,
    );
    this.observe(existing);
    const embeddings = this.host.embeddings();
    // New content makes the embedding stale: it is cleared with the same stamp and embedded again.
    const reembed =
      embeddings !== undefined &&
      parsed.content !== undefined &&
      parsed.embedding === undefined &&
      parsed.content !== existing.memory.content;
    const write = reembed ? { ...parsed, embedding: null, embeddingModel: null } : { ...parsed };
    // A vector given without its model is of an unknown model: the old label must not stay on it.
    if (parsed.embedding !== undefined && parsed.embeddingModel === undefined) write.embeddingModel = null;
    const guard = read && { id, field: read.guard, clock: existing.clocks[read.guard] ?? null };
    const result = await this.host.write(
      {
        memories: [patchMemoryWrite(id, write, this.host.clock.tick())],
        ...(guard ? { unchanged: [guard] } : {}),
      },
      'update',
      [id],
    );
    // Cleared with an embedder at hand: it gets a fresh one at once, as a reload's scan would give it.
    if (reembed || parsed.embedding === null) embeddings?.enqueue([id]);
    const updated = result.memories[0];
    if (!updated)
      throw new NotFoundError(`update.id: no memory with id ${JSON.stringify(id)}`, {
        field: 'update.id',
      });
    return updated.memory;
  }

  /** Deletes a memory and its links, in call order with the other checked writes; false when there was none. */
  remove(id: string): Promise<boolean> {
    return this.checked(async () => {
      const [record] = await this.host.store.getMemories(this.host.namespace, [id]);
      if (!record) return false;
      await this.bury('memory', id, record, 'remove');
      return !isExpired(record.memory, this.host.nowIso());
    });
  }

  /** Writes a tombstone over a record just read, stamped after its clocks. */
  private async bury(
    entity: Entity,
    id: string,
    record: { clocks: Record<string, string> },
    type: 'remove' | 'unlink',
  ): Promise<void> {
    this.observe(record);
    const tombstone = { entity, id, namespace: this.host.namespace, clock: this.host.clock.tick() };
    await this.host.write({ tombstones: [tombstone] }, type, [id]);
  }

  /** Links two live memories, or updates the link of the same pair and type. */
  link(fromId: string, toId: string, type: string, parsed: LinkOptions): Promise<Link> {
    // One link per (from, to, type): calls at once are queued in call order, and a link another process
    // made meanwhile is found by the store's own check (newIds), after which this one updates it.
    return this.checked(async () => {
      await requireLivePair(this.host, [fromId, 'link.from'], [toId, 'link.to']);
      try {
        return await putLink(this.host, fromId, toId, type, parsed);
      } catch (error) {
        if (!isConflict(error, 'newIds')) throw error;
        return putLink(this.host, fromId, toId, type, parsed);
      }
    });
  }

  /** Deletes a link, in call order with the other checked writes; false when there was none. */
  unlink(linkId: string): Promise<boolean> {
    return this.checked(async () => {
      const [record] = await this.host.store.getLinks(this.host.namespace, [linkId]);
      if (!record) return false;
      await this.bury('link', linkId, record, 'unlink');
      return true;
    });
  }
}
