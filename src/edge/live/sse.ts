import { MAX_TIMER_MS } from '../../core/validate.js';

/**
 * The wire format of `GET /v1/ns/:ns/events` (Server-Sent Events): a `ready` event at once (so a client
 * can tell a stream that flows from a proxy that buffers it), a `change` event whenever the namespace's
 * change feed moved (its `id` is the feed's sequence number when known), a comment line as a
 * heartbeat every `heartbeatMs`, which keeps idle proxies from cutting the connection and lets the
 * client notice a dead one, and an `expired` event, then the end, when the client's token expires.
 */
export interface SseStreamOptions {
  /** Registers for "the feed moved" news; returns the unsubscribe function. */
  subscribe(listener: (seq?: number) => void): () => void;
  /** Set when the feed already holds changes after the client's Last-Event-ID: one `change` goes out at once. */
  catchUp?: number;
  /** Comment line period (default 15 000 ms). */
  heartbeatMs?: number;
  /** Client's `retry:` hint in ms (default 2 000). */
  retryMs?: number;
  /**
   * When the client's token expires (epoch ms): the stream sends `expired` and ends then, so a token
   * cannot keep listening past its lifetime. Unset: no end of its own.
   */
  expiresAt?: number;
  /** The request's signal: the stream ends when the client goes away. */
  signal?: AbortSignal;
  /** Called once when the stream ends, for whatever reason. */
  onClose?: () => void;
  /**
   * Bytes the client may leave unread before the stream ends (default 64 KiB): a client that stops
   * reading but keeps its connection would otherwise make the server hold every event for it. The
   * client reconnects with its Last-Event-ID and is caught up by one event.
   */
  maxBufferedBytes?: number;
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  // nginx and some other proxies buffer unless told not to.
  'x-accel-buffering': 'no',
} as const;

const encoder = new TextEncoder();

export function changeEvent(seq?: number): string {
  const id = seq === undefined ? '' : `id: ${seq}\n`;
  return `${id}event: change\ndata: ${JSON.stringify(seq === undefined ? {} : { seq })}\n\n`;
}

/** The error body a refused request would carry, so a client can treat both the same way. */
const EXPIRED_EVENT = `event: expired\ndata: ${JSON.stringify({
  error: {
    code: 'UNAUTHORIZED',
    message: 'the token expired while the stream was open; reconnect with a new one',
  },
})}\n\n`;

/** An SSE response body fed by `subscribe`; ends (and unsubscribes) on cancel or abort. */
export function sseStream(options: SseStreamOptions): ReadableStream<Uint8Array> {
  let unsubscribe: (() => void) | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let expiry: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let controller: ReadableStreamDefaultController<Uint8Array>;
  const end = () => {
    if (closed) return;
    closed = true;
    unsubscribe?.();
    clearInterval(heartbeat);
    clearTimeout(expiry);
    options.signal?.removeEventListener('abort', end);
    try {
      controller.close();
    } catch {
      // Already closed or errored by the runtime.
    }
    options.onClose?.();
  };
  const send = (text: string) => {
    if (closed) return;
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      end();
      return;
    }
    // More than the high-water mark unread: the client is not reading.
    if ((controller.desiredSize ?? 0) < 0) end();
  };
  const expireAt = (at: number) => {
    // Re-armed rather than trusted: a timer may fire a little early, and a far `exp` needs several.
    const left = at - Date.now();
    if (left > 0) {
      expiry = setTimeout(() => expireAt(at), Math.min(left, MAX_TIMER_MS));
      return;
    }
    send(EXPIRED_EVENT);
    end();
  };
  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        if (options.signal?.aborted) {
          end();
          return;
        }
        options.signal?.addEventListener('abort', end);
        send(`retry: ${options.retryMs ?? 2000}\nevent: ready\ndata: {}\n\n`);
        if (options.catchUp !== undefined) send(changeEvent(options.catchUp));
        unsubscribe = options.subscribe((seq) => send(changeEvent(seq)));
        heartbeat = setInterval(() => send(': ping\n\n'), options.heartbeatMs ?? 15_000);
        if (options.expiresAt !== undefined) expireAt(options.expiresAt);
      },
      cancel: end,
    },
    { highWaterMark: options.maxBufferedBytes ?? 64 * 1024, size: (chunk) => chunk.byteLength },
  );
}
