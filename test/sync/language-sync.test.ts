import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, pglite } from '../../src/backends/postgres/index.js';
import { createMemory, InMemoryStore, type Language } from '../../src/index.js';
import { testApp } from '../edge/helpers.js';

const db = await PGlite.create();
afterAll(() => db.close());

/** The edge on Postgres (PGlite) indexes pushed memories itself and serves search from its own index. */
describe('a namespace language through sync and the edge', async () => {
  const edge = await testApp({ store: new PostgresStore(pglite(db)), ns: ['haus', 'plain'] });
  const replica = (namespace: string, language?: Language) =>
    createMemory({
      store: new InMemoryStore(),
      namespace,
      language,
      sync: {
        url: 'http://edge.test',
        token: edge.token,
        fetch: (input, init) => Promise.resolve(edge.app.request(input, init)),
        intervalMs: 0,
        debounceMs: 5,
        live: false,
      },
    });

  it('settles the language on the edge with the first push, which then indexes and searches in it', async () => {
    const writer = await replica('haus', 'german');
    const pushed = await writer.add({ content: 'Die Häuser am Fluss sind alt' });
    await writer.sync();
    expect(await edge.store.getMeta('haus', 'language')).toBe('german');
    // Server-side search over HTTP: "Haus" finds "Häuser" only with the German stemmer.
    const found = await edge.call('POST', '/v1/ns/haus/search', { query: 'Haus' });
    expect(found.status).toBe(200);
    expect(found.json.hits.map((h: { memory: { id: string } }) => h.memory.id)).toEqual([pushed.id]);
    // A write through the HTTP API is indexed in the namespace language too.
    const garden = await edge.call('POST', '/v1/ns/haus/memories', {
      content: 'Im Frühling blühen die Gärten',
    });
    expect(garden.status).toBe(201);
    const gardens = await edge.call('POST', '/v1/ns/haus/search', { query: 'Garten' });
    expect(gardens.json.hits.map((h: { memory: { id: string } }) => h.memory.id)).toEqual([garden.json.id]);
    // A second German replica pulls both and indexes them locally in German.
    const reader = await replica('haus', 'german');
    await reader.sync();
    expect((await reader.search('Haus')).map((h) => h.memory.id)).toEqual([pushed.id]);
    expect((await reader.search('Garten')).map((h) => h.memory.id)).toEqual([garden.json.id]);
    // A key request is answered with the namespace's language too, which a RemoteStore learns only so.
    const setUp = await edge.call('POST', '/v1/ns/haus/sync', { key: {} });
    expect(setUp.json).toMatchObject({ key: { info: null }, language: 'german' });
    await Promise.all([writer.close(), reader.close()]);
  });

  it('refuses a replica of another language, naming both, and an unknown language', async () => {
    const english = await replica('haus');
    await english.add({ content: 'houses by the river' });
    const wrong = await english.sync().catch((error: unknown) => error);
    expect(wrong).toMatchObject({ code: 'VALIDATION', field: 'language' });
    expect(String((wrong as Error).message)).toMatch(/'german'.*'english'/);
    const french = await replica('haus', 'french');
    const refused = await french.sync().catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'VALIDATION', field: 'language' });
    expect(String((refused as Error).message)).toMatch(/'german'.*'french'/);
    const raw = await edge.call('POST', '/v1/ns/haus/sync', { language: 'klingon', pull: { after: 0 } });
    expect(raw.status).toBe(400);
    expect(raw.json.error).toMatchObject({ code: 'VALIDATION', field: 'language' });
    expect(raw.json.error.message).toContain("'dutch'");
    await Promise.all([english.close(), french.close()]);
  });

  it('keeps a namespace indexed in English without a language English', async () => {
    const plain = await edge.call('POST', '/v1/ns/plain/memories', { content: 'running shoes' });
    expect(plain.status).toBe(201);
    const german = await replica('plain', 'german');
    await expect(german.sync()).rejects.toMatchObject({ code: 'VALIDATION', field: 'language' });
    expect(await edge.store.getMeta('plain', 'language')).toBeUndefined();
    const hits = await edge.call('POST', '/v1/ns/plain/search', { query: 'run' });
    expect(hits.json.hits).toHaveLength(1);
    await german.close();
  });
});
