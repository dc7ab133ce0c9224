import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, type Engram, type Link, type Memory, type MemoryStore } from '../../src/index.js';
import { matchesFilter } from '../../src/store/index.js';

export type Fault = 'ok' | 'drop' | 'error5xx' | 'timeout' | 'lostReply' | 'duplicate';

/**
 * A fetch in front of the real edge app that misbehaves like a bad network: requests lost before
 * the server, 5xx answers, hangs past the client's timeout, replies lost after the server applied the
 * request, and requests delivered twice.
 */
export function faultyFetch(
  upstream: (request: Request) => Promise<Response>,
  nextFault: () => Fault,
): { fetch: typeof fetch; calls: Record<Fault, number> } {
  const calls: Record<Fault, number> = {
    ok: 0,
    drop: 0,
    error5xx: 0,
    timeout: 0,
    lostReply: 0,
    duplicate: 0,
  };
  const fetchFn = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const fault = nextFault();
    calls[fault]++;
    const body = init?.body === undefined ? undefined : String(init.body);
    const make = () => new Request(input, { ...init, body, signal: undefined });
    switch (fault) {
      case 'drop':
        throw new TypeError('fetch failed: connection reset');
      case 'error5xx':
        return new Response(JSON.stringify({ error: { code: 'STORAGE', message: 'overloaded' } }), {
          status: 503,
        });
      case 'timeout':
        return new Promise<Response>((_, reject) => {
          init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        });
      case 'lostReply':
        await upstream(make());
        throw new TypeError('fetch failed: socket hang up');
      case 'duplicate':
        await upstream(make());
        return upstream(make());
      default:
        return upstream(make());
    }
  };
  return { fetch: fetchFn as typeof fetch, calls };
}

export interface Snapshot {
  memories: Array<Omit<Memory, 'updatedAt'> & { updatedAt: string }>;
  links: Link[];
}

/** Everything live in a namespace, read straight from a store, in a canonical order. */
export async function snapshot(store: MemoryStore, namespace: string): Promise<Snapshot> {
  const now = new Date().toISOString();
  const memories: Memory[] = [];
  for (let beforeId: string | undefined; ; ) {
    const page = await store.list(namespace, { tagMode: 'any', now, limit: 500, beforeId, history: true });
    memories.push(...page.map((r) => r.memory).filter((m) => matchesFilter(m, { tagMode: 'any', now })));
    if (page.length < 500) break;
    beforeId = page[page.length - 1]!.memory.id;
  }
  const ids = memories.map((m) => m.id);
  const links =
    ids.length === 0 ? [] : (await store.linksOf(namespace, ids, { direction: 'out' })).map((r) => r.link);
  links.sort((a, b) => (a.id < b.id ? -1 : 1));
  return { memories, links };
}

/** Syncs every replica in turn until all have seen everything, then waits out background rounds. */
export async function settle(clients: Engram[], rounds = 3): Promise<void> {
  // A sync that times out is tried again: tests give tight timeouts (25 ms) that a loaded machine misses
  // even with every fault healed, and the client's timeout holds whether or not the fetch heeds it.
  const giveUp = Date.now() + 20_000;
  for (let round = 0; round < rounds; round++) {
    for (const client of clients) {
      for (;;) {
        try {
          await client.sync();
          break;
        } catch (error) {
          if ((error as { code?: string }).code !== 'OFFLINE' || Date.now() > giveUp) throw error;
        }
      }
    }
  }
  const deadline = Date.now() + 5000;
  while (clients.some((c) => c.status.state !== 'online') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * An edge on `server` and replicas on one test clock (`clock.t`, moved by the test), syncing only when
 * told to: no interval, no live stream, a local write's push and a retry put off past any test.
 * `maintenance` (the tombstone horizon) applies to the edge and to every replica, whose own maintenance
 * runs only when called.
 */
export async function edgeOnClock(
  server: MemoryStore,
  namespace: string,
  options: { startMs: number; maintenance?: { tombstoneHorizonMs?: number; intervalMs?: number } },
) {
  const clock = { t: options.startMs };
  const now = () => clock.t;
  const secret = 'edge-on-clock-secret';
  const maintenance = options.maintenance ?? {};
  const app = createEdgeApp({ store: server, secret, logger: false, live: false, now, maintenance });
  const token = await mintToken({ secret, ns: [namespace] });
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => app.fetch(new Request(input, init));
  /** `skewMs`: how far this replica's clock is off the test clock (the edge's). */
  const open = (store: MemoryStore, skewMs = 0) =>
    createMemory({
      store,
      namespace,
      now: skewMs === 0 ? now : () => clock.t + skewMs,
      maintenance: { ...maintenance, intervalMs: 0 },
      sync: {
        url: 'http://edge.test',
        token,
        fetch,
        intervalMs: 0,
        live: false,
        debounceMs: 600_000,
        backoff: { baseMs: 600_000 },
      },
    });
  return { clock, open, app, token, fetch };
}
