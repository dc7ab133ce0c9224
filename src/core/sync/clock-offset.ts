import { EngramError } from '../errors.js';
import { MAX_DRIFT_MS } from '../hlc.js';

/**
 * Our offset is only as good as half a round trip; a stored stamp must be this much beyond the edge's
 * limit before a local write overrides it, so a stamp the edge accepted is never overridden here.
 */
const SLACK_MS = 1000;
/** The latest wall time a stamp holds (12 hex digits). */
const MAX_WALL_MS = 2 ** 48 - 1;
/**
 * No Engram edge ran before 2020: an earlier time is not an edge's clock but, most often, one in seconds
 * (1.8e9 read as milliseconds is January 1970), which would stamp every later edit 56 years back.
 */
const EARLIEST_EDGE_MS = Date.UTC(2020, 0, 1);

/**
 * What a syncing replica knows about the edge's clock. Every sync response carries the server's time;
 * the offset between it and the device clock (measured at the middle of the round trip) corrects the
 * time the replica stamps its writes with, so a device whose clock is hours ahead or behind still
 * stamps in the server's time, within the edge's skew limit, and its later edits still win.
 */
export class ClockOffset {
  private offsetMs = 0;
  private maxSkewMs: number | undefined;
  /** Whether this session has heard the server's time (a stored offset may be stale). */
  private heardThisSession = false;

  constructor(private readonly deviceNow: () => number) {}

  /** The device clock corrected by the last known offset: the replica's HLC runs on this. */
  readonly now = (): number => this.deviceNow() + this.offsetMs;

  /**
   * How far ahead of `now` a valid stamp can be: the edge's skew limit once known; unknown before the
   * first answer (a stored stamp is then never overridden by a local write, only outgrown).
   */
  readonly horizon = (): number | undefined =>
    this.maxSkewMs === undefined ? undefined : this.maxSkewMs + SLACK_MS;

  get calibrated(): boolean {
    return this.heardThisSession;
  }

  get offset(): number {
    return this.offsetMs;
  }

  /** The edge's skew limit, once heard (or restored). */
  get maxSkew(): number | undefined {
    return this.maxSkewMs;
  }

  /** The device's own clock, for timing round trips. */
  device(): number {
    return this.deviceNow();
  }

  /** Starts from an offset remembered by an earlier session, until the server is heard again. */
  restore(offsetMs: number, maxSkewMs: number): void {
    if (this.heardThisSession) return;
    this.offsetMs = offsetMs;
    this.maxSkewMs = maxSkewMs;
  }

  /**
   * Folds in one answer: `serverTime` was read between `sentAt` and `receivedAt` (device clock). An answer
   * whose time no stamp can hold (negative, or past 12 hex digits), or no edge's clock can be (before
   * 2020: seconds, not milliseconds), or whose bound is not a duration is
   * OFFLINE, like one that is not an Engram answer: learnt, it made every later local stamp malformed or
   * from 1970, and was kept for the next session.
   */
  learn(serverTime: number, maxSkewMs: number, sentAt: number, receivedAt: number): void {
    if (!Number.isFinite(serverTime) || serverTime < 0 || serverTime > MAX_WALL_MS) {
      throw notEdgeTime(`serverTime ${serverTime}`);
    }
    if (serverTime < EARLIEST_EDGE_MS) {
      throw notEdgeTime(
        `serverTime ${serverTime} (${new Date(serverTime).toISOString()}, before any Engram edge ran)`,
      );
    }
    if (!Number.isFinite(maxSkewMs) || maxSkewMs < 0) throw notEdgeTime(`maxClockSkewMs ${maxSkewMs}`);
    this.offsetMs = Math.round(serverTime - (sentAt + receivedAt) / 2);
    this.maxSkewMs = Math.min(maxSkewMs, MAX_DRIFT_MS);
    this.heardThisSession = true;
  }

  /** After the edge refused a stamp for skew: the next round asks for the time again before pushing. */
  forget(): void {
    this.heardThisSession = false;
  }
}

function notEdgeTime(got: string): EngramError {
  return new EngramError(
    'OFFLINE',
    `sync: the edge answered ${got}, not epoch milliseconds an Engram edge sends (is the url an Engram edge?)`,
  );
}
