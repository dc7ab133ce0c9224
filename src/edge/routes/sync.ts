import { Hono } from 'hono';
import { EngramError } from '../../core/errors.js';
import { serveSync } from '../../core/sync/server.js';
import type { ChangeOrigin, MemoryStore, WriteBatch } from '../../core/types.js';
import type { EdgeEnv } from '../env.js';
import { readJson } from '../request.js';

/**
 * `POST /sync`: core's `serveSync`, plus two options a direct client (RemoteStore) needs to behave like
 * a local store: `?origin=local` records its pushed writes as made here rather than replicated, and
 * `?include=origin` tells the origin of each pulled change.
 */
export function syncRoutes(observe: (stamps: Iterable<string>) => void): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();

  app.post('/', async (c) => {
    const origin = c.req.query('origin') ?? 'remote';
    if (origin !== 'local' && origin !== 'remote') {
      throw new EngramError(
        'VALIDATION',
        `sync.origin: expected 'local' or 'remote', got ${JSON.stringify(origin)}`,
        {
          field: 'sync.origin',
        },
      );
    }
    const include = c.req.query('include');
    if (include !== undefined && include !== 'origin') {
      throw new EngramError('VALIDATION', `include: expected 'origin', got ${JSON.stringify(include)}`, {
        field: 'include',
      });
    }
    const origins = new Map<number, ChangeOrigin>();
    const response = await serveSync(
      observingView(c.var.store, origin, origins, observe),
      c.var.namespace,
      await readJson(c),
    );
    if (include && response.pull) {
      response.pull.changes = response.pull.changes.map((change) => ({
        ...change,
        origin: origins.get(change.seq),
      }));
    }
    return c.json(response);
  });

  return app;
}

function stampsOf(batch: WriteBatch): string[] {
  return [
    ...(batch.memories ?? []).flatMap((w) => Object.values(w.clocks)),
    ...(batch.links ?? []).flatMap((w) => Object.values(w.clocks)),
    ...(batch.tombstones ?? []).map((t) => t.clock),
  ];
}

/**
 * The store as `serveSync` sees it for one request: pushes carry the requested origin and feed the
 * server clock, and the change feed's origins are noted so they can be returned beside each change.
 */
function observingView(
  store: MemoryStore,
  origin: ChangeOrigin,
  origins: Map<number, ChangeOrigin>,
  observe: (stamps: Iterable<string>) => void,
): MemoryStore {
  return new Proxy(store, {
    get(target, key) {
      if (key === 'apply') {
        return async (namespace: string, batch: WriteBatch) => {
          const result = await target.apply(namespace, { ...batch, origin });
          observe(stampsOf(batch));
          return result;
        };
      }
      if (key === 'changes') {
        return async (namespace: string, after: number, limit: number) => {
          const entries = await target.changes(namespace, after, limit);
          for (const entry of entries) origins.set(entry.seq, entry.origin);
          return entries;
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
