import { afterEach, describe, expect, it } from 'vitest';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import {
  createMemory,
  type Engram,
  InMemoryStore,
  type MemoryStore,
  type WriteBatch,
} from '../../src/index.js';

const SECRET = 'rekey-race-secret-0123456789abcdef';
const fast = (passphrase: string) => ({ passphrase, iterations: 2000 });

const open: Engram[] = [];
afterEach(async () => {
  for (const mem of open.splice(0)) await mem.close();
});

describe('rekey while another device pushes', () => {
  it('a push the edge checked before the rotation but stored after it is re-sealed under the new key', async () => {
    // The edge's store holds back the apply of one memory's push until released: the push was checked
    // (its key id still the namespace's) before the rotation, and lands after it.
    const server = new InMemoryStore();
    let held: { id: string; entered: () => void; gate: Promise<void> } | undefined;
    const store = new Proxy(server, {
      get(target, prop) {
        if (prop === 'apply') {
          return async (namespace: string, batch: WriteBatch) => {
            const hold = held;
            if (hold && batch.memories?.some((w) => w.id === hold.id)) {
              held = undefined;
              hold.entered();
              await hold.gate;
            }
            return target.apply(namespace, batch);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as MemoryStore;
    const app = createEdgeApp({ store, secret: SECRET, logger: false });
    const token = await mintToken({ secret: SECRET, ns: ['n'] });
    const edgeFetch = (request: Request) => app.fetch(request);
    // After the rotation, the rotating device's next sync (rekey pulls what came under the old key) lets the
    // held push land, once that pull is answered: the push is then in no pull before the re-stamp.
    let afterRotate: (() => Promise<void>) | undefined;
    let rotated = false;
    const rotatingFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      if (new URL(request.url).pathname.endsWith('/events')) return new Response('no', { status: 404 });
      const isRotate = (await request.clone().text()).includes('"rotate"');
      const response = await edgeFetch(request);
      if (isRotate) rotated = true;
      else if (rotated && afterRotate) {
        const run = afterRotate;
        afterRotate = undefined;
        await run();
      }
      return response;
    }) as typeof fetch;
    const plainFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      if (new URL(request.url).pathname.endsWith('/events')) return new Response('no', { status: 404 });
      return edgeFetch(request);
    }) as typeof fetch;
    const device = async (fetchFn: typeof fetch, passphrase: string) => {
      const mem = await createMemory({
        store: new InMemoryStore(),
        namespace: 'n',
        sync: { url: 'http://edge.test', token, fetch: fetchFn, intervalMs: 0, debounceMs: 60_000 },
        encryption: fast(passphrase),
      });
      open.push(mem);
      return mem;
    };
    const rotating = await device(rotatingFetch, 'old passphrase');
    const first = await rotating.add({ content: 'before the rotation' });
    await rotating.sync();
    const other = await device(plainFetch, 'old passphrase');
    await other.sync();
    const late = await other.add({ content: 'checked before the rotation, stored after it' });
    let release!: () => void;
    const entered = new Promise<void>((resolve) => {
      held = { id: late.id, entered: resolve, gate: new Promise<void>((r) => (release = r)) };
    });
    const pushing = other.sync().catch(() => undefined);
    await entered;
    afterRotate = async () => {
      release();
      await pushing;
    };
    await rotating.rekey(fast('new passphrase'));
    expect(afterRotate).toBeUndefined();
    expect((await rotating.get(late.id))?.content).toBe('checked before the rotation, stored after it');
    // Every memory on the edge is sealed under one key, the new one: a device opened with the new
    // passphrase reads them all.
    const sealed = await server.getMemories('n', [first.id, late.id]);
    const keys = new Set(sealed.map((r) => r.memory.content.split('.')[1]));
    expect(keys.size).toBe(1);
    const fresh = await device(plainFetch, 'new passphrase');
    await fresh.sync();
    expect((await fresh.get(late.id))?.content).toBe('checked before the rotation, stored after it');
  });
});
