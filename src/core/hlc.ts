/**
 * Hybrid logical clock. A timestamp is a string that sorts like the clock itself:
 * `<wall ms, 12 hex>-<counter, 4 hex>-<node id>`, so replicas compare stamps with plain `<`,
 * and the node id (client id) breaks ties identically everywhere.
 */
export interface HlcParts {
  wallMs: number;
  counter: number;
  node: string;
}

const MAX_COUNTER = 0xffff;
/**
 * Without a better bound (no edge has told us its skew limit), a stamp further ahead of our wall
 * clock than this is from a broken or hostile clock: it is not observed, and any write overrides it.
 */
export const MAX_DRIFT_MS = 24 * 60 * 60 * 1000;
const STAMP = /^([0-9a-f]{12})-([0-9a-f]{4})-([A-Za-z0-9._:-]{1,64})$/;

export function formatHlc({ wallMs, counter, node }: HlcParts): string {
  return `${wallMs.toString(16).padStart(12, '0')}-${counter.toString(16).padStart(4, '0')}-${node}`;
}

export function parseHlc(stamp: string): HlcParts | null {
  const m = STAMP.exec(stamp);
  if (!m) return null;
  return { wallMs: Number.parseInt(m[1]!, 16), counter: Number.parseInt(m[2]!, 16), node: m[3]! };
}

export function isHlc(stamp: unknown): stamp is string {
  return typeof stamp === 'string' && STAMP.test(stamp);
}

/** The last instant formatted: a batch's stamps share their millisecond, and formatting a Date is not free. */
let lastIso = { wallMs: 0, iso: new Date(0).toISOString() };

/** The wall-clock instant of a stamp, as ISO 8601: how `updatedAt` is derived from clocks. */
export function hlcToIso(stamp: string): string {
  const wallMs = parseHlc(stamp)?.wallMs ?? 0;
  if (lastIso.wallMs !== wallMs) lastIso = { wallMs, iso: new Date(wallMs).toISOString() };
  return lastIso.iso;
}

/** The greatest stamp whose wall clock is `wallMs`: every stamp of that millisecond or earlier sorts below it. */
export function ceilingStamp(wallMs: number): string {
  return `${Math.max(0, Math.floor(wallMs)).toString(16).padStart(12, '0')}-ffff-~`;
}

export class HybridLogicalClock {
  private wallMs = 0;
  private counter = 0;

  /**
   * `horizonMs` says how far ahead of `now` a valid stamp can be (default {@link MAX_DRIFT_MS});
   * `undefined` means "unknown yet" (a syncing replica before it has heard the edge's time), and then
   * stored stamps are never overridden, only outgrown.
   */
  constructor(
    readonly node: string,
    private readonly now: () => number = Date.now,
    private readonly horizonMs: () => number | undefined = () => MAX_DRIFT_MS,
  ) {}

  /** Stamps above this are from a wrong clock: a write overrides them (see `WriteBatch.clockCeiling`). */
  ceiling(): string | undefined {
    const horizon = this.horizonMs();
    return horizon === undefined ? undefined : ceilingStamp(this.now() + horizon);
  }

  /** Forgets a wall time beyond the horizon (issued while our clock ran ahead), so stamps come back to now. */
  rewind(): void {
    const horizon = this.horizonMs();
    if (horizon !== undefined && this.wallMs > this.now() + horizon) {
      this.wallMs = 0;
      this.counter = 0;
    }
  }

  /** The clock's current wall time (corrected when `now` is). */
  wallNow(): number {
    return this.now();
  }

  /** A new stamp for a local event, strictly greater than every stamp seen or issued so far. */
  tick(): string {
    const physical = this.now();
    if (physical > this.wallMs) {
      this.wallMs = physical;
      this.counter = 0;
    } else if (this.counter < MAX_COUNTER) {
      this.counter++;
    } else {
      this.wallMs++;
      this.counter = 0;
    }
    return formatHlc({ wallMs: this.wallMs, counter: this.counter, node: this.node });
  }

  /** Folds in a stamp received from another replica so later local stamps sort after it. */
  observe(stamp: string): void {
    const remote = parseHlc(stamp);
    if (!remote || remote.wallMs > this.now() + (this.horizonMs() ?? MAX_DRIFT_MS)) return;
    if (remote.wallMs > this.wallMs) {
      this.wallMs = remote.wallMs;
      this.counter = remote.counter;
    } else if (remote.wallMs === this.wallMs && remote.counter > this.counter) {
      this.counter = remote.counter;
    }
  }
}
