import type { MiddlewareHandler } from 'hono';
import * as v from 'valibot';
import { EngramError } from '../core/errors.js';
import { parse } from '../core/validate.js';
import type { EdgeEnv } from './env.js';

/**
 * Decides whether one more request under `key` may run now. The built-in {@link memoryRateLimiter}
 * counts in this process only; several Node servers (or Workers isolates) need a shared counter —
 * a Redis `INCR`/`EXPIRE` window, a Cloudflare Durable Object or the Workers Rate Limiting binding —
 * behind this same interface.
 */
export interface RateLimiter {
  take(
    key: string,
  ):
    | { ok: true }
    | { ok: false; retryAfterMs: number }
    | Promise<{ ok: true } | { ok: false; retryAfterMs: number }>;
}

export interface RateLimitOptions {
  /** Requests allowed per `windowMs` per token and namespace, on average. */
  requests: number;
  /** Default 60 000 ms. */
  windowMs?: number;
  /** Requests that may come at once on top of the average (default: `requests`). */
  burst?: number;
  /** Keys remembered at most (least recently used are forgotten; default 10 000). */
  maxKeys?: number;
}

const count = (what: string) =>
  v.optional(v.pipe(v.number(`expected ${what}`), v.finite('expected a finite number')));
const RATE_LIMIT_OPTIONS = v.strictObject(
  {
    requests: v.pipe(v.number('expected requests per window'), v.finite('expected a finite number')),
    windowMs: count('milliseconds'),
    burst: count('a number of requests'),
    maxKeys: v.optional(
      v.pipe(v.number('expected a number of keys'), v.integer('expected a whole number'), v.minValue(1)),
    ),
  },
  'expected { requests, windowMs?, burst?, maxKeys? }',
);

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per key, in memory: `requests / windowMs` refill rate, `burst` capacity. Enough for
 * one Node process; see {@link RateLimiter} for more.
 */
export function memoryRateLimiter(options: RateLimitOptions, now: () => number = Date.now): RateLimiter {
  parse(RATE_LIMIT_OPTIONS, options, 'rateLimit');
  const windowMs = options.windowMs ?? 60_000;
  const capacity = options.burst ?? options.requests;
  const perMs = options.requests / windowMs;
  const maxKeys = options.maxKeys ?? 10_000;
  if (!(options.requests > 0) || !(windowMs > 0) || !(capacity >= 1)) {
    throw new EngramError('VALIDATION', 'rateLimit: expected requests > 0, windowMs > 0 and burst >= 1', {
      field: 'rateLimit',
    });
  }
  const buckets = new Map<string, Bucket>();
  return {
    take(key) {
      const t = now();
      let bucket = buckets.get(key);
      if (bucket) {
        buckets.delete(key);
        bucket.tokens = Math.min(capacity, bucket.tokens + (t - bucket.at) * perMs);
        bucket.at = t;
      } else {
        bucket = { tokens: capacity, at: t };
        if (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value!);
      }
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterMs: Math.ceil((1 - bucket.tokens) / perMs) };
    },
  };
}

/** 429 RATE_LIMITED with `Retry-After` (seconds) once a token has used up its allowance in a namespace. */
export function rateLimit(limiter: RateLimiter): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    // The verified token's identity (see `tokenKeyOf`), never the header's text: one token, one allowance.
    const token = c.var.tokenKey ?? c.req.header('authorization') ?? '';
    const verdict = await limiter.take(`${c.var.namespace}\n${token}`);
    if (!verdict.ok) {
      const seconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
      throw new EngramError(
        'RATE_LIMITED',
        `rate limit: too many requests for this token in namespace ${JSON.stringify(c.var.namespace)}; retry after ${seconds} s`,
        { retryAfterMs: seconds * 1000 },
      );
    }
    await next();
  };
}
