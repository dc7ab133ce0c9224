import { EngramError, isEngramError } from '../errors.js';
import type { Json } from '../model.js';
import { type PushEcho, SKIP_MAX, storedEchoes } from './echo.js';
import type { OutboxHost } from './outbox-push.js';
import type { SyncResponse } from './protocol.js';
import { REJECTED_KEY, type RejectedChange, readRejected, withUnreadable } from './quarantine.js';
import { changesToBatch, forEachStamp } from './records.js';
import { KEYS } from './sync-meta.js';
import { edgeForgot, nextWitness, REPUSH_KEY, readWitness, WITNESS_KEY, type Witness } from './witness.js';

/** What the pull needs of its SyncEngine: as the outbox push, with the rejected count for the pending one. */
export interface PullHost extends Omit<OutboxHost, 'pending'> {
  rejected(): number | undefined;
}

/**
 * The pull half of a SyncEngine round: the edge's feed after the stored cursor, page by page. `check` is
 * the witness the round started with (witness.ts): read before the round's push, which may make one of
 * its own writes the witness, and that one the edge would vouch for even if it forgot the one before.
 */
export async function pullFeed(
  host: PullHost,
  pageSize: number,
  check: Witness | null,
  echoes: PushEcho[] = [],
): Promise<number> {
  const { store, namespace, clock } = host.options;
  let pulled = 0;
  const stored = await host.meta(KEYS.cursor);
  let witness = readWitness(await store.getMeta(namespace, WITNESS_KEY));
  /** Set when the edge refused the echoes: the stored ones go with the next cursor write. */
  let refused = false;
  for (let after = stored, first = true; ; first = false) {
    // Every page of a catch-up names the position reached (stored with the page before): the edge checks it
    // against its tombstone horizon, which may pass it while the pull is under way. A pull from 0 names
    // none: its positions pass deletions collected before it began, of records it never had.
    const cursor = stored > 0 && after > 0 ? { cursor: after } : {};
    // The first page also asks for the round's witness (witness.ts): an edge that forgot it lost what
    // this replica had seen it take, and gets everything this replica holds again (OutboxPush.pushAll).
    const asked = first ? check : null;
    const get = asked ? { get: { memories: [asked.id] } } : {};
    // This session's own pushes, which the edge leaves out when its feed still holds them as pushed (echo.ts).
    const skip = echoes.filter((e) => e.last > after).slice(0, SKIP_MAX);
    const request = { ...cursor, ...get, pull: { after, limit: pageSize } };
    const response = await host
      .exchange(skip.length > 0 ? { ...request, pull: { ...request.pull, skip } } : request)
      .catch((error: unknown) => {
        if (
          skip.length === 0 ||
          !isEngramError(error, 'VALIDATION') ||
          !error.field?.startsWith('sync.pull.skip')
        ) {
          throw error;
        }
        // An edge of an older release behind the same address (a deploy under way) refuses the field:
        // the replica's echoes are dropped and the page asked for again without them.
        echoes.length = 0;
        refused = true;
        return host.exchange(request);
      });
    const page = response.pull;
    if (!page) throw new EngramError('OFFLINE', 'sync: the edge answered a pull without changes');
    if (asked && edgeForgot(asked, response)) {
      // A witness is chosen from later pages: this one would be found forgotten again if the records
      // pushed back no longer hold it, and one the push just set proves nothing.
      witness = null;
      await store.apply(namespace, { meta: { [REPUSH_KEY]: 0, [WITNESS_KEY]: null } });
    }
    if (page.cursor < after) {
      // The edge's feed ends before our cursor: its database was reset or restored. Without this, every
      // pull would ask for changes past a position the feed has not reached and find none, for ever.
      after = 0;
      await store.apply(namespace, { meta: { [KEYS.cursor]: 0 } });
      continue;
    }
    // Echoes the cursor passes are never needed again: they go from the stored ones with the cursor write.
    const kept = echoes.filter((e) => e.last > page.cursor);
    const echoMeta: Record<string, Json> =
      refused || kept.length < echoes.length ? { [KEYS.echoes]: storedEchoes(kept) } : {};
    refused = false;
    echoes.splice(0, echoes.length, ...kept);
    if (page.changes.length > 0 || page.cursor !== after) {
      const batch = changesToBatch(page.changes);
      forEachStamp(batch, (stamp) => clock.observe(stamp));
      const next = nextWitness(witness, page.changes);
      await store.apply(namespace, {
        ...batch,
        origin: 'remote',
        meta: {
          [KEYS.cursor]: page.cursor,
          ...(next === witness ? {} : { [WITNESS_KEY]: next }),
          ...echoMeta,
        },
        clockCeiling: clock.ceiling(),
        pushBackTombstones: true,
      });
      witness = next;
      pulled += page.changes.length;
      await clearPulled(
        host,
        page.changes.flatMap((c) => (c.memory || c.link ? [c.id] : [])),
      );
      if (page.changes.length > 0) host.options.onPulled(page.changes.map((c) => c.id));
    } else if (KEYS.echoes in echoMeta) {
      await store.apply(namespace, { meta: echoMeta });
    }
    after = page.cursor;
    if (!page.hasMore) return pulled;
  }
}

/**
 * Records an encrypted replica could not open (see EncryptingTransport) go on the rejected list before
 * the pull that left them out moves the cursor past them: reported, never silently missing.
 */
export async function setAsideUnreadable(
  host: PullHost,
  records: NonNullable<SyncResponse['unreadable']>,
): Promise<void> {
  const { store, namespace } = host.options;
  const at = new Date(host.options.offset.device()).toISOString();
  const refused: RejectedChange[] = records.map((r) => ({ ...r, at, unreadable: true as const }));
  const previous = await readRejected(store, namespace);
  const kept = withUnreadable(previous, refused);
  await store.apply(namespace, { meta: { [REJECTED_KEY]: kept } });
  host.setStatus({ rejected: (kept as unknown[]).length || undefined });
  for (const change of refused) host.options.onRejected?.(change);
}

/** A record pulled whole again (it opened this time) leaves the rejected list. */
async function clearPulled(host: PullHost, ids: readonly string[]): Promise<void> {
  if (!host.rejected() || ids.length === 0) return;
  const { store, namespace } = host.options;
  const pulled = new Set(ids);
  const previous = await readRejected(store, namespace);
  const kept = previous.filter((r) => !(r.unreadable && pulled.has(r.id)));
  if (kept.length === previous.length) return;
  await store.apply(namespace, { meta: { [REJECTED_KEY]: kept as unknown as Json } });
  host.setStatus({ rejected: kept.length || undefined });
}
