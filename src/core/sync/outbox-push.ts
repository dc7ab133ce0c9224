import { readChangeStates } from '../change-states.js';
import { isEngramError } from '../errors.js';
import { hlcWallMs } from '../hlc.js';
import type { Json } from '../model.js';
import type { ChangeEntry, LinkWrite, MemoryWrite } from '../store-contract.js';
import type { ClockOffset } from './clock-offset.js';
import { ECHOES_STORED, type PushEcho, readEchoes, storedEchoes } from './echo.js';
import type { SyncEngineOptions, SyncStatus } from './engine-options.js';
import type { PushedRecords, SyncRequest, SyncResponse } from './protocol.js';
import { chunkPush, feedSeqs, PushProgress } from './push-chunks.js';
import {
  pushQuarantining,
  REJECTED_KEY,
  type RejectedChange,
  readRejected,
  rejectedAfterPush,
} from './quarantine.js';
import { linkRecordToWrite, memoryRecordToWrite } from './records.js';
import {
  type MovedBack,
  type MovedSince,
  type OutgoingWrites,
  restampAhead,
  restampBehind,
  restampFuture,
  restampStale,
  STALE_AHEAD_MS,
  type StampWindow,
} from './restamp.js';
import { RESYNC_KEYS } from './resync.js';
import { KEYS } from './sync-meta.js';
import { REPUSH_KEY, readWitness, WITNESS_KEY, witnessAfterPush } from './witness.js';

/**
 * Outbox entries read at a time: several requests' worth (chunkPush cuts them), so that few requests of
 * a push are small ones; each request is a transaction on the edge.
 */
const PUSH_PAGE = 4000;
/** Echoes held for the pulls at most (a million records' pushes); past it, the pulls bring the rest back. */
const ECHOES_KEPT = 1000;

type Push = Required<PushedRecords>;

/** What the outbox push needs of its SyncEngine: its options, its requests to the edge and its status. */
export interface OutboxHost {
  readonly options: SyncEngineOptions & { offset: ClockOffset };
  meta(key: string): Promise<number>;
  exchange(request: SyncRequest): Promise<SyncResponse>;
  pending(): number;
  /** Whether the edge takes lone stamps (lone-stamps.ts), as its last answer said. */
  loneStamps(): boolean;
  setStatus(patch: Partial<SyncStatus>): void;
}

/** The push half of a SyncEngine round: the outbox, page by page and request by request, restamped where needed. */
export class OutboxPush {
  /** This session's stamps issued while the clock ran behind or ahead, until the push that moves them ends. */
  window: StampWindow | undefined;
  /**
   * From the session's first answer until the stamps it covers are moved (moveBackLocally): the window
   * after the last round, in which stamps later than now move back (restampStale).
   */
  stale: MovedSince | undefined;
  /**
   * The echoes of the replica's pushes (echo.ts), in the order they were answered: the pulls name them,
   * and drop each once the cursor has passed it. Stored (`sync.echoes`) with the outbox cursor each push
   * request moves, and with the pull cursor that passes them, so a replica reloaded between its push and
   * its pull (a closed tab, a restarted app) still leaves its own writes out: no write of its own.
   */
  readonly echoes: PushEcho[] = [];
  /** Whether `echoes` holds the stored ones yet (read once, by the session's first round). */
  private echoesRead = false;
  /** Echoes answered since the last meta write that stored them. */
  private echoesAnswered = false;

  constructor(private readonly host: OutboxHost) {}

  /** One push request; its echo, when the edge answered one, is kept for the pulls. */
  private readonly send = async (request: SyncRequest): Promise<SyncResponse> => {
    const response = await this.host.exchange(request);
    // Kept only in a sound shape: it is stored, and named to the edge by every pull until passed.
    const [echo] = readEchoes([response.push?.echo as unknown as Json]);
    if (echo && this.echoes.length < ECHOES_KEPT) {
      this.echoes.push(echo);
      // Past the stored ones, the stored meta would not change.
      if (this.echoes.length <= ECHOES_STORED) this.echoesAnswered = true;
    }
    return response;
  };

