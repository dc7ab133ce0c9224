import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
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

/**
 * Two devices on one edge: `late`, pushed by `other`, is checked by the edge before `rotating`'s rotation
 * and stored after it (its apply held until the rekey's first pull after the rotation is answered).
 * `checksMeta`: whether the edge's store checks the key again inside its transaction.
 */
async function rekeyDuringPush(checksMeta: boolean) {
  // The edge's store holds back the apply of one memory's push until released: the push was checked
  // (its key id still the namespace's) before the rotation, and lands after it.
  const server = new InMemoryStore();
  let held: { id: string; entered: () => void; gate: Promise<void> } | undefined;
  const store = new Proxy(server, {
    get(target, prop) {
      if (prop === 'apply') {
        return async (namespace: string, batch: WriteBatch) => {
          // A store whose transaction cannot read meta (docs/custom-store.md) has no unchangedMeta check.
          const hold = held;
          if (hold && batch.memories?.some((w) => w.id === hold.id)) {
            held = undefined;
            hold.entered();
            await hold.gate;
          }
          if (!checksMeta) {
            const { unchangedMeta: _, ...unchecked } = batch;
            return target.apply(namespace, unchecked);
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
  const device = async (
    fetchFn: typeof fetch,
    passphrase: string,
    local: MemoryStore = new InMemoryStore(),
  ) => {
    const mem = await createMemory({
      store: local,
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
  const otherDb = `rekey-race-other-${process.pid}-${Date.now()}`;
  const other = await device(plainFetch, 'old passphrase', new IndexedDBStore({ name: otherDb }));
  await other.sync();
  const late = await other.add({ content: 'checked before the rotation, stored after it' });
  const lateLink = await other.link(first.id, late.id, 'related_to', { metadata: { why: 'linked late' } });
  let release!: () => void;
  const entered = new Promise<void>((resolve) => {
    held = { id: late.id, entered: resolve, gate: new Promise<void>((r) => (release = r)) };
  });
  const pushing = other.sync().then(
    () => undefined,
    (error: unknown) => error,
  );
  await entered;
  afterRotate = async () => {
    release();
    await pushing;
  };
  await rotating.rekey(fast('new passphrase'));
  expect(afterRotate).toBeUndefined();
  return { server, device, plainFetch, rotating, other, otherDb, first, late, lateLink, pushing };
}

describe('rekey while another device pushes', () => {
  it('a push the edge checked before the rotation but stored after it is refused, and lands under the new key later', async () => {
    const { server, device, plainFetch, rotating, other, otherDb, first, late, pushing } =
      await rekeyDuringPush(true);
    // The edge checks the key again inside the store's transaction: the push sealed under the replaced key
    // is refused whole (nothing of it stored), and stays in its device's outbox; the device, learning of
    // the rotation, cannot open the new key with its passphrase.
    expect(await pushing).toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/wrong key/) });
    expect(await server.getMemories('n', [late.id])).toEqual([]);
    expect(await rotating.get(late.id)).toBeNull();
    // Reopened with the new passphrase, that device pushes it sealed under the new key.
    await other.close();
    const reopened = await device(plainFetch, 'new passphrase', new IndexedDBStore({ name: otherDb }));
    await reopened.sync();
    // Every memory on the edge is sealed under one key, the new one: a device opened with the new
    // passphrase reads them all.
    const sealed = await server.getMemories('n', [first.id, late.id]);
    expect(sealed).toHaveLength(2);
    const keys = new Set(sealed.map((r) => r.memory.content.split('.')[1]));
    expect(keys.size).toBe(1);
    const fresh = await device(plainFetch, 'new passphrase');
    await fresh.sync();
    expect((await fresh.get(first.id))?.content).toBe('before the rotation');
    expect((await fresh.get(late.id))?.content).toBe('checked before the rotation, stored after it');
  });
  it('on a store whose transaction cannot read meta, a push stored under the old key after the rotation is re-sealed by the rekey', async () => {
    const { server, device, plainFetch, rotating, first, late, lateLink, pushing } =
      await rekeyDuringPush(false);
    // Only the check on arrival: the push is stored under the replaced key, after the rekey's pull past
    // the rotation. The rekey's last pull brings it, opened with the replaced key, and re-seals it.
    // (The pushing device, on the old passphrase, then fails its round on learning of the rotation.)
    expect(await pushing).toMatchObject({ code: 'VALIDATION', field: 'encryption' });
    expect((await rotating.get(late.id))?.content).toBe('checked before the rotation, stored after it');
    const [sealedFirst, sealedLate] = await server.getMemories('n', [first.id, late.id]);
    const keyOf = (sealed: string) => sealed.split('.')[1];
    expect(keyOf(sealedLate!.memory.content)).toBe(keyOf(sealedFirst!.memory.content));
    const [link] = await server.getLinks('n', [lateLink.id]);
    expect(keyOf(String(link!.link.metadata['engram.encrypted']))).toBe(keyOf(sealedFirst!.memory.content));
    const fresh = await device(plainFetch, 'new passphrase');
    await fresh.sync();
    expect((await fresh.get(late.id))?.content).toBe('checked before the rotation, stored after it');
    expect((await fresh.links(first.id)).find((l) => l.id === lateLink.id)?.metadata).toEqual({
      why: 'linked late',
    });
  });
});
