import { sign } from 'hono/jwt';
import { validationError } from '../core/errors.js';
import { randomHex } from '../core/ids.js';
import { assertKnownOptions, namespaceSchema, parse } from '../core/validate.js';

export interface MintTokenOptions {
  /** The server secret (HS256 key), the same one given to `createEdgeApp`. */
  secret: string;
  /** The namespaces the token may touch; exact names, no patterns. */
  ns: string | readonly string[];
  /** Lifetime: seconds, or `'30s'`, `'15m'`, `'1h'`, `'7d'`, `'2w'`. Default `'1h'`. */
  ttl?: string | number;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** Parses a lifetime such as `'1h'` or `90` into seconds. */
export function parseTtl(ttl: string | number): number {
  const match = typeof ttl === 'number' ? null : /^\s*(\d+)\s*([smhdw]?)\s*$/.exec(ttl);
  const seconds =
    typeof ttl === 'number' ? ttl : match ? Number(match[1]) * UNIT_SECONDS[match[2] || 's']! : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw validationError('ttl', `a positive number of seconds or a duration like '1h'`, JSON.stringify(ttl));
  }
  return seconds;
}

export function checkSecret(secret: unknown): string {
  if (typeof secret !== 'string' || secret === '') {
    throw validationError('secret', 'a non-empty string (the HS256 signing key)');
  }
  return secret;
}

/**
 * Mints an HS256 token granting the given namespaces until it expires.
 *
 * @example
 * import { mintToken } from 'engram/edge';
 * const token = await mintToken({ secret: process.env.ENGRAM_SECRET!, ns: ['user-42'], ttl: '7d' });
 * await fetch('https://memory.example.com/v1/ns/user-42/memories', { headers: { authorization: `Bearer ${token}` } });
 */
export async function mintToken(options: MintTokenOptions): Promise<string> {
  // A misspelt lifetime (`expiresIn: '30d'`) would mint a token of the default hour without a word.
  assertKnownOptions(options, ['secret', 'ns', 'ttl'], 'mintToken', 'options { secret, ns, ttl? }');
  const secret = checkSecret(options.secret);
  const list = typeof options.ns === 'string' ? [options.ns] : options.ns;
  if (!Array.isArray(list) || list.length === 0) {
    throw validationError('ns', 'at least one namespace');
  }
  const ns = list.map((name, i) => parse(namespaceSchema, name, `ns.${i}`));
  const iat = Math.floor(Date.now() / 1000);
  // `jti` makes every token its own, even two minted in one second for one namespace: the edge counts
  // requests and open streams per token, and two devices must not share one allowance by chance.
  return sign({ ns, iat, exp: iat + parseTtl(options.ttl ?? '1h'), jti: randomHex(12) }, secret, 'HS256');
}
