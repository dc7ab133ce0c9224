/**
 * Change-feed numbers follow the clock: a store numbers a change above its last number and at least the
 * wall clock in milliseconds × FEED_NUMBERS_PER_MS. A replica's pull cursor is a number the edge handed
 * out; an edge reset, or restored from an older backup, would otherwise number its next changes from
 * where its restored feed ended, hand out again numbers a replica's cursor had passed, and that replica
 * would skip those changes for good (docs/sync.md, "A server that forgot"). Numbered after the clock,
 * the new history starts past everything the lost one handed out, unless that one ran ahead of the clock
 * (more than FEED_NUMBERS_PER_MS changes a millisecond, kept up until the restore).
 *
 * 16 a millisecond keeps today's numbers under 2^47, which SQLite stores in 6 bytes (8 from 2248).
 */
export const FEED_NUMBERS_PER_MS = 16;

/** Past this (year 10889) a clock is not believed: numbers stay well inside Number.MAX_SAFE_INTEGER. */
const LATEST_MS = 2 ** 48;

/** The lowest number a change made at `nowMs` may take. */
export function feedFloor(nowMs: number = Date.now()): number {
  const ms = Number.isFinite(nowMs) ? Math.min(Math.max(Math.floor(nowMs), 0), LATEST_MS) : 0;
  return ms * FEED_NUMBERS_PER_MS;
}

/** The number of the change after `last`. */
export function nextFeedNumber(last: number, nowMs: number = Date.now()): number {
  return Math.max(last, feedFloor(nowMs)) + 1;
}
