import type { MiddlewareHandler } from 'hono';
import { readKeyInfo } from '../core/crypto/namespace-key.js';
import { EngramError } from '../core/errors.js';
import type { EdgeEnv } from './env.js';

/**
 * An end-to-end encrypted namespace (docs/security.md) holds only ciphertext here, so the edge refuses
 * what would need the plaintext: search, list filters on sealed fields (tags, metadata), and writes
 * outside sync (they would store plaintext beside ciphertext). Reads by id, lists, graph walks and
 * deletes still work and return what is stored. `GET /v1/ns/:ns/capabilities` declares this.
 */
export function encryptedGuard(): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const { method, path } = c.req;
    const route = path.replace(/^\/v1\/ns\/[^/]+/, '');
    const sealedFilter = method === 'GET' && /^\/memories\/?$/.test(route) && hasSealedFilter(c.req.url);
    const needsPlaintext =
      route.startsWith('/search') ||
      sealedFilter ||
      ((method === 'POST' || method === 'PATCH' || method === 'PUT') && !route.startsWith('/sync'));
    if (needsPlaintext && (await readKeyInfo(c.var.store, c.var.namespace))) {
      throw new EngramError(
        'CONFLICT',
        `namespace ${JSON.stringify(c.var.namespace)} is end-to-end encrypted: the server holds only ciphertext, so it cannot ${
          route.startsWith('/search')
            ? 'search it'
            : sealedFilter
              ? 'filter on tags or metadata'
              : 'accept plaintext writes'
        }; do this on a device with the key (createMemory({ encryption, sync }))`,
        { field: 'namespace' },
      );
    }
    await next();
  };
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
    const info = await readKeyInfo(c.var.store, c.var.namespace);
    return c.json({
      encrypted: info !== null,
      keyId: info?.keyId ?? null,
      search: info === null,
      plaintextWrites: info === null,
    });
  };
}
