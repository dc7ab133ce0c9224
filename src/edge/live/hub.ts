/**
 * How the edge tells live clients that a namespace's change feed moved. `publish` is called after
 * every write that changed something; `stream` answers one client's `GET /v1/ns/:ns/events`.
 * Implementations: {@link LocalHub} (one process), `postgresHub` (several Node processes on one
 * Postgres, LISTEN/NOTIFY), `durableObjectHub` (Workers: one Durable Object per namespace).
 */
import { SSE_HEADERS, sseStream } from './sse.js';

export interface LiveStreamRequest {
  namespace: string;
  /** The feed position the client already has (its Last-Event-ID); `change` goes out at once if newer exists. */
  catchUp?: number;
  signal?: AbortSignal;
  heartbeatMs?: number;
  /** When the client's token expires (epoch ms): the stream sends `expired` and ends then. */
  expiresAt?: number;
}

export interface LiveHub {
  publish(namespace: string, seq?: number): Promise<void>;
  stream(request: LiveStreamRequest): Response | Promise<Response>;
  close?(): Promise<void>;
}

type Listener = (seq?: number) => void;

/** In-process fan-out: every live client connected to this process hears every publish made in it. */
export class LocalHub implements LiveHub {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly open = new Set<AbortController>();

  /** Open event streams, all namespaces (for tests and metrics). */
  get connections(): number {
    let count = 0;
    for (const set of this.listeners.values()) count += set.size;
    return count;
  }

  async publish(namespace: string, seq?: number): Promise<void> {
    this.deliver(namespace, seq);
  }

  /** Hands news to this process's listeners only (what a remote notification lands on). */
  deliver(namespace: string, seq?: number): void {
    for (const listener of this.listeners.get(namespace) ?? []) {
      try {
        listener(seq);
      } catch {
        // One broken stream must not keep the news from the others.
      }
    }
  }

  subscribe(namespace: string, listener: Listener): () => void {
    let set = this.listeners.get(namespace);
    if (!set) {
      set = new Set();
      this.listeners.set(namespace, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(namespace) === set) this.listeners.delete(namespace);
    };
  }

  stream(request: LiveStreamRequest): Response {
    const ending = new AbortController();
    const end = () => ending.abort();
    request.signal?.addEventListener('abort', end, { once: true });
    // A client that went away before its stream opened (while the route looked up its catch-up) fires no
    // abort event now, and Node's server never reads nor cancels a response on a closed connection.
    if (request.signal?.aborted) end();
    this.open.add(ending);
    const body = sseStream({
      subscribe: (listener) => this.subscribe(request.namespace, listener),
      catchUp: request.catchUp,
      signal: ending.signal,
      heartbeatMs: request.heartbeatMs,
      expiresAt: request.expiresAt,
      onClose: () => {
        this.open.delete(ending);
        request.signal?.removeEventListener('abort', end);
      },
    });
    return new Response(body, { headers: SSE_HEADERS });
  }

  /** Ends every open stream (a server shutting down); clients reconnect, to another edge if there is one. */
  async close(): Promise<void> {
    for (const ending of [...this.open]) ending.abort();
  }
}
