import * as v from 'valibot';
import { validationError, withoutUserinfo } from './errors.js';

// Rules for how a memory runs rather than what it stores: timers, encryption and sync settings.

export const nonNegativeInt = v.pipe(
  v.number('expected a number'),
  v.integer('expected an integer'),
  v.minValue(0, 'expected 0 or more'),
);

/** The longest delay a timer takes: past 2^31 - 1 ms (about 24.8 days) runtimes fire it at once. */
export const MAX_TIMER_MS = 2_147_483_647;
const atMostTimer = () =>
  v.maxValue<number, number, string>(MAX_TIMER_MS, `expected at most ${MAX_TIMER_MS} (ms, about 24.8 days)`);

/** A timer's period or delay in whole ms: `intervalMs: 1e12` meant as "rarely" would otherwise fire every ms. */
export const timerMs = v.pipe(nonNegativeInt, atMostTimer());

/** A count of things, such as a batch size: an integer of at least 1. */
export const positiveInt = v.pipe(
  v.number('expected a number'),
  v.integer('expected an integer'),
  v.minValue(1, 'expected 1 or more'),
);

/** A timeout: a whole number of ms from 1 up to what a timer can wait. */
export const timeoutMs = v.pipe(positiveInt, atMostTimer());

/** A delay in ms, fractions allowed: from 0 up to what a timer can wait. */
export const delayMs = v.pipe(
  v.number('expected milliseconds'),
  v.finite('expected a finite number'),
  v.minValue(0, 'expected 0 or more'),
  atMostTimer(),
);

/** `{ key: CryptoKey } | { passphrase, iterations? }` (see crypto/cipher.ts). */
export const encryptionSchema = v.union(
  [
    v.strictObject({
      key: v.custom<CryptoKey>(
        (k) =>
          typeof k === 'object' &&
          k !== null &&
          (k as CryptoKey).type === 'secret' &&
          (k as CryptoKey).algorithm?.name === 'AES-GCM' &&
          (k as CryptoKey).usages?.includes('encrypt') &&
          (k as CryptoKey).usages?.includes('decrypt'),
        'expected an AES-GCM CryptoKey with encrypt and decrypt usages',
      ),
    }),
    v.strictObject({
      passphrase: v.pipe(
        v.string('expected the passphrase as a string'),
        v.minLength(8, 'expected a passphrase of at least 8 characters'),
      ),
      iterations: v.optional(
        v.pipe(
          v.number(),
          v.integer('expected an integer'),
          v.minValue(1000, 'expected at least 1000 PBKDF2 iterations'),
          v.maxValue(100_000_000, 'expected at most 100 000 000 PBKDF2 iterations'),
        ),
      ),
    }),
  ],
  'expected { key: CryptoKey } or { passphrase: string, iterations?: number }',
);

export const syncOptionsSchema = v.strictObject(
  {
    // Its form is checked by checkEdgeUrl, which keeps a password in it out of the message.
    url: v.string('expected the edge URL as a string'),
    token: v.union(
      [
        v.pipe(v.string(), v.minLength(1, 'expected a non-empty token')),
        v.custom<(namespace: string) => string | Promise<string>>((f) => typeof f === 'function'),
      ],
      'expected a token string, or a function giving one',
    ),
    intervalMs: v.optional(timerMs),
    timeoutMs: v.optional(v.pipe(timerMs, v.minValue(1, 'expected at least 1'))),
    debounceMs: v.optional(timerMs),
    live: v.optional(v.boolean('expected true or false')),
    fetch: v.optional(v.custom<typeof fetch>((f) => typeof f === 'function', 'expected a fetch function')),
    backoff: v.optional(v.strictObject({ baseMs: v.optional(timerMs), maxMs: v.optional(timerMs) })),
  },
  'expected an object like { url, token, intervalMs?, fetch? }',
);

/**
 * An edge URL (`sync.url`, RemoteStore's `url`): http(s) with a host, as given (no text around it), and no
 * `user:password@`, which fetch refuses: every request would fail as if the edge were unreachable. The
 * token authenticates. What the error shows of the URL leaves its credentials out.
 */
export function checkEdgeUrl(value: string, field: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {}
  const shown = JSON.stringify(withoutUserinfo(value));
  if (url === undefined || !/^https?:\/\/[^\s/]+/i.test(value)) {
    throw validationError(field, 'an http(s) URL like https://engram.example.com', shown);
  }
  if (url.username !== '' || url.password !== '') {
    throw validationError(field, 'a URL without user:password@ (the token authenticates)', shown);
  }
  return url;
}
