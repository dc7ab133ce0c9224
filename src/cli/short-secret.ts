import type { CliIo } from './io.js';

/** Below this many characters an HS256 secret can be guessed offline from any one token it signed. */
const MIN_SECRET_LENGTH = 32;

/**
 * One warning line on stderr when a given secret is short: whoever guesses it mints tokens for every
 * namespace. Only stderr, so stdout still carries just the token (`TOKEN=$(engram token ...)`).
 */
export function warnIfShortSecret(io: CliIo, secret: string): void {
  const length = [...secret].length;
  if (length >= MIN_SECRET_LENGTH) return;
  io.err(
    `engram: warning: the secret is ${length} character${length === 1 ? '' : 's'} long; a secret shorter than ${MIN_SECRET_LENGTH} characters can be guessed from any token it signed, and whoever guesses it can mint tokens for every namespace (use a random one: openssl rand -hex 32)`,
  );
}
