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
const DASH = 0x2d;
const NODE_MAX = 64;
/** Where the node id starts: after `<12 hex>-<4 hex>-`. */
export const NODE_START = 18;

/**
 * Stamps are checked by hand, not by a regular expression: every pushed record carries several, and a
 * push of 10K records parsed them with a match array and three substrings each. The grammar is
 * `^[0-9a-f]{12}-[0-9a-f]{4}-[A-Za-z0-9._:-]{1,64}$`.
 */
function isStampShape(stamp: string): boolean {
  const length = stamp.length;
  if (length <= NODE_START || length > NODE_START + NODE_MAX || !hasClockPrefix(stamp)) return false;
  for (let i = NODE_START; i < length; i++) if (!isNodeChar(stamp.charCodeAt(i))) return false;
  return true;
}

/** `^[0-9a-f]{12}-[0-9a-f]{4}-`: how a stamp and a `ceilingStamp` both start. */
function hasClockPrefix(stamp: string): boolean {
  if (stamp.charCodeAt(12) !== DASH || stamp.charCodeAt(17) !== DASH) return false;
  for (let i = 0; i < 17; i++) if (i !== 12 && hexDigit(stamp.charCodeAt(i)) < 0) return false;
  return true;
}

/** The wall time and counter a stamp or a `ceilingStamp` starts with, or `undefined` for anything else. */
export function hlcClockPrefix(stamp: string): { wallMs: number; counter: number } | undefined {
  return hasClockPrefix(stamp)
    ? { wallMs: hexValue(stamp, 0, 12), counter: hexValue(stamp, 13, 17) }
    : undefined;
}

/** The value of a lowercase hex digit, or -1. */
function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/** `[A-Za-z0-9._:-]` */
function isNodeChar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x30 && code <= 0x3a) || // digits and ':'
    code === 0x2e ||
    code === 0x5f ||
    code === DASH
  );
}

/** The number written in hex at `[start, end)` of a stamp already known to be well formed. */
function hexValue(stamp: string, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) value = value * 16 + hexDigit(stamp.charCodeAt(i));
  return value;
}

/** The wall clock of a stamp in ms, or `undefined` when it is not a stamp; allocates nothing. */
export function hlcWallMs(stamp: string): number | undefined {
  return isStampShape(stamp) ? hexValue(stamp, 0, 12) : undefined;
}

/** How every stamp made at `wallMs` begins: twelve hex digits of the wall clock and a dash. */
export function hlcWallPrefix(wallMs: number): string {
  return `${wallMs.toString(16).padStart(12, '0')}-`;
}

/**
 * The lowest stamp of the instant `wallMs`: every stamp issued at or after it sorts above, every one issued
 * before it below (the tombstone horizon; a memory's expiry, in merge.ts).
 */
export function floorStamp(wallMs: number): string {
  return formatHlc({ wallMs: Math.max(0, Math.floor(wallMs)), counter: 0, node: '' });
}

export function formatHlc({ wallMs, counter, node }: HlcParts): string {
  return `${hlcWallPrefix(wallMs)}${counter.toString(16).padStart(4, '0')}-${node}`;
}

export function parseHlc(stamp: string): HlcParts | null {
  if (!isStampShape(stamp)) return null;
  return { wallMs: hexValue(stamp, 0, 12), counter: hexValue(stamp, 13, 17), node: stamp.slice(NODE_START) };
}

/**
 * The replica a node id belongs to: its client id, without the part drawn at each opening
 * (`<client id>.<8 hex>`, see create-memory.ts); a node id of an earlier release is the client id itself.
 */
export function clientOfNode(node: string): string {
  const dot = node.indexOf('.');
  return dot < 0 ? node : node.slice(0, dot);
}

export function isHlc(stamp: unknown): stamp is string {
  return typeof stamp === 'string' && isStampShape(stamp);
}

/** The last instant formatted: a batch's stamps and rows share their millisecond. */
let lastIso = { ms: 0, iso: '1970-01-01T00:00:00.000Z' };

const MS_PER_DAY = 86_400_000;
/** 9999-12-31T23:59:59.999Z: past it (and before 1970) `toISOString` writes six-digit or signed years. */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999;

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/**
 * Epoch milliseconds as ISO 8601, exactly as `Date#toISOString` writes them, the last one remembered.
 * Computed by hand from 1970 to 9999 (the civil-from-days algorithm, H. Hinnant, "chrono-compatible
 * low-level date algorithms"): V8's `new Date(ms).toISOString()` takes about 1.9 µs, this about 0.4 µs,
 * and every record a store reads back formats its `createdAt` here (7% of the CPU of reading a search's
 * records on sql.js). No maintained package formats without going through a Date.
 */
