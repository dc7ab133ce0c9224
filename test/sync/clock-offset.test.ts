import { describe, expect, it } from 'vitest';
import { MAX_DRIFT_MS } from '../../src/core/hlc.js';
import { ClockOffset } from '../../src/core/sync/clock-offset.js';

/** The edge's clock in these tests: 2026, far from the device's (which starts at 1 000 ms). */
const EDGE_MS = Date.UTC(2026, 0, 1);

describe('what a replica learns of the edge’s clock', () => {
  it('takes the offset at the middle of the round trip', () => {
    let device = 1_000;
    const offset = new ClockOffset(() => device);
    // Asked at 1 000, answered at 1 400 (device time): the edge read its clock at about 1 200.
    offset.learn(EDGE_MS, 60_000, 1_000, 1_400);
    expect(offset.offset).toBe(EDGE_MS - 1_200);
    device = 1_500;
    expect(offset.now()).toBe(EDGE_MS + 300);
  });

  it('a stamp may run ahead by the edge’s bound, plus a second for the measurement, capped at a day', () => {
    const offset = new ClockOffset(() => 0);
    expect(offset.horizon()).toBeUndefined();
    offset.learn(EDGE_MS, 60_000, 0, 0);
    expect(offset.horizon()).toBe(61_000);
    offset.learn(EDGE_MS, 7 * MAX_DRIFT_MS, 0, 0);
    expect(offset.maxSkew).toBe(MAX_DRIFT_MS);
  });

  it('a bound that is not a duration is no edge’s answer, and nothing is learnt from it', () => {
    const offset = new ClockOffset(() => 0);
    for (const bound of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => offset.learn(EDGE_MS, bound, 0, 0)).toThrow(
        expect.objectContaining({
          code: 'OFFLINE',
          message: expect.stringContaining(`maxClockSkewMs ${bound}`),
        }),
      );
    }
    expect(offset.calibrated).toBe(false);
    expect(offset.offset).toBe(0);
  });

  it('a time no stamp can hold is no edge’s answer, and nothing is learnt from it', () => {
    const offset = new ClockOffset(() => 0);
    for (const time of [Number.NaN, -1, 2 ** 48, Number.POSITIVE_INFINITY]) {
      expect(() => offset.learn(time, 60_000, 0, 0)).toThrow(
        expect.objectContaining({ code: 'OFFLINE', message: expect.stringContaining(`serverTime ${time}`) }),
      );
    }
    expect([offset.offset, offset.calibrated, offset.horizon()]).toEqual([0, false, undefined]);
  });

  it('an answer at each limit is an edge’s: a bound of 0, the first instant of 2020, the last a stamp holds', () => {
    const offset = new ClockOffset(() => 0);
    offset.learn(EDGE_MS, 0, 0, 0);
    expect([offset.maxSkew, offset.horizon()]).toEqual([0, 1_000]);
    for (const time of [Date.UTC(2020, 0, 1), 2 ** 48 - 1]) {
      offset.learn(time, 60_000, 0, 0);
      expect(offset.offset).toBe(time);
    }
    // A millisecond before 2020 is not.
    expect(() => offset.learn(Date.UTC(2020, 0, 1) - 1, 60_000, 0, 0)).toThrow(
      expect.objectContaining({ code: 'OFFLINE' }),
    );
  });

  it('an offset remembered from an earlier session holds until the edge is heard, and never over it', () => {
    const offset = new ClockOffset(() => 0);
    offset.restore(5_000, 30_000);
    expect([offset.offset, offset.maxSkew, offset.calibrated]).toEqual([5_000, 30_000, false]);
    offset.learn(EDGE_MS, 60_000, 0, 0);
    offset.restore(5_000, 30_000);
    expect([offset.offset, offset.maxSkew, offset.calibrated]).toEqual([EDGE_MS, 60_000, true]);
    // Refused for skew: the next round asks the time again, from the offset it has.
    offset.forget();
    expect([offset.offset, offset.calibrated]).toEqual([EDGE_MS, false]);
  });
});