  /** Reads the echoes an earlier session stored, once, before this session's first push. */
  async loadStoredEchoes(): Promise<void> {
    if (this.echoesRead) return;
    const { store, namespace } = this.host.options;
    const stored = readEchoes(await store.getMeta(namespace, KEYS.echoes));
    this.echoes.unshift(...stored.slice(0, ECHOES_KEPT - this.echoes.length));
    this.echoesRead = true;
  }

  /** The echoes to store with the next meta write, when a request answered some since the last one. */
  private echoMeta(): Record<string, Json> {
    if (!this.echoesAnswered) return {};
    this.echoesAnswered = false;
    return { [KEYS.echoes]: storedEchoes(this.echoes) };
  }

  /**
   * Pushes the outbox page by page and each page request by request, in feed order; every request the
   * edge takes moves `sync.pushedSeq` past what it settled (PushProgress), in the same write as the records
   * it refused, so a round cut short by the network sends only the rest next time. `pushedAt` (a stamp
   * taken before the outbox was read) is stored with the last request of the last page: resync.ts takes
   * every record created before it for one the edge had, so it must not move before the whole outbox went.
   */
  async pushOutbox(pushedAt: string): Promise<number> {
    const { store, namespace } = this.host.options;
    let pushed = 0;
    for (let after = await this.host.meta(KEYS.pushed), first = true; ; first = false) {
      const page = await store.changes(namespace, after, PUSH_PAGE);
      if (page.length === 0) {
        // The previous page was full (or restamped): it could not tell it was the last one.
        if (!first) await store.apply(namespace, { meta: { [RESYNC_KEYS.pushedAt]: pushedAt } });
        this.closeWindow();
        return pushed;
      }
      const local = page.filter((e) => e.origin === 'local');
      const { writes, moved } = await this.restamp(await this.loadWrites(local));
      const seqOf = feedSeqs(local);
      const progress = new PushProgress(writes, seqOf, page[page.length - 1]!.seq);
      // Restamped records were written again locally: their new feed entries come in a later page.
      const last = page.length < PUSH_PAGE && moved === 0;
      const requests = [...chunkPush(writes, seqOf, this.host.loneStamps())];
      // A page without records to send (remote changes, restamped records) still moves the cursor.
      if (requests.length === 0) requests.push({ push: { memories: [], links: [], tombstones: [] } });
      for (const [i, request] of requests.entries()) {
        const final = last && i === requests.length - 1;
        pushed += await this.pushRequest(request.push as Push, progress, final ? pushedAt : undefined);
      }
      if (last) {
        this.closeWindow();
        return pushed;
      }
      after = page[page.length - 1]!.seq;
    }
  }

  /**
   * When the edge was found to have forgotten what this replica pulled (witness.ts, which sets
   * `sync.repushSeq`): sends every record this replica holds, memories, links and tombstones, pulled ones
   * too, page by page in feed order from that position, and clears the mark after the last page (a round
   * cut short goes on from the page it reached). Merges are idempotent: what the edge still holds at the
   * same stamps or newer changes nothing there. A record the edge refuses is left out, not set aside as
   * a rejected change: it is not this replica's write.
   */
  async pushAll(): Promise<void> {
    const { store, namespace } = this.host.options;
    const from = await store.getMeta(namespace, REPUSH_KEY);
    if (typeof from !== 'number') return;
    for (let after = from; ; ) {
      const page = await store.changes(namespace, after, PUSH_PAGE);
      const pages = chunkPush(await this.loadWrites(page), feedSeqs(page), this.host.loneStamps());
      for (const request of pages) {
        await pushQuarantining(this.send, request.push as Push, () => {});
      }
      const last = page.length < PUSH_PAGE;
      after = page.at(-1)?.seq ?? after;
      await store.apply(namespace, { meta: { [REPUSH_KEY]: last ? null : after, ...this.echoMeta() } });
      if (last) return;
    }
  }