export function isoOfMs(ms: number): string {
  if (lastIso.ms === ms) return lastIso.iso;
  let iso: string;
  if (Number.isInteger(ms) && ms >= 0 && ms <= LAST_FOUR_DIGIT_YEAR_MS) {
    const days = Math.floor(ms / MS_PER_DAY);
    let rest = ms - days * MS_PER_DAY;
    const hours = Math.floor(rest / 3_600_000);
    rest -= hours * 3_600_000;
    const minutes = Math.floor(rest / 60_000);
    rest -= minutes * 60_000;
    const seconds = Math.floor(rest / 1000);
    const millis = rest - seconds * 1000;
    // Days since 0000-03-01 in 400-year eras (146,097 days each), years starting in March.
    const shifted = days + 719_468;
    const era = Math.floor(shifted / 146_097);
    const dayOfEra = shifted - era * 146_097;
    const yearOfEra = Math.floor(
      (dayOfEra -
        Math.floor(dayOfEra / 1460) +
        Math.floor(dayOfEra / 36_524) -
        Math.floor(dayOfEra / 146_096)) /
        365,
    );
    const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
    const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
    const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
    const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
    const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
    iso = `${year}-${pad2(month)}-${pad2(day)}T${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}.${pad3(millis)}Z`;
  } else {
    iso = new Date(ms).toISOString();
  }
  lastIso = { ms, iso };
  return iso;
}

/** The wall-clock instant of a stamp, as ISO 8601: how `updatedAt` is derived from clocks. */
export function hlcToIso(stamp: string): string {
  return isoOfMs(hlcWallMs(stamp) ?? 0);
}

/** The greatest stamp whose wall clock is `wallMs`: every stamp of that millisecond or earlier sorts below it. */
export function ceilingStamp(wallMs: number): string {
  return `${hlcWallPrefix(Math.max(0, Math.floor(wallMs)))}ffff-~`;
}

export class HybridLogicalClock {
  private wallMs = 0;
  private counter = 0;
  /**
   * The last stamp `observe` took ('' after a rewind). Its first 17 characters are fixed-width lowercase
   * hex, so a stamp that sorts at or below it as a string holds no later time and changes nothing: an
   * edge observes every field stamp of a push (ten per memory, mostly one repeated), and a string
   * comparison settles those without reading them.
   */
  private lastObserved = '';

  /**
   * `horizonMs` says how far ahead of `now` a valid stamp can be (default {@link MAX_DRIFT_MS});
   * `undefined` means "unknown yet" (a syncing replica before it has heard the edge's time), and then
   * stored stamps are never overridden, only outgrown.
   */
  constructor(
    private currentNode: string,
    private readonly now: () => number = Date.now,
    private readonly horizonMs: () => number | undefined = () => MAX_DRIFT_MS,
  ) {}

  /** The node id this clock's stamps carry. */
  get node(): string {
    return this.currentNode;
  }

  /**
   * Stamps with `node` from now on, which tells every later stamp from those issued before by its node
   * alone, whatever their times (sync/engine.ts, when a clock that ran ahead comes back).
   */
  stampAs(node: string): void {
    this.currentNode = node;
  }

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
      this.lastObserved = '';
    }
  }

  /**
   * Comes back to `stamp` (the clock at the end of the last round; none: to nothing), forgetting what the
   * clock reached since while it ran ahead within the horizon: the stamps it issued then are moved back
   * (restamp.ts `restampAhead`), and a later write over one of them observes it first.
   */
  rewindTo(stamp: string | undefined): void {
    const { wallMs, counter } = (stamp === undefined ? undefined : hlcClockPrefix(stamp)) ?? {
      wallMs: 0,
      counter: 0,
    };
    if (wallMs > this.wallMs || (wallMs === this.wallMs && counter >= this.counter)) return;
    this.wallMs = wallMs;
    this.counter = counter;
    this.lastObserved = '';
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
    if (stamp <= this.lastObserved) return;
    // Read in place, not through parseHlc: an edge observes every stamp of every push.
    if (!isStampShape(stamp)) return;
    const wallMs = hexValue(stamp, 0, 12);
    if (wallMs > this.now() + (this.horizonMs() ?? MAX_DRIFT_MS)) return;
    this.lastObserved = stamp;
    this.advance(wallMs, hexValue(stamp, 13, 17));
  }

  /**
   * Resumes after a stamp this replica's clock reached in an earlier session (see `latest`): later stamps
   * sort after it even when the device clock was set back meanwhile. Unlike `observe`, no horizon applies:
   * the stamp is our own, not one from a clock that may run ahead.
   */
  resumeAfter(stamp: string): void {
    const parts = parseHlc(stamp);
    if (parts) this.advance(parts.wallMs, parts.counter);
  }

  /** The greatest time issued or observed so far, as a stamp of this node (`undefined` before any). */
  latest(): string | undefined {
    if (this.wallMs === 0) return undefined;
    return formatHlc({ wallMs: this.wallMs, counter: this.counter, node: this.node });
  }

  private advance(wallMs: number, counter: number): void {
    if (wallMs > this.wallMs) {
      this.wallMs = wallMs;
      this.counter = counter;
    } else if (wallMs === this.wallMs && counter > this.counter) {
      this.counter = counter;
    }
  }
}

/**
 * Moves the clock past a record's stamps before writing over it: a replica whose wall clock runs
 * behind another's must still produce stamps that win over what it has already seen.
 */
export function observeStamps(clock: HybridLogicalClock, record: { clocks: Record<string, string> }): void {
  for (const stamp of Object.values(record.clocks)) clock.observe(stamp);
}
