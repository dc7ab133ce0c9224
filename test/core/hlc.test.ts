import { describe, expect, it } from 'vitest';
import {
  ceilingStamp,
  floorStamp,
  formatHlc,
  HybridLogicalClock,
  hlcToIso,
  hlcWallMs,
  isHlc,
  isoOfMs,
  MAX_DRIFT_MS,
  observeStamps,
  parseHlc,
} from '../../src/core/hlc.js';

/** The grammar the hand-written parser must accept exactly (it replaced this regular expression). */
const GRAMMAR = /^([0-9a-f]{12})-([0-9a-f]{4})-([A-Za-z0-9._:-]{1,64})$/;

function reference(stamp: string) {
  const m = GRAMMAR.exec(stamp);
  return m ? { wallMs: Number.parseInt(m[1]!, 16), counter: Number.parseInt(m[2]!, 16), node: m[3]! } : null;
}

/** Deterministic pseudo-random strings near the grammar: valid stamps with one character or length changed. */
function* nearStamps(count: number): Generator<string> {
  let seed = 12345;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed >>> 8; // the low bits of this generator cycle quickly
  };
  // Neighbours of every range's ends, so an off-by-one in a character class shows.
  const alphabet = '0189afgAFGZz[`{@/:;._-~ \n\u00e9\u0660';
  const pick = () => alphabet[next() % alphabet.length]!;
  for (let i = 0; i < count; i++) {
    const nodeLength = 1 + (next() % 66);
    const chars = [
      ...(next() * 0x1000000 + next()).toString(16).padStart(12, '0'),
      '-',
      ...(next() % 0x10000).toString(16).padStart(4, '0'),
      '-',
      ...Array.from({ length: nodeLength }, () => 'aZ9._:-'[next() % 7]!),
    ];
    const mutation = next() % 4;
    if (mutation === 1) chars[next() % chars.length] = pick();
    if (mutation === 2) chars.splice(next() % chars.length, 1);
    if (mutation === 3) chars.splice(next() % (chars.length + 1), 0, pick());
    yield chars.join('');
  }
}

describe('HLC stamps', () => {
  it('parses exactly what the stamp grammar accepts, with the same parts', () => {
    let valid = 0;
    for (const stamp of nearStamps(20_000)) {
      const expected = reference(stamp);
      expect(parseHlc(stamp), stamp).toEqual(expected);
      expect(isHlc(stamp), stamp).toBe(expected !== null);
      expect(hlcWallMs(stamp), stamp).toBe(expected?.wallMs);
      if (expected) valid++;
    }
    // Both sides of the grammar were exercised.
    expect(valid).toBeGreaterThan(5_000);
    expect(valid).toBeLessThan(19_000);
  });

  it('reads the largest wall clock and counter exactly', () => {
    const stamp = 'ffffffffffff-ffff-n';
    expect(parseHlc(stamp)).toEqual({ wallMs: 0xffffffffffff, counter: 0xffff, node: 'n' });
    expect(formatHlc(parseHlc(stamp)!)).toBe(stamp);
  });

  it('rejects non-strings and edge shapes', () => {
    expect(isHlc(42)).toBe(false);
    expect(isHlc(null)).toBe(false);
    expect(isHlc('0190a1b2c3d4-0000-')).toBe(false);
    expect(isHlc(`0190a1b2c3d4-0000-${'n'.repeat(64)}`)).toBe(true);
    expect(isHlc(`0190a1b2c3d4-0000-${'n'.repeat(65)}`)).toBe(false);
    expect(isHlc('0190A1B2C3D4-0000-node')).toBe(false);
    expect(isHlc('0190a1b2c3d4-0000-node\n')).toBe(false);
    expect(hlcToIso('not a stamp')).toBe(new Date(0).toISOString());
  });

  it('observes valid stamps within the horizon and ignores the rest', () => {
    const now = 1_700_000_000_000;
    const clock = new HybridLogicalClock(
      'me',
      () => now,
      () => 1000,
    );
    clock.observe(formatHlc({ wallMs: now + 500, counter: 7, node: 'x' }));
    clock.observe(formatHlc({ wallMs: now + 500, counter: 3, node: 'x' }));
    clock.observe(formatHlc({ wallMs: now + 5000, counter: 0, node: 'x' })); // beyond the horizon
    clock.observe('0190a1b2c3d4-zzzz-x'); // malformed
    clock.observe(`${(now + 900).toString(16).padStart(12, '0')}-0001-bad node`); // malformed node
    expect(parseHlc(clock.tick())).toEqual({ wallMs: now + 500, counter: 8, node: 'me' });
  });

  it('observes as reading every stamp would, though it skips those sorting below the last one taken', () => {
    // A model of observe without the shortcut: every stamp parsed, kept when later and within the horizon.
    let now = 1_700_000_000_000;
    const horizon = 1000;
    const clock = new HybridLogicalClock(
      'me',
      () => now,
      () => horizon,
    );
    let model = { wallMs: 0, counter: 0 };
    let seed = 11;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return Math.floor((seed / 2_147_483_648) * n);
    };
    const seen: string[] = [];
    for (let step = 0; step < 20_000; step++) {
      const pick = random(10);
      if (pick === 0) {
        // The wall clock moves, sometimes back (then rewind forgets a time beyond the horizon).
        now += random(3000) - 1500;
        clock.rewind();
        if (model.wallMs > now + horizon) model = { wallMs: 0, counter: 0 };
      } else if (pick === 1) {
        const stamp = clock.tick();
        const parsed = parseHlc(stamp)!;
        model = { wallMs: parsed.wallMs, counter: parsed.counter };
        seen.push(stamp);
      } else {
        // Often a stamp seen before (a push repeats one per field), else a fresh one near now, some
        // beyond the horizon, some malformed.
        const stamp =
          pick < 6 && seen.length > 0
            ? seen[random(seen.length)]!
            : random(20) === 0
              ? `${(now + random(2000)).toString(16).padStart(12, '0')}-00g0-x`
              : formatHlc({ wallMs: now - 2000 + random(4000), counter: random(4), node: `n${random(3)}` });
        seen.push(stamp);
        clock.observe(stamp);
        const parsed = parseHlc(stamp);
        if (parsed && parsed.wallMs <= now + horizon) {
          if (parsed.wallMs > model.wallMs) model = { wallMs: parsed.wallMs, counter: parsed.counter };
          else if (parsed.wallMs === model.wallMs && parsed.counter > model.counter)
            model.counter = parsed.counter;
        }
      }
      if (step % 97 === 0) {
        // A tick shows the state: it must follow the model's.
        const stamp = parseHlc(clock.tick())!;
        const wallMs = Math.max(now, model.wallMs);
        const counter = now > model.wallMs ? 0 : model.counter + 1;
        expect({ wallMs: stamp.wallMs, counter: stamp.counter }, `step ${step}`).toEqual({ wallMs, counter });
        model = { wallMs, counter };
      }
    }
  });
});