  /**
   * The session's first answer found the clock ahead: the window's stamps are moved back here, locally,
   * before the round pushes anything (they go out with its push), and the window closes. Stamps still
   * later than now, whatever it found, move back in the same pass (restampStale). Moved in the push
   * instead, page by page, a record of a later page kept the time the clock ran ahead to while the requests
   * before it were out, and an edit made then over it observed that time and carried it too. A store that
   * fails here leaves the window open: the round fails, and the next one moves it.
   */
  async moveBackLocally(): Promise<void> {
    const window = this.window && this.window.deltaMs < 0 ? this.window : undefined;
    const stale = this.stale;
    if (!window && !stale) return;
    const { store, namespace, clock } = this.host.options;
    for (let after = await this.host.meta(KEYS.pushed); ; ) {
      const page = await store.changes(namespace, after, PUSH_PAGE);
      let writes = await this.loadWrites(page.filter((e) => e.origin === 'local'));
      let moved = 0;
      if (window) {
        const ahead = await this.rewriteBack(writes, restampAhead(writes, window, clock), window);
        ({ writes } = ahead);
        moved += ahead.moved;
      }
      if (stale) moved += (await this.rewriteBack(writes, restampStale(writes, stale, clock), stale)).moved;
      // Moved records come back at the feed's end, where each rule's `moved` set passes over what it
      // moved: read on until a page moves nothing, so that a record one rule moved (and took out of this
      // page) is seen there by the other (a field stamped ahead in an earlier session; an edit made over
      // it while the pass read, which observed a stamp not moved yet).
      if (page.length === 0 || (page.length < PUSH_PAGE && moved === 0)) break;
      after = page[page.length - 1]!.seq;
    }
    // The clock observed stamps from the future (an edit over one of them): it comes back.
    const latest = clock.latest();
    if (stale && latest !== undefined && hlcWallMs(latest)! - clock.wallNow() > STALE_AHEAD_MS) {
      clock.rewindTo(stale.after);
    }
    this.stale = undefined;
    if (window) this.closeWindow();
  }

  /**
   * The window's stamps were moved. A clock that ran ahead came back at the answer (engine.ts `noteMoved`),
   * but an edit made meanwhile over a record not moved yet observed its stamps: the clock comes back again
   * to where the last round left it, else every later stamp of the session would carry the time it ran
   * ahead to, and win over edits made after it elsewhere.
   */
  private closeWindow(): void {
    if (this.window && this.window.deltaMs < 0) this.host.options.clock.rewindTo(this.window.after);
    this.window = undefined;
  }

  /**
   * Sends one request of the outbox (records the edge refuses are set aside, the rest sent again), then
   * moves the outbox cursor past what it settled, with the refusals (and `pushedAt` after the last request
   * of the outbox), in one write. Returns how many records the edge took.
   */
  private async pushRequest(push: Push, progress: PushProgress, pushedAt?: string): Promise<number> {
    const { store, namespace } = this.host.options;
    const refused: RejectedChange[] = [];
    await pushQuarantining(this.send, push, (change) =>
      refused.push({ ...change, at: new Date(this.host.options.offset.device()).toISOString() }),
    );
    const count = push.memories.length + push.links.length + push.tombstones.length;
    const rejected = rejectedAfterPush(await readRejected(store, namespace), push, refused);
    const witness = readWitness(await store.getMeta(namespace, WITNESS_KEY));
    const next = witnessAfterPush(
      witness,
      push.memories,
      new Set(refused.flatMap((r) => (r.entity === 'memory' ? [r.id] : []))),
    );
    await store.apply(namespace, {
      meta: {
        [KEYS.pushed]: progress.settle(push),
        ...(next === witness ? {} : { [WITNESS_KEY]: next }),
        ...(pushedAt ? { [RESYNC_KEYS.pushedAt]: pushedAt } : {}),
        ...(rejected ? { [REJECTED_KEY]: rejected as unknown as Json } : {}),
        ...this.echoMeta(),
      },
    });
    this.host.setStatus({
      pending: Math.max(0, this.host.pending() - count),
      ...(rejected ? { rejected: rejected.length || undefined } : {}),
    });
    for (const change of refused) this.host.options.onRejected?.(change);
    return count - refused.length;
  }

  /**
   * Brings stamps made while the device clock ran ahead back into the edge's bounds, and moves those
   * issued while it ran behind, under an offset the session's first answer corrected (`window`), forward
   * by what it corrected (those of a clock found ahead were moved before the push: `moveBackLocally`).
   */
  private async restamp(writes: OutgoingWrites): Promise<{ writes: OutgoingWrites; moved: number }> {
    const { offset, clock } = this.host.options;
    const ceiling = clock.ceiling();
    const future = restampFuture(writes, ceiling, offset.offset, clock);
    const ahead = await this.rewrite(writes, future, ceiling);
    const window = this.window;
    // A window of a clock found ahead was moved before the round pushed (moveBackLocally).
    if (!window || window.deltaMs < 0) return ahead;
    // Moved already, by the learned offset: they come back through the outbox in the edge's time.
    for (const w of [...(future?.memories ?? []), ...(future?.links ?? [])]) window.moved.add(w.id);
    const behind = await this.rewrite(ahead.writes, restampBehind(ahead.writes, window, clock));
    return { writes: behind.writes, moved: ahead.moved + behind.moved };
  }

