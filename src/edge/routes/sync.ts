import { Hono } from 'hono';
import { validationError } from '../../core/errors.js';
import type { MemoryStore } from '../../core/store-contract.js';
import { serveSync } from '../../core/sync/server.js';
import type { EdgeEnv } from '../env.js';
import { readJson, refuseOtherQuery } from '../request.js';

/**
 * `POST /sync`: core's `serveSync`, plus the option a direct client (RemoteStore) needs to behave like
 * a local store: `?origin=local` records its pushed writes as made here rather than replicated; and
 * `?answer=ids` for a replica, which never reads the merged records a push is answered with: they are
 * left out (as large as the push itself), keeping the ids deleted and rejected, and the push's echo
 * is added when it has one.
 */
export function syncRoutes(
  observerOf: (namespace: string) => (stamp: string) => void,
  maxClockSkewMs: number,
  now: () => number,
  maintain: (store: MemoryStore, namespace: string) => Promise<void>,
): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();

  app.post('/', async (c) => {
    refuseOtherQuery(c, 'sync', ['origin', 'answer']);
    const origin = c.req.query('origin') ?? 'remote';
    if (origin !== 'local' && origin !== 'remote') {
      throw validationError('sync.origin', `'local' or 'remote'`, JSON.stringify(origin));
    }
    const answer = c.req.query('answer') ?? 'records';
    if (answer !== 'records' && answer !== 'ids') {
      throw validationError('sync.answer', `'records' or 'ids'`, JSON.stringify(answer));
    }
    const namespace = c.var.namespace;
    // Maintenance must never cost a replica its sync: a failure is reported and retried next interval.
    await maintain(c.var.store, namespace).catch((error: unknown) =>
      console.error(`engram edge: maintenance of namespace ${namespace} failed`, error),
    );
    // Resolved at the first stamp, after the merge, as a lookup per stamp was: a namespace's clock can be
    // dropped from the cache while the merge awaits.
    let observe: ((stamp: string) => void) | undefined;
    const response = await serveSync(c.var.store, namespace, await readJson(c), {
      origin,
      observe: (stamp) => {
        observe ??= observerOf(namespace);
        observe(stamp);
      },
      maxClockSkewMs,
      now,
      // A replica (it asks for ids) may leave its own pushes' entries out of its pulls (echo.ts).
      echo: answer === 'ids',
    });
    if (answer === 'ids' && response.push) response.push = { ...response.push, memories: [], links: [] };
    return c.json(response);
  });

  return app;
}
