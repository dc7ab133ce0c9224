import { decode, verify } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { memoryRateLimiter, mintToken, parseTtl } from '../../src/edge/index.js';
import { EngramError } from '../../src/index.js';
import { SECRET } from './helpers.js';

describe('mintToken', () => {
  it('signs HS256 with the namespaces in ns and an exp ttl ahead', async () => {
    const before = Math.floor(Date.now() / 1000);
    const token = await mintToken({ secret: SECRET, ns: ['a', 'b'], ttl: '30m' });
    const { header, payload } = decode(token);
    expect(header).toMatchObject({ alg: 'HS256', typ: 'JWT' });
    expect(payload.ns).toEqual(['a', 'b']);
    expect(payload.exp! - payload.iat!).toBe(1800);
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    await expect(verify(token, SECRET, 'HS256')).resolves.toMatchObject({ ns: ['a', 'b'] });
  });

  it('makes every token its own (jti), so two minted in one second do not share an allowance', async () => {
    const [a, b] = await Promise.all([
      mintToken({ secret: SECRET, ns: 'x' }),
      mintToken({ secret: SECRET, ns: 'x' }),
    ]);
    expect(a).not.toBe(b);
    expect(decode(a).payload.jti).toMatch(/^[0-9a-f]{24}$/);
    await expect(verify(b, SECRET, 'HS256')).resolves.toMatchObject({ ns: ['x'] });
  });

  it('defaults to one hour and takes a single namespace as a string', async () => {
    const { payload } = decode(await mintToken({ secret: SECRET, ns: 'solo' }));
    expect(payload.ns).toEqual(['solo']);
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  it('refuses a missing secret, no namespaces, a bad namespace or a bad ttl, naming the field', async () => {
    const cases: Array<[Parameters<typeof mintToken>[0], string]> = [
      [{ secret: '', ns: ['a'] }, 'secret'],
      [{ secret: SECRET, ns: [] }, 'ns'],
      [{ secret: SECRET, ns: ['ok', 'not ok'] }, 'ns.1'],
      [{ secret: SECRET, ns: ['a'], ttl: 'soon' }, 'ttl'],
      [{ secret: SECRET, ns: ['a'], ttl: -5 }, 'ttl'],
      // A misspelt lifetime must not mint a token of the default hour.
      [{ secret: SECRET, ns: ['a'], expiresIn: '30d' } as never, 'expiresIn'],
      [undefined as never, 'mintToken'],
      // An array is no options object, though it is an object with no unknown keys.
      [[] as never, 'mintToken'],
    ];
    for (const [options, field] of cases) {
      const error = await mintToken(options).catch((e: unknown) => e);
      expect(error, field).toBeInstanceOf(EngramError);
      expect(error).toMatchObject({ code: 'VALIDATION', field });
    }
  });
});

describe('memoryRateLimiter', () => {
  it('refuses misspelt or non-numeric options, naming them', () => {
    for (const [options, field] of [
      [{ requests: 10, window: 1000 }, 'rateLimit.window'],
      [{ requests: '10' }, 'rateLimit.requests'],
      [{ requests: 10, maxKeys: 0 }, 'rateLimit.maxKeys'],
      [{ requests: 0 }, 'rateLimit'],
      [{ requests: 10, burst: 0.5 }, 'rateLimit'],
    ] as const) {
      expect(() => memoryRateLimiter(options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field }),
      );
    }
    expect(memoryRateLimiter({ requests: 1, windowMs: 1000, burst: 1 }).take('k')).toEqual({ ok: true });
  });

  it('a key idle for long gets its burst back, and no more', async () => {
    let t = 0;
    const limiter = memoryRateLimiter({ requests: 10, windowMs: 1000, burst: 3 }, () => t);
    const burst = async (key = 'k') => {
      let passed = 0;
      while ((await limiter.take(key)).ok) passed++;
      return passed;
    };
    expect(await burst()).toBe(3);
    // An hour idle refills far more than the burst at 10 a second: it still holds 3.
    t += 3_600_000;
    expect(await burst()).toBe(3);
    expect(await limiter.take('k')).toEqual({ ok: false, retryAfterMs: 100 });
  });

  it('refills at `requests` a minute by default, and says how long until the next whole request', async () => {
    let t = 0;
    const limiter = memoryRateLimiter({ requests: 4 }, () => t);
    for (let i = 0; i < 4; i++) expect(await limiter.take('k')).toEqual({ ok: true });
    expect(await limiter.take('k')).toEqual({ ok: false, retryAfterMs: 15_000 });
    // Half a minute brings back two; ten seconds more, two thirds of one: a third is still missing.
    t += 30_000;
    expect(await limiter.take('k')).toEqual({ ok: true });
    expect(await limiter.take('k')).toEqual({ ok: true });
    t += 10_000;
    expect(await limiter.take('k')).toEqual({ ok: false, retryAfterMs: 5_000 });
  });

  it('forgets the key used least recently, not the one made first', async () => {
    const limiter = memoryRateLimiter({ requests: 1, windowMs: 3_600_000, maxKeys: 2 }, () => 0);
    expect(await limiter.take('a')).toEqual({ ok: true });
    expect(await limiter.take('b')).toEqual({ ok: true });
    // 'a' used again (and refused): now 'b' is the least recently used, and goes for 'c'.
    expect(await limiter.take('a')).toMatchObject({ ok: false });
    expect(await limiter.take('c')).toEqual({ ok: true });
    expect(await limiter.take('a')).toMatchObject({ ok: false });
    expect(await limiter.take('b')).toEqual({ ok: true });
  });

  it('keeps at most maxKeys buckets: the least recently used goes, and comes back full', async () => {
    const limiter = memoryRateLimiter({ requests: 1, windowMs: 3_600_000, maxKeys: 2 }, () => 0);
    expect(await limiter.take('a')).toEqual({ ok: true });
    expect(await limiter.take('a')).toMatchObject({ ok: false });
    expect(await limiter.take('b')).toEqual({ ok: true });
    expect(await limiter.take('c')).toEqual({ ok: true });
    // 'a' was evicted for 'c': a new bucket, full again.
    expect(await limiter.take('a')).toEqual({ ok: true });
  });
});

describe('parseTtl', () => {
  it('reads seconds and s/m/h/d/w durations', () => {
    expect(parseTtl(90)).toBe(90);
    expect(parseTtl('45')).toBe(45);
    expect(parseTtl('45s')).toBe(45);
    expect(parseTtl('30m')).toBe(1800);
    expect(parseTtl('1h')).toBe(3600);
    expect(parseTtl('7d')).toBe(604_800);
    expect(parseTtl('2w')).toBe(1_209_600);
    expect(parseTtl(' 1 h ')).toBe(3600);
    for (const bad of ['', '0', '1y', '1.5h', 'h', 0, 1.5, Number.NaN])
      expect(() => parseTtl(bad), String(bad)).toThrow(EngramError);
  });
});
