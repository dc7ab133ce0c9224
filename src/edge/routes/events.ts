import { Hono } from 'hono';
import { EngramError } from '../../core/errors.js';
import { tokenExpiresAt } from '../auth.js';
import type { EdgeEnv } from '../env.js';
import type { LiveHub } from '../live/hub.js';
import { latestSeq } from '../live/publishing-store.js';
import { SSE_HEADERS } from '../live/sse.js';
import { refuseOtherQuery } from '../request.js';

/**
 * `GET /events`: the namespace's live "something changed" stream (Server-Sent Events). A client that
 * sends `Last-Event-ID: <feed seq>` (its pull cursor, or the last event id it saw) gets a `change` at
 * once when the feed has moved past it, so reconnecting never misses a change. The stream ends with an
 * `expired` event when the token does: the token is checked once, here, so an open stream must not
 * outlive it (the client's reconnect then meets the 401 a new request would). A `HEAD` (which Hono
 * routes here, then drops the body of) gets the stream's headers and opens nothing: a subscription whose
 * body nobody reads or cancels would stay in the hub for good.
 */
export function eventRoutes(hub: LiveHub, heartbeatMs: number | undefined): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.get('/', async (c) => {
    refuseOtherQuery(c, 'events', ['lastEventId']);
    const raw = c.req.header('last-event-id') ?? c.req.query('lastEventId');
    let catchUp: number | undefined;
    let after: number | undefined;
    if (raw !== undefined && raw !== '') {
      after = Number(raw);
      if (!Number.isSafeInteger(after) || after < 0) {
        throw new EngramError(
          'VALIDATION',
          `Last-Event-ID: expected a change-feed sequence number, got ${JSON.stringify(raw)}`,
          { field: 'Last-Event-ID' },
        );
      }
    }
    if (c.req.method === 'HEAD') return new Response(null, { headers: SSE_HEADERS });
    if (after !== undefined) {
      const [next] = await c.var.store.changes(c.var.namespace, after, 1);
      if (next) catchUp = (await latestSeq(c.var.store, c.var.namespace)) ?? next.seq;
    }
    return hub.stream({
      namespace: c.var.namespace,
      catchUp,
      signal: c.req.raw.signal,
      heartbeatMs,
      expiresAt: tokenExpiresAt(c),
    });
  });
  return app;
}
