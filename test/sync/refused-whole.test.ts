import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, pglite } from '../../src/backends/postgres/index.js';
import { InMemoryStore, type MemoryStore } from '../../src/index.js';
import { testApp } from '../edge/helpers.js';

/*
 * docs/sync.md: a /sync request refused as a whole applies nothing of it. Its `key` (info, rotate) and
 * `language` parts used to be settled before the push was checked, so a push refused for a stamp from
 * the future (or for a quota) still turned the namespace encrypted, or fixed its language.
 */

const pg = await PGlite.create();
afterAll(() => pg.close());

const servers: Array<[string, () => MemoryStore]> = [
  ['InMemoryStore', () => new InMemoryStore()],
  ['PGlite', () => new PostgresStore(pglite(pg))],
];

const stampAt = (ms: number) => `${ms.toString(16).padStart(12, '0')}-0000-client`;
const keyInfo = (keyId: string) => ({ v: 1, keyId, check: 'AAAAAAAAAAAAAAAAAAAAAA' });
/** Values in the shapes an encrypted device pushes (crypto/fields.ts), sealed with `keyId`. */
const sealedValues = (keyId: string) => {
  const sealed = `e1.${keyId}.${'A'.repeat(40)}`;
  return { content: sealed, kind: 'note', tags: [`00~${sealed}`], metadata: { 'engram.encrypted': sealed } };
};
const sealedCreate = (namespace: string, id: string, keyId: string, stamp: string) => ({
  id,
  create: { namespace, createdAt: new Date().toISOString() },
  values: sealedValues(keyId),
  clocks: { content: stamp, kind: stamp, tags: stamp, metadata: stamp },
});

let counter = 0;

describe.each(servers)('a sync request refused as a whole applies nothing (edge on %s)', (_, makeStore) => {
  async function edge(options: Parameters<typeof testApp>[0] = {}) {
    const namespace = `whole-${++counter}`;
    const app = await testApp({ store: makeStore(), ns: [namespace], ...options });
    const sync = (body: unknown) => app.call('POST', `/v1/ns/${namespace}/sync`, body);
    const state = async () => ({
      key: await app.store.getMeta(namespace, 'encryption'),
      language: await app.store.getMeta(namespace, 'language'),
      feed: await app.store.changes(namespace, 0, 100),
    });
    return { ...app, namespace, sync, state };
  }

  it('a push stamped an hour ahead: key info and language are not settled', async () => {
    const { call, namespace, sync, state } = await edge();
    const before = await state();
    const ahead = stampAt(Date.now() + 3_600_000);
    const res = await sync({
      key: { info: keyInfo('kid1') },
      language: 'german',
      push: { tombstones: [{ entity: 'memory', id: 'gone', namespace, clock: ahead }] },
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'VALIDATION', field: 'sync.push.tombstones.0.clock' });
    expect(await state()).toEqual(before);
    expect((await call('GET', `/v1/ns/${namespace}/capabilities`)).json).toMatchObject({ encrypted: false });
    // The namespace is as it was: plain, and free to take another language.
    expect((await sync({ language: 'french' })).status).toBe(200);
    expect((await call('POST', `/v1/ns/${namespace}/memories`, { content: 'plain' })).status).toBe(201);
  });

  it('a push of sealed records stamped ahead: the key info proposed with it is not kept', async () => {
    const { namespace, sync, state } = await edge();
    const before = await state();
    const ahead = stampAt(Date.now() + 3_600_000);
    const res = await sync({
      key: { info: keyInfo('kid1'), id: 'kid1' },
      push: { memories: [sealedCreate(namespace, 'm1', 'kid1', ahead)] },
    });
    expect(res.status).toBe(400);
    expect(res.json.error.field).toBe('sync.push.memories.0.clocks.content');
    expect(await state()).toEqual(before);
  });

  it('a rotation refused with its push leaves the namespace on its key', async () => {
    const { namespace, sync, state } = await edge();
    expect((await sync({ key: { info: keyInfo('kid1') } })).json.key.info.keyId).toBe('kid1');
    const before = await state();
    const ahead = stampAt(Date.now() + 3_600_000);
    const res = await sync({
      key: { rotate: { from: 'kid1', to: keyInfo('kid2') }, id: 'kid2' },
      push: { memories: [sealedCreate(namespace, 'm1', 'kid2', ahead)] },
    });
    expect(res.status).toBe(400);
    expect(await state()).toEqual(before);
  });

  it('a push refused by the quota leaves neither key info nor language behind', async () => {
    const { namespace, sync, state } = await edge({ quota: { memories: 0 } });
    const before = await state();
    const res = await sync({
      key: { info: keyInfo('kid1'), id: 'kid1' },
      language: 'german',
      push: { memories: [sealedCreate(namespace, 'm1', 'kid1', stampAt(Date.now()))] },
    });
    expect(res.status).toBe(403);
    expect(res.json.error.field).toBe('quota.memories');
    expect(await state()).toEqual(before);
  });

  it('a key set up while a plaintext push was checked refuses the push (CONFLICT sync.key.id)', async () => {
    const inner = makeStore();
    let encrypted = false;
    // Another device turns the namespace encrypted between the edge's key check and the push's batch.
    const store = new Proxy(inner, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (key !== 'apply') return typeof value === 'function' ? value.bind(target) : value;
        return async (ns: string, batch: Parameters<MemoryStore['apply']>[1]) => {
          if (!encrypted && batch.memories?.length) {
            encrypted = true;
            await target.apply(ns, { meta: { encryption: keyInfo('kid2') } });
          }
          return target.apply(ns, batch);
        };
      },
    });
    const { namespace, sync, state } = await edge({ store });
    const stamp = stampAt(Date.now());
    const res = await sync({
      push: {
        memories: [
          {
            id: 'plain',
            create: { namespace, createdAt: new Date().toISOString() },
            values: { content: 'PLAINTEXT', kind: 'note', tags: [], metadata: {} },
            clocks: { content: stamp, kind: stamp, tags: stamp, metadata: stamp },
          },
        ],
      },
    });
    expect(res.status).toBe(409);
    expect(res.json.error).toMatchObject({ code: 'CONFLICT', field: 'sync.key.id' });
    expect(await state()).toEqual({ key: keyInfo('kid2'), language: undefined, feed: [] });
  });

  it('an accepted request settles key, language and push together', async () => {
    const { namespace, sync, state, call } = await edge();
    const res = await sync({
      key: { info: keyInfo('kid1'), id: 'kid1' },
      language: 'german',
      push: { memories: [sealedCreate(namespace, 'm1', 'kid1', stampAt(Date.now()))] },
    });
    expect(res.status).toBe(200);
    expect(res.json.key.info).toEqual(keyInfo('kid1'));
    const after = await state();
    expect(after.key).toEqual(keyInfo('kid1'));
    expect(after.language).toBe('german');
    expect(after.feed.map((e) => e.id)).toEqual(['m1']);
    expect((await call('GET', `/v1/ns/${namespace}/memories/m1`)).json.content).toMatch(/^e1\.kid1\./);
  });
});
