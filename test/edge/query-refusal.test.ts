import { describe, expect, it } from 'vitest';
import { testApp } from './helpers.js';

/*
 * A query parameter a route does not read must be refused, never ignored: `DELETE /memories?kind=scratch`
 * used to clear the whole namespace. Every refusal is 400 VALIDATION naming `<call>.<parameter>`, and
 * nothing of the request is done.
 */

async function seeded() {
  const app = await testApp();
  const made = await app.call('POST', '/v1/ns/demo/memories', [
    { id: 'keep', content: 'keep me', kind: 'fact' },
    { id: 'scratch', content: 'scratch note', kind: 'scratch' },
  ]);
  expect(made.status).toBe(201);
  const link = await app.call('POST', '/v1/ns/demo/links', { from: 'keep', to: 'scratch', type: 'rel' });
  expect(link.status).toBe(201);
  return { ...app, linkId: link.json.id as string };
}

describe('routes refuse query parameters they do not take', () => {
  it('DELETE /memories?kind=scratch is refused and clears nothing', async () => {
    const { call } = await seeded();
    const res = await call('DELETE', '/v1/ns/demo/memories?kind=scratch');
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'VALIDATION', field: 'clear.kind' });
    expect(res.json.error.message).toMatch(/clear\.kind: expected no query parameters/);
    expect((await call('GET', '/v1/ns/demo/count')).json).toEqual({ count: 2 });
    expect((await call('GET', '/v1/ns/demo/stats')).json).toMatchObject({ memories: 2, links: 1 });
    // Without a query it still clears.
    expect((await call('DELETE', '/v1/ns/demo/memories')).json).toEqual({ removed: 2 });
  });

  const refusals: Array<[string, string, (linkId: string) => string, unknown, string]> = [
    ['POST', 'add', () => '/v1/ns/demo/memories?bogus=1', { content: 'new' }, 'add.bogus'],
    ['GET', 'get', () => '/v1/ns/demo/memories/keep?include=clocks', undefined, 'get.include'],
    ['PATCH', 'update', () => '/v1/ns/demo/memories/keep?kind=x', { content: 'changed' }, 'update.kind'],
    ['DELETE', 'remove', () => '/v1/ns/demo/memories/keep?soft=true', undefined, 'remove.soft'],
    [
      'POST',
      'supersede',
      () => '/v1/ns/demo/memories/keep/supersede?x=1',
      { content: 'newer' },
      'supersede.x',
    ],
    ['GET', 'stats', () => '/v1/ns/demo/stats?x=1', undefined, 'stats.x'],
    ['GET', 'capabilities', () => '/v1/ns/demo/capabilities?x=1', undefined, 'capabilities.x'],
    ['GET', 'count', () => '/v1/ns/demo/count?include=clocks', undefined, 'count.include'],
    ['POST', 'context', () => '/v1/ns/demo/context?limit=1', { query: 'keep' }, 'context.limit'],
    ['POST', 'search', () => '/v1/ns/demo/search?limit=1', { query: 'keep' }, 'search.limit'],
    [
      'POST',
      'link',
      () => '/v1/ns/demo/links?weight=2',
      { from: 'scratch', to: 'keep', type: 'other' },
      'link.weight',
    ],
    ['DELETE', 'unlink', (id) => `/v1/ns/demo/links/${id}?cascade=1`, undefined, 'unlink.cascade'],
    ['POST', 'sync', () => '/v1/ns/demo/sync?after=0', { pull: { after: 0 } }, 'sync.after'],
    ['GET', 'events', () => '/v1/ns/demo/events?since=0', undefined, 'events.since'],
    ['DELETE', 'clear', () => '/v1/ns/demo/memories?metadata.project=x', undefined, 'clear.metadata.project'],
  ];
  for (const [method, call_, path, body, field] of refusals) {
    it(`${method} ${call_} refuses an unknown parameter (${field}) and changes nothing`, async () => {
      const { call, store, linkId } = await seeded();
      const before = await store.changes('demo', 0, 100);
      const res = await call(method, path(linkId), body);
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ code: 'VALIDATION', field });
      expect(await store.changes('demo', 0, 100)).toEqual(before);
    });
  }

  it('the parameters a route does take still work', async () => {
    const { call } = await seeded();
    const dedupe = await call('POST', '/v1/ns/demo/memories?dedupe=true', {
      content: 'Keep me',
      tags: ['t'],
    });
    expect(dedupe.json).toMatchObject({ id: 'keep', tags: ['t'] });
    const now = encodeURIComponent(new Date().toISOString());
    expect((await call('GET', `/v1/ns/demo/memories/keep?now=${now}`)).status).toBe(200);
    expect((await call('POST', `/v1/ns/demo/context?now=${now}`, { query: 'keep' })).status).toBe(200);
    const hits = await call('POST', `/v1/ns/demo/search?now=${now}&include=clocks`, { query: 'keep' });
    expect(hits.json.hits[0]).toMatchObject({ memory: { id: 'keep' }, clocks: expect.any(Object) });
    expect((await call('GET', `/v1/ns/demo/count?now=${now}&kind=fact`)).json).toEqual({ count: 1 });
    const sync = await call('POST', '/v1/ns/demo/sync?origin=local&answer=ids', { pull: { after: 0 } });
    expect(sync.status).toBe(200);
    // `lastEventId` is read (and validated) by the events route, not refused as unknown.
    const events = await call('GET', '/v1/ns/demo/events?lastEventId=x');
    expect(events.json.error).toMatchObject({ code: 'VALIDATION', field: 'Last-Event-ID' });
  });
});