describe('HLC bounds and rewinds', () => {
  it('floorStamp and ceilingStamp enclose every stamp of their millisecond, and none of the next', () => {
    const ms = 1_700_000_000_123;
    const highest = formatHlc({ wallMs: ms, counter: 0xffff, node: 'z'.repeat(64) });
    const lowest = formatHlc({ wallMs: ms, counter: 0, node: '-' });
    expect(floorStamp(ms) < lowest).toBe(true);
    expect(ceilingStamp(ms) > highest).toBe(true);
    expect(ceilingStamp(ms) < formatHlc({ wallMs: ms + 1, counter: 0, node: '-' })).toBe(true);
    expect(floorStamp(ms) > formatHlc({ wallMs: ms - 1, counter: 0xffff, node: 'z' })).toBe(true);
  });

  it('a frozen wall clock that issues 65,536 stamps in one millisecond moves on to the next', () => {
    const now = 1_700_000_000_000;
    const clock = new HybridLogicalClock('me', () => now);
    expect(clock.latest()).toBeUndefined();
    let last = '';
    for (let i = 0; i <= 0xffff; i++) last = clock.tick();
    expect(parseHlc(last)).toEqual({ wallMs: now, counter: 0xffff, node: 'me' });
    const next = clock.tick();
    expect(parseHlc(next)).toEqual({ wallMs: now + 1, counter: 0, node: 'me' });
    expect(next > last).toBe(true);
    expect(clock.latest()).toBe(next);
  });

  it('a stamp of its own millisecond with a lower counter never sets the counter back', () => {
    // Observed or resumed after, such a stamp changes nothing: the next tick still follows the last one.
    const now = 1_700_000_000_000;
    const clock = new HybridLogicalClock('me', () => now);
    clock.tick();
    clock.tick();
    const last = clock.tick();
    clock.observe(formatHlc({ wallMs: now, counter: 0, node: 'x' }));
    clock.resumeAfter(formatHlc({ wallMs: now, counter: 1, node: 'me' }));
    const next = clock.tick();
    expect(parseHlc(next)).toEqual({ wallMs: now, counter: 3, node: 'me' });
    expect(next > last).toBe(true);
  });

  it('observeStamps moves the clock past every field stamp of a record, not only its first', () => {
    const now = 1_700_000_000_000;
    const clock = new HybridLogicalClock('me', () => now);
    const later = formatHlc({ wallMs: now + 5000, counter: 2, node: 'other' });
    observeStamps(clock, {
      clocks: { content: formatHlc({ wallMs: now - 10, counter: 0, node: 'other' }), tags: later },
    });
    expect(parseHlc(clock.tick())).toEqual({ wallMs: now + 5000, counter: 3, node: 'me' });
  });

  it('a stamp exactly at the horizon is valid: observed, under the ceiling, and kept by a rewind', () => {
    const now = 1_700_000_000_000;
    const clock = new HybridLogicalClock(
      'me',
      () => now,
      () => 1000,
    );
    const edge = formatHlc({ wallMs: now + 1000, counter: 5, node: 'x' });
    expect(clock.ceiling()).toBe(ceilingStamp(now + 1000));
    expect(edge < clock.ceiling()!).toBe(true);
    clock.observe(edge);
    clock.rewind();
    expect(parseHlc(clock.tick())).toEqual({ wallMs: now + 1000, counter: 6, node: 'me' });
  });

  it('before the horizon is known, nothing stored is overridden and a stamp a day ahead is still not observed', () => {
    const now = 1_700_000_000_000;
    const clock = new HybridLogicalClock(
      'me',
      () => now,
      () => undefined,
    );
    expect(clock.ceiling()).toBeUndefined();
    clock.observe(formatHlc({ wallMs: now + MAX_DRIFT_MS + 1, counter: 0, node: 'x' }));
    expect(parseHlc(clock.tick())).toEqual({ wallMs: now, counter: 0, node: 'me' });
    clock.observe(formatHlc({ wallMs: now + MAX_DRIFT_MS, counter: 0, node: 'x' }));
    expect(parseHlc(clock.tick())).toEqual({ wallMs: now + MAX_DRIFT_MS, counter: 1, node: 'me' });
  });

  it('after rewindTo, a stamp observed before the rewind is observed again', () => {
    // A later write over a record the rewind moved back observes its stamps first (restamp.ts).
    const now = 1_700_000_000_000;
    const clock = new HybridLogicalClock('me', () => now);
    const seen = formatHlc({ wallMs: now + 10, counter: 3, node: 'x' });
    clock.observe(seen);
    clock.rewindTo(formatHlc({ wallMs: now + 5, counter: 0, node: 'me' }));
    clock.observe(seen);
    expect(clock.tick() > seen).toBe(true);
  });

  it('rewindTo never moves the clock forward: a later stamp of the same millisecond changes nothing', () => {
    const now = 1_700_000_000_000;
    const clock = new HybridLogicalClock('me', () => now);
    clock.observe(formatHlc({ wallMs: now + 10, counter: 3, node: 'x' }));
    clock.rewindTo(formatHlc({ wallMs: now + 10, counter: 9, node: 'x' }));
    expect(parseHlc(clock.tick())).toEqual({ wallMs: now + 10, counter: 4, node: 'me' });
    // An earlier stamp of that millisecond moves it back to it.
    clock.rewindTo(formatHlc({ wallMs: now + 10, counter: 1, node: 'x' }));
    expect(parseHlc(clock.tick())).toEqual({ wallMs: now + 10, counter: 2, node: 'me' });
  });
});

describe('isoOfMs', () => {
  it('writes what Date#toISOString writes, across the four-digit years and past them', () => {
    const last = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    const instants = [
      0,
      1,
      Date.UTC(2000, 1, 29, 12, 0, 0, 5), // a leap day of a century divisible by 400
      Date.UTC(2100, 1, 28, 23, 59, 59, 999), // 2100 is not a leap year
      Date.UTC(2100, 2, 1),
      Date.UTC(2024, 11, 31, 23, 59, 59, 999),
      last,
      last + 1, // a six-digit year: Date formats it
      -1, // before 1970
      -62_198_755_200_000, // year 0
      1.5, // not a whole millisecond
    ];
    let seed = 7;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      instants.push(Math.floor((seed / 2_147_483_648) * last));
      instants.push(1_700_000_000_000 + seed); // recent instants, a day's worth of milliseconds apart
    }
    for (const ms of instants) expect(isoOfMs(ms), String(ms)).toBe(new Date(ms).toISOString());
  });

  it('throws as Date does for an instant that is not one', () => {
    expect(() => isoOfMs(Number.NaN)).toThrow(RangeError);
  });
});