  /**
   * Writes the memories and links restampAhead or restampStale moved back again locally, each only if no
   * edit touched its moved fields since they were read (`unchanged`), below the window's start as the
   * ceiling, so the lower stamps replace the stored ones. A batch one edit made meanwhile refuses is written record by record,
   * and a record such an edit changed goes out as it is. Moved records come back through the outbox.
   */
  private async rewriteBack(
    writes: OutgoingWrites,
    back: MovedBack | undefined,
    window: MovedSince,
  ): Promise<{ writes: OutgoingWrites; moved: number }> {
    if (!back) return { writes, moved: 0 };
    const { store, namespace } = this.host.options;
    const clockCeiling = window.after ?? '';
    const write = (memories: MemoryWrite[], links: LinkWrite[]) => {
      const ids = new Set([...memories, ...links].map((w) => w.id));
      return store.apply(namespace, {
        memories,
        links,
        clockCeiling,
        unchanged: back.guards.filter((g) => ids.has(g.id)),
      });
    };
    const later = new Set<string>();
    try {
      await write(back.memories, back.links);
      for (const w of [...back.memories, ...back.links]) later.add(w.id);
    } catch (error) {
      if (!isEngramError(error, 'CONFLICT')) throw error;
      const single = [
        ...back.memories.map((w) => ({ id: w.id, memories: [w], links: [] })),
        ...back.links.map((w) => ({ id: w.id, memories: [], links: [w] })),
      ];
      for (const { id, memories, links } of single) {
        try {
          await write(memories, links);
          later.add(id);
        } catch (refused) {
          if (!isEngramError(refused, 'CONFLICT')) throw refused;
        }
      }
    }
    for (const id of later) window.moved.add(id);
    return {
      writes: {
        ...writes,
        memories: writes.memories.filter((w) => !later.has(w.id)),
        links: writes.links.filter((w) => !later.has(w.id)),
      },
      moved: later.size,
    };
  }

  /**
   * Restamped memories and links are written again locally (so this replica and the edge agree) and go
   * out with their new feed entries, not in this push; restamped tombstones, which win whatever their
   * stamp, replace theirs in it. `clockCeiling` lets stamps moved back override the stored ones.
   */
  private async rewrite(
    writes: OutgoingWrites,
    fixed: OutgoingWrites | undefined,
    clockCeiling?: string,
  ): Promise<{ writes: OutgoingWrites; moved: number }> {
    if (!fixed) return { writes, moved: 0 };
    const { store, namespace } = this.host.options;
    if (fixed.memories.length + fixed.links.length > 0) {
      await store.apply(namespace, {
        memories: fixed.memories,
        links: fixed.links,
        ...(clockCeiling === undefined ? {} : { clockCeiling }),
      });
    }
    const later = new Set([...fixed.memories, ...fixed.links].map((w) => w.id));
    const tombstones = new Map(fixed.tombstones.map((t) => [t.id, t]));
    return {
      writes: {
        memories: writes.memories.filter((w) => !later.has(w.id)),
        links: writes.links.filter((w) => !later.has(w.id)),
        tombstones: writes.tombstones.map((t) => tombstones.get(t.id) ?? t),
      },
      moved: later.size,
    };
  }

  private async loadWrites(entries: ChangeEntry[]): Promise<OutgoingWrites> {
    const states = await readChangeStates(this.host.options.store, this.host.options.namespace, entries);
    return {
      memories: states.flatMap((s) => (s.memory && !s.tombstone ? [memoryRecordToWrite(s.memory)] : [])),
      links: states.flatMap((s) => (s.link && !s.tombstone ? [linkRecordToWrite(s.link)] : [])),
      tombstones: states.flatMap((s) => (s.tombstone ? [s.tombstone] : [])),
    };
  }
}
