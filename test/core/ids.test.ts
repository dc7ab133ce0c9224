import { describe, expect, it } from 'vitest';
import { ID_PATTERN, randomHex, uuidv7 } from '../../src/core/ids.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('writes the millisecond first, then the version and variant of RFC 9562', () => {
    const ms = Date.UTC(2030, 0, 1);
    const id = uuidv7(ms);
    expect(id).toMatch(UUID_V7);
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(ms);
  });

  it('ids of one process increase strictly: within a millisecond, and when the clock steps back', () => {
    const base = Date.UTC(2031, 0, 1);
    // Twenty within one millisecond, twenty more after the clock was set back by a second, then one after.
    const times = [...Array(20).fill(base), ...Array(20).fill(base - 1000), base + 1];
    const ids = times.map((ms) => uuidv7(ms));
    for (const id of ids) expect(id).toMatch(UUID_V7);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('ID_PATTERN', () => {
  it('takes 1 to 128 characters of [A-Za-z0-9._:-], but not the path segments . and ..', () => {
    for (const id of ['a', 'a'.repeat(128), 'user-42:notes_v1.2', '...', '.a', 'a..'])
      expect(ID_PATTERN.test(id), id).toBe(true);
    for (const id of ['', 'a'.repeat(129), '.', '..', 'a b', 'a/b', 'é'])
      expect(ID_PATTERN.test(id), id).toBe(false);
  });
});

describe('randomHex', () => {
  it('gives the asked number of bytes as lower-case hex', () => {
    expect(randomHex(8)).toMatch(/^[0-9a-f]{16}$/);
    expect(randomHex(8)).not.toBe(randomHex(8));
  });
});
