import { describe, expect, it } from 'vitest';
import { testApp } from './helpers.js';

const ids = (items: Array<{ id: string }>) => items.map((m) => m.id);

describe('edge routes: memory lifecycle', () => {
  it('supersede, then list and search with asOf and history', async () => {
    const { call } = await testApp();
    const berlin = await call('POST', '/v1/ns/demo/memories', {
      content: 'lives in Berlin',
      validFrom: '2020-01-01T00:00:00Z',
    });
    const paris = await call('POST', `/v1/ns/demo/memories/${berlin.json.id}/supersede`, {
      content: 'lives in Paris',
      validFrom: '2023-05-01T00:00:00Z',
    });
    expect(paris.status).toBe(201);
    expect(paris.json).toMatchObject({ content: 'lives in Paris', validFrom: '2023-05-01T00:00:00.000Z' });
    const old = await call('GET', `/v1/ns/demo/memories/${berlin.json.id}`);
    expect(old.json.validTo).toBe('2023-05-01T00:00:00.000Z');
    const links = await call('GET', `/v1/ns/demo/memories/${paris.json.id}/links?direction=out`);
    expect(links.json.items).toMatchObject([{ type: 'supersedes', to: berlin.json.id }]);

    expect(ids((await call('GET', '/v1/ns/demo/memories')).json.items)).toEqual([paris.json.id]);
    const asOf = await call('GET', '/v1/ns/demo/memories?asOf=2021-06-01T00:00:00Z');
    expect(ids(asOf.json.items)).toEqual([berlin.json.id]);
    const all = await call('GET', '/v1/ns/demo/memories?history=true');
    expect(ids(all.json.items)).toEqual([paris.json.id, berlin.json.id]);
    const current = await call('GET', '/v1/ns/demo/memories?history=false');
    expect(ids(current.json.items)).toEqual([paris.json.id]);
    const search = await call('POST', '/v1/ns/demo/search', { query: 'lives', asOf: '2021-06-01T00:00:00Z' });
    expect(search.json.hits.map((h: { memory: { id: string } }) => h.memory.id)).toEqual([berlin.json.id]);
    const both = await call('POST', '/v1/ns/demo/search', { query: 'lives', history: true });
    expect(both.json.hits).toHaveLength(2);

    const again = await call('POST', `/v1/ns/demo/memories/${berlin.json.id}/supersede`, { content: 'x' });
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: 'CONFLICT' });
    expect(again.json.error.message).toContain('supersede.oldId');
    const missing = await call('POST', '/v1/ns/demo/memories/nope/supersede', { content: 'x' });
    expect(missing.status).toBe(404);
    const badAsOf = await call('GET', '/v1/ns/demo/memories?asOf=tomorrow');
    expect(badAsOf.status).toBe(400);
    expect(badAsOf.json.error.message).toContain('list.asOf');
    const badHistory = await call('GET', '/v1/ns/demo/memories?history=maybe');
    expect(badHistory.json.error.message).toContain('list.history');
    const badPeriod = await call('POST', '/v1/ns/demo/memories', {
      content: 'x',
      validFrom: '2024-01-02T00:00:00Z',
      validTo: '2024-01-01T00:00:00Z',
    });
    expect(badPeriod.status).toBe(400);
    expect(badPeriod.json.error.message).toContain('add.validTo');
  });

  it('count, stats, clear', async () => {
    const { call } = await testApp();
    await call('POST', '/v1/ns/demo/memories', [
      { content: 'a', kind: 'fact', tags: ['x'] },
      { content: 'b', tags: ['x', 'y'] },
      { content: 'c', validTo: '2001-01-01T00:00:00Z' },
    ]);
    expect((await call('GET', '/v1/ns/demo/count')).json).toEqual({ count: 2 });
    expect((await call('GET', '/v1/ns/demo/count?kind=fact')).json).toEqual({ count: 1 });
    expect((await call('GET', '/v1/ns/demo/count?tags=x,y&tagMode=all')).json).toEqual({ count: 1 });
    expect((await call('GET', '/v1/ns/demo/count?history=true')).json).toEqual({ count: 3 });
    expect((await call('GET', '/v1/ns/demo/count?asOf=2000-01-01T00:00:00Z')).json).toEqual({ count: 3 });
    const bad = await call('GET', '/v1/ns/demo/count?limit=3');
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain('count.limit');
    expect((await call('GET', '/v1/ns/demo/stats')).json).toEqual({
      memories: 3,
      links: 0,
      tombstones: 0,
      pendingSync: 0,
      pendingEmbeddings: 0,
    });
    const cleared = await call('DELETE', '/v1/ns/demo/memories');
    expect(cleared).toMatchObject({ status: 200, json: { removed: 3 } });
    expect((await call('GET', '/v1/ns/demo/count?history=true')).json).toEqual({ count: 0 });
    expect((await call('GET', '/v1/ns/demo/stats')).json).toMatchObject({ memories: 0, tombstones: 3 });
  });

  it('dedupe on add, and context', async () => {
    const { call } = await testApp();
    const first = await call('POST', '/v1/ns/demo/memories', { content: 'Prefers  tea', tags: ['a'] });
    const again = await call('POST', '/v1/ns/demo/memories?dedupe=true', {
      content: 'prefers tea',
      tags: ['b'],
    });
    expect(again.json.id).toBe(first.json.id);
    expect(again.json.tags).toEqual(['a', 'b']);
    const copy = await call('POST', '/v1/ns/demo/memories', { content: 'prefers tea' });
    expect(copy.json.id).not.toBe(first.json.id);
    const undeduped = await call('POST', '/v1/ns/demo/memories?dedupe=false', { content: 'prefers tea' });
    expect(undeduped.status).toBe(201);
    expect([first.json.id, copy.json.id]).not.toContain(undeduped.json.id);
    const bad = await call('POST', '/v1/ns/demo/memories?dedupe=yes', { content: 'x' });
    expect(bad.json.error.message).toContain('add.options.dedupe');

    const context = await call('POST', '/v1/ns/demo/context', { query: 'tea', maxChars: 15 });
    expect(context.status).toBe(200);
    // Equal scores: the newer copy first, and only one line fits.
    expect(context.json.context).toBe('- prefers tea');
    const badContext = await call('POST', '/v1/ns/demo/context', { query: 'tea', maxChars: -1 });
    expect(badContext.json.error.message).toContain('context.maxChars');
    const forbidden = await call('GET', '/v1/ns/other/stats');
    expect(forbidden.status).toBe(403);
  });
});
