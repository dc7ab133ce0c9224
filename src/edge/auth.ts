import type { Context, MiddlewareHandler } from 'hono';
import { verify } from 'hono/jwt';
import { EngramError } from '../core/errors.js';
import { namespaceSchema, parse } from '../core/validate.js';
import type { EdgeEnv } from './env.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

const INVALID_TOKEN = 'the token is invalid or not signed with this server secret';

function unauthorized(message: string): EngramError {
  return new EngramError('UNAUTHORIZED', message);
}

/** Verifies the bearer token and keeps its `ns` grant for {@link authorize}. */
export function authenticate(secret: string): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) throw unauthorized('missing Authorization: Bearer <token> header');
    const token = BEARER.exec(header)?.[1];
    if (!token) throw unauthorized('expected Authorization: Bearer <token>');
    const payload = await verifiedClaims(token, secret);
    const timeRefusal = refusalByTime(payload, Math.floor(Date.now() / 1000));
    if (timeRefusal) throw unauthorized(timeRefusal);
    const ns = payload.ns;
    if (!Array.isArray(ns) || !ns.every((n): n is string => typeof n === 'string')) {
      throw unauthorized('the token has no "ns" claim listing its namespaces');
    }
    c.set('grants', ns);
    c.set('tokenKey', tokenKeyOf(token));
    // Where Hono's own jwt middleware keeps it; long-lived responses (event streams) read `exp` from it.
    c.set('jwtPayload', payload);
    await next();
  };
}

/**
 * The claims of a token whose signature this server verified. The signature first, time claims after
 * ({@link refusalByTime}): hono's verify() judges exp and nbf before the signature, so a forged or
 * foreign token would learn from the refusal what its claims say. `iat` is never checked: a token
 * minted on a machine whose clock runs a little ahead is still good.
 */
async function verifiedClaims(token: string, secret: string): Promise<Record<string, unknown>> {
  let payload: unknown;
  try {
    payload = await verify(token, secret, { alg: 'HS256', exp: false, nbf: false, iat: false });
  } catch {
    throw unauthorized(INVALID_TOKEN);
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw unauthorized('the token has no claims (its payload is not a JSON object)');
  }
  return payload as Record<string, unknown>;
}

/**
 * Why a verified token is not valid at `now` (epoch seconds), by the rules of hono's verify(): refused
 * once `now >= exp`, and while `now < nbf`; a claim that is not a finite number is refused too.
 */
function refusalByTime(payload: Record<string, unknown>, now: number): string | undefined {
  const { exp, nbf } = payload;
  if (nbf !== undefined) {
    if (!isSeconds(nbf)) return 'the token has an nbf claim that is not a number of seconds; mint a new one';
    if (nbf > now)
      return 'the token is not valid yet (its nbf is in the future, or this server clock is behind)';
  }
  if (exp !== undefined) {
    if (!isSeconds(exp)) return 'the token has an exp claim that is not a number of seconds; mint a new one';
    if (exp <= now) return 'the token has expired; mint a new one';
  }
  return undefined;
}

const isSeconds = (claim: unknown): claim is number => typeof claim === 'number' && Number.isFinite(claim);

/**
 * One key per verified token whatever its spelling: the signature's bytes (base64url decoded, padding
 * and unused low bits dropped, as the verifier reads them). The signature covers the header and
 * payload text, so two tokens share a key only if they are the same token.
 */
export function tokenKeyOf(token: string): string {
  const signature = token.slice(token.lastIndexOf('.') + 1).replace(/=+$/, '');
  try {
    const bytes = atob(signature.replace(/-/g, '+').replace(/_/g, '/'));
    let hex = '';
    for (let i = 0; i < bytes.length; i++) hex += bytes.charCodeAt(i).toString(16).padStart(2, '0');
    return `sig:${hex}`;
  } catch {
    return `raw:${token}`;
  }
}

/** When the request's verified token stops being valid (epoch ms), or `undefined` for a token without `exp`. */
export function tokenExpiresAt(c: Context<EdgeEnv>): number | undefined {
  const exp = (c.get('jwtPayload') as { exp?: unknown } | undefined)?.exp;
  // authenticate() refuses a token once floor(now / 1000) >= exp, i.e. from ceil(exp) * 1000 ms on.
  return typeof exp === 'number' && Number.isFinite(exp) ? Math.ceil(exp) * 1000 : undefined;
}

/** Lets a request reach `/v1/ns/:ns/...` only when its token names that namespace exactly. */
export function authorize(): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const ns = c.req.param('ns') ?? '';
    if (!c.var.grants.includes(ns)) {
      throw new EngramError('FORBIDDEN', `namespace: the token does not grant ${JSON.stringify(ns)}`, {
        field: 'namespace',
      });
    }
    c.set('namespace', parse(namespaceSchema, ns, 'namespace'));
    await next();
  };
}
