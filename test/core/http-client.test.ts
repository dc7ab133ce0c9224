import { describe, expect, it } from 'vitest';
import { edgeError } from '../../src/core/http-client.js';

const sent = (error: unknown) => JSON.stringify({ error });

describe('edgeError: what an edge answer stands for', () => {
  it('takes every 5xx, 500 included, as OFFLINE for a replica, and keeps the code sent otherwise', () => {
    const body = sent({ code: 'STORAGE', message: 'stand-in: disk full' });
    for (const status of [500, 503]) {
      expect(edgeError(status, body, 'POST /sync', 'offline'), String(status)).toMatchObject({
        code: 'OFFLINE',
        message: expect.stringContaining(`edge unavailable (${status}): stand-in: disk full`),
      });
      expect(edgeError(status, body, 'POST /sync', 'as-sent'), String(status)).toMatchObject({
        code: 'STORAGE',
        message: 'stand-in: disk full',
      });
    }
  });

  it('falls back to the status when the code sent is none of Engram', () => {
    const error = edgeError(400, sent({ code: 'TEAPOT', message: 'stand-in' }), 'GET /x', 'as-sent');
    expect(error).toMatchObject({
      code: 'VALIDATION',
      message: expect.stringContaining('answered HTTP 400 without an Engram error'),
    });
  });

  it('reads Retry-After in seconds, none for 0, at most an hour', () => {
    const limited = (retryAfter: string) =>
      edgeError(429, sent({ code: 'RATE_LIMITED', message: 'stand-in' }), 'POST /sync', 'offline', retryAfter)
        .retryAfterMs;
    expect(limited('7')).toBe(7000);
    expect(limited('0')).toBeUndefined();
    expect(limited('-5')).toBeUndefined();
    expect(limited('86400')).toBe(3_600_000);
    expect(limited('soon')).toBeUndefined();
  });

  it('reads Retry-After as an HTTP date, in ms from now', () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    const wait = edgeError(
      429,
      sent({ code: 'RATE_LIMITED', message: 'stand-in' }),
      'POST /sync',
      'offline',
      at,
    ).retryAfterMs;
    // The date is in whole seconds, and the clock moves on meanwhile: somewhat less than 30 s.
    expect(wait).toBeGreaterThan(20_000);
    expect(wait).toBeLessThanOrEqual(30_000);
    const past = new Date(Date.now() - 60_000).toUTCString();
    expect(
      edgeError(429, sent({ code: 'RATE_LIMITED', message: 'stand-in' }), 'POST /sync', 'offline', past)
        .retryAfterMs,
    ).toBeUndefined();
  });
});
