import { type LiveHub, type LiveStreamRequest, LocalHub } from './hub.js';

/** The parts of a Durable Object namespace binding this uses (full types: @cloudflare/workers-types). */
export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(input: string, init?: RequestInit): Promise<Response> };
}

/**
 * Live sync on Cloudflare Workers: one Durable Object per namespace ({@link EngramHub}) holds that
 * namespace's event streams. Any isolate, anywhere, that commits a write to Postgres tells the
 * namespace's object, which tells every stream it holds. Why this and not Postgres LISTEN: a Worker
 * request cannot keep a LISTEN connection open past itself (and Hyperdrive does not pass
 * notifications), while a Durable Object is a single, addressable place per namespace that outlives
 * requests. It holds only connections, never data: Postgres stays the source of truth, and a lost
 * object (restart, eviction) only drops streams, which clients reopen and catch up on by Last-Event-ID.
 */
export function durableObjectHub(binding: DurableObjectNamespaceLike): LiveHub {
  const hubOf = (namespace: string) => binding.get(binding.idFromName(namespace));
  return {
    async publish(namespace, seq) {
      const response = await hubOf(namespace).fetch('https://engram-hub/publish', {
        method: 'POST',
        body: JSON.stringify({ ns: namespace, seq }),
      });
      await response.body?.cancel();
    },
    stream(request: LiveStreamRequest) {
      const headers: Record<string, string> = { 'x-engram-ns': request.namespace };
      if (request.catchUp !== undefined) headers['x-engram-catch-up'] = String(request.catchUp);
      if (request.heartbeatMs !== undefined) headers['x-engram-heartbeat'] = String(request.heartbeatMs);
      if (request.expiresAt !== undefined) headers['x-engram-expires-at'] = String(request.expiresAt);
      return hubOf(request.namespace).fetch('https://engram-hub/events', { headers, signal: request.signal });
    },
  };
}

const optionalInt = (value: string | null): number | undefined =>
  value === null || !/^\d+$/.test(value) ? undefined : Number(value);

/**
 * The Durable Object class behind {@link durableObjectHub} (export it from the Worker and bind it as
 * `ENGRAM_HUB`, see wrangler.toml). Only the Worker reaches it: it trusts its headers.
 */
export class EngramHub {
  private readonly hub = new LocalHub();

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === 'POST' && url.pathname === '/publish') {
      const { ns, seq } = (await request.json()) as { ns: string; seq?: number };
      this.hub.deliver(ns, typeof seq === 'number' ? seq : undefined);
      return new Response(null, { status: 204 });
    }
    if (request.method === 'GET' && url.pathname === '/events') {
      return this.hub.stream({
        namespace: request.headers.get('x-engram-ns') ?? '',
        catchUp: optionalInt(request.headers.get('x-engram-catch-up')),
        heartbeatMs: optionalInt(request.headers.get('x-engram-heartbeat')),
        expiresAt: optionalInt(request.headers.get('x-engram-expires-at')),
        signal: request.signal,
      });
    }
    return new Response('not found', { status: 404 });
  }
}
