import type { MiddlewareHandler } from 'hono';
import { readKeyInfo } from '../core/crypto/namespace-key.js';
import { EngramError } from '../core/errors.js';
import type { EdgeEnv } from './env.js';
import { refuseOtherQuery } from './request.js';

/**
 * An end-to-end encrypted namespace (docs/security.md) holds only ciphertext here, so the edge refuses
 * what would need the plaintext: search and context, list and count filters on sealed fields (tags,
 * metadata), and writes outside sync (they would store plaintext beside ciphertext). Reads by id, lists,
 * graph walks and deletes still work and return what is stored. `GET /v1/ns/:ns/capabilities` declares this.
 */
export function encryptedGuard(): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const refused = refusedOnCiphertext(c.req.method, c.req.path.replace(/^\/v1\/ns\/[^/]+/, ''), c.req.url);
    if (refused && (await readKeyInfo(c.var.store, c.var.namespace))) {
      throw new EngramError(
        'CONFLICT',
        `namespace ${JSON.stringify(c.var.namespace)} is end-to-end encrypted: the server holds only ciphertext, so it cannot ${refused}; do this on a device with the key (createMemory({ encryption, sync }))`,
        { field: 'namespace' },
      );
    }
    await next();
  };
}

/** What the request asks that needs the plaintext (the end of the refusal's sentence), or undefined. */
function refusedOnCiphertext(method: string, route: string, url: string): string | undefined {
  if (route.startsWith('/search')) return 'search it';
  if (route.startsWith('/context')) return 'build a context from it (that needs a server-side search)';
  if (method === 'GET' && /^\/(memories|count)\/?$/.test(route) && hasSealedFilter(url)) {
    return `${route.startsWith('/count') ? 'count' : 'filter'} on tags or metadata`;
  }
  if ((method === 'POST' || method === 'PATCH' || method === 'PUT') && !route.startsWith('/sync')) {
    return 'accept plaintext writes';
  }
  return undefined;
}

function hasSealedFilter(url: string): boolean {
  for (const key of new URL(url).searchParams.keys()) {
    if (key === 'tags' || key === 'tagMode' || key.startsWith('metadata')) return true;
  }
  return false;
}

/** `GET /v1/ns/:ns/capabilities`: what the edge can do for this namespace. */
export function capabilitiesHandler(): MiddlewareHandler<EdgeEnv> {
  return async (c) => {
    refuseOtherQuery(c, 'capabilities');
    const info = await readKeyInfo(c.var.store, c.var.namespace);
    return c.json({
      encrypted: info !== null,
      keyId: info?.keyId ?? null,
      search: info === null,
      plaintextWrites: info === null,
    });
  };
}
