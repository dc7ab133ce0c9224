import { sign } from 'hono/jwt';
import { afterEach, describe, expect, it } from 'vitest';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, type Engram, InMemoryStore } from '../../src/index.js';

const SECRET = 'token-function-secret';
const URL_ = 'http://edge.test';

const open: Engram[] = [];
afterEach(async () => {
  for (const mem of open.splice(0)) await mem.close();
});

/** An edge in this process; `seen` collects the bearer token of every request it gets. */
function edge() {
  const app = createEdgeApp({ store: new InMemoryStore(), secret: SECRET, logger: false });
  const seen: string[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    seen.push(request.headers.get('authorization') ?? '');
    return app.fetch(request);
  }) as typeof fetch;
  return { fetch: fetchFn, seen };
}

const expired = () => sign({ ns: ['n'], exp: Math.floor(Date.now() / 1000) - 60 }, SECRET, 'HS256');

async function replica(
  fetchFn: typeof fetch,
  token: unknown,
  extra: Record<string, unknown> = { live: false },
): Promise<Engram> {
  const mem = await createMemory({
    namespace: 'n',
    sync: { url: URL_, token: token as string, fetch: fetchFn, intervalMs: 0, ...extra },
  });
  open.push(mem);
  return mem;
}

describe('sync.token as a function', () => {
  it('is asked before every request, so an expired token is renewed without reopening the memory', async () => {
    const { fetch, seen } = edge();
    let current = await expired();
    const asked: string[] = [];
    const mem = await replica(fetch, (namespace: string) => {
      asked.push(namespace);
      return current;
    });
    await mem.add({ content: 'written while the token was stale' });
    await expect(mem.sync()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(mem.status.state).toBe('error');
    current = await mintToken({ secret: SECRET, ns: ['n'] });
    await expect(mem.sync()).resolves.toMatchObject({ pushed: 1 });
    expect(mem.status).toMatchObject({ state: 'online', pending: 0 });
    expect(new Set(asked)).toEqual(new Set(['n']));
    expect(seen.at(-1)).toBe(`Bearer ${current}`);
  });

  it('may be async; its live stream is opened with it, and reconnects once a round shows a renewed token works', async () => {
    const { fetch, seen } = edge();
    let current = await expired();
    const mem = await replica(fetch, async () => current, { live: true });
    // The stream was refused (401) and polls: with a string token only a new memory would try again soon.
    await expect.poll(() => mem.liveState, { timeout: 3000 }).toBe('polling');
    current = await mintToken({ secret: SECRET, ns: ['n'] });
    await mem.sync();
    await expect.poll(() => mem.liveState, { timeout: 3000 }).toBe('live');
    expect(seen.filter((h) => h === `Bearer ${current}`).length).toBeGreaterThanOrEqual(2);
  });

  it('a function that throws or gives no token fails the round as UNAUTHORIZED naming sync.token, nothing lost', async () => {
    const { fetch } = edge();
    let give: () => unknown = () => {
      throw new Error('auth server unreachable');
    };
    const mem = await replica(fetch, () => give());
    await mem.add({ content: 'kept' });
    await expect(mem.sync()).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      field: 'sync.token',
      // Which namespace's token failed: an app serving many renews them per namespace.
      message: 'sync.token: the token function failed for "n": auth server unreachable',
    });
    give = () => '';
    await expect(mem.sync()).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      field: 'sync.token',
      message: expect.stringContaining('gave an empty string'),
    });
    give = () => 42;
    await expect(mem.sync()).rejects.toThrow(/gave 42 for "n", expected a token string/);
    expect(mem.status).toMatchObject({ state: 'error', pending: 1 });
    const token = await mintToken({ secret: SECRET, ns: ['n'] });
    give = () => token;
    await expect(mem.sync()).resolves.toMatchObject({ pushed: 1 });
  });

  it('anything but a non-empty string or a function is refused when the memory opens', async () => {
    const { fetch } = edge();
    for (const token of [42, '', { value: 't' }]) {
      await expect(replica(fetch, token)).rejects.toMatchObject({ code: 'VALIDATION', field: 'sync.token' });
    }
  });
});
