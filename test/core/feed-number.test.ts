import { describe, expect, it } from 'vitest';
import { FEED_NUMBERS_PER_MS, feedFloor, nextFeedNumber } from '../../src/core/feed-number.js';

const AT = Date.parse('2026-12-05T12:00:00Z');

describe('feed numbers after the clock', () => {
  it('starts a feed at the clock, then counts on within the millisecond', () => {
    expect(FEED_NUMBERS_PER_MS).toBe(16);
    expect(feedFloor(AT)).toBe(AT * 16);
    const first = nextFeedNumber(0, AT);
    expect(first).toBe(AT * 16 + 1);
    expect(nextFeedNumber(first, AT)).toBe(AT * 16 + 2);
    // A fraction of a millisecond (performance.now-like clocks) moves nothing.
    expect(feedFloor(AT + 0.9)).toBe(AT * 16);
  });

  it('jumps to the clock after a pause, and never goes back when the clock does', () => {
    const last = nextFeedNumber(0, AT);
    expect(nextFeedNumber(last, AT + 1000)).toBe((AT + 1000) * 16 + 1);
    expect(nextFeedNumber(last, AT - 60_000)).toBe(last + 1);
    // A feed that ran ahead of the clock (a bulk write of many changes) counts on from where it is.
    const ahead = AT * 16 + 50_000;
    expect(nextFeedNumber(ahead, AT + 1)).toBe(ahead + 1);
  });

  it('counts on from a feed numbered before this rule (1, 2, 3 …): it only jumps forward', () => {
    expect(nextFeedNumber(41, AT)).toBe(AT * 16 + 1);
  });

  it('does not believe a clock that is not a time, or centuries ahead', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -5]) {
      expect(feedFloor(bad)).toBe(0);
      expect(nextFeedNumber(7, bad)).toBe(8);
    }
    const far = feedFloor(Date.parse('+200000-01-01T00:00:00Z'));
    expect(far).toBe(2 ** 48 * 16);
    expect(Number.isSafeInteger(far + 2 ** 40)).toBe(true);
    expect(feedFloor(Number.MAX_VALUE)).toBe(far);
  });
});
