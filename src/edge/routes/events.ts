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
export function eventRoutes(hub: LiveHub, heartbeatMs: number, maxStreams: number): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  // Streams open per namespace and token (the verified token's identity, as the rate limiter keys it):
  // each holds a listener and a timer, so one token must not open them without bound.
  const open = new Map<string, number>();
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
    const key = `${c.var.namespace}\n${c.var.tokenKey}`;
    const held = open.get(key) ?? 0;
    if (held >= maxStreams) {
      throw new EngramError(
        'RATE_LIMITED',
        `events: this token already holds ${held} open event streams in namespace ${JSON.stringify(c.var.namespace)} (at most ${maxStreams}); close one or retry later`,
        { retryAfterMs: RETRY_STREAM_MS },
      );
    }
    open.set(key, held + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (open.get(key) ?? 1) - 1;
      if (left > 0) open.set(key, left);
      else open.delete(key);
    };
    try {
      const response = await hub.stream({
        namespace: c.var.namespace,
        catchUp,
        signal: c.req.raw.signal,
        heartbeatMs,
        expiresAt: tokenExpiresAt(c),
      });
      return releasedWhenDone(response, release);
    } catch (error) {
      release();
      throw error;
    }
  });
  return app;
}

/** How long a client refused for holding too many streams is told to wait (one heartbeat's worth). */
const RETRY_STREAM_MS = 15_000;

/** The same response, its body passed through so that `release` runs once it ends, fails or is cancelled. */
function releasedWhenDone(response: Response, release: () => void): Response {
  const source = response.body;
  if (!source) {
    release();
    return response;
  }
  const reader = source.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          release();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        release();
        controller.error(error);
      }
    },
    async cancel(reason) {
      release();
      await reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, headers: response.headers });
}
