import { describe, expect, it } from 'vitest';
import { stampEveryField, stampEveryLinkField } from '../../src/core/field-clocks.js';
import { formatHlc } from '../../src/core/hlc.js';
import { packAnswer, unpackAnswer } from '../../src/core/sync/lone-stamps.js';
import { chunkPush, requestBody } from '../../src/core/sync/push-chunks.js';
import type { MemoryWrite } from '../../src/index.js';
import { replicaThrough, testApp } from '../edge/helpers.js';

const stamp = (offsetMs = 0, node = 'device') =>
  formatHlc({ wallMs: Date.now() - 5000 + offsetMs, counter: 0, node });

const CREATED = new Date(Date.now() - 5000).toISOString();

const write = (id: string, clocks: MemoryWrite['clocks'] | string, content = `memory ${id}`) => ({
  id,
  create: { namespace: 'demo', createdAt: CREATED },
  values: { content, kind: 'note', tags: ['t'], metadata: {} },
  clocks,
});

/** A fetch through `app` that keeps every /sync request body and answer. */
function recording(app: { request: (url: string, init?: RequestInit) => Response | Promise<Response> }) {
  const exchanges: { sent: string; answer: string; status: number }[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const response = await app.request(String(input), init);
    exchanges.push({
      sent: String(init?.body),
      answer: await response.clone().text(),
      status: response.status,
    });
    return response;
  }) as typeof fetch;
  return { exchanges, fetchFn };
}

describe('lone stamps on the wire', () => {
  it('the edge takes a lone stamp as that stamp on every field, as the object form would give it', async () => {
    const { call, store } = await testApp();
    const at = stamp();
    const linkAt = stamp(1);
    const packed = await call('POST', '/v1/ns/demo/sync', {
      push: {
        memories: [write('m1', at), write('m2', stampEveryField(at))],
        links: [
          {
            id: 'l1',
            create: { namespace: 'demo', from: 'm1', to: 'm2', createdAt: new Date().toISOString() },
            values: { type: 'related_to', weight: 1, metadata: {} },
            clocks: linkAt,
          },
        ],
      },
    });
    expect(packed.status).toBe(200);
    expect(packed.json.loneStamps).toBe(true);
    const [one, two] = await store.getMemories('demo', ['m1', 'm2']);
    expect(one!.clocks).toEqual(stampEveryField(at));
    expect(one!.clocks).toEqual(two!.clocks);
    expect({ ...one!.memory, id: 'x', content: '' }).toEqual({ ...two!.memory, id: 'x', content: '' });
    const [link] = await store.getLinks('demo', ['l1']);
    expect(link!.clocks).toEqual(stampEveryLinkField(linkAt));
  });

  it('refuses a string that is no stamp, a lone stamp over a missing value, and a flag that is no boolean, writing nothing', async () => {
    const { call, store } = await testApp();
    const notStamp = await call('POST', '/v1/ns/demo/sync', {
      push: { memories: [write('m1', 'yesterday')] },
    });
    expect(notStamp.status).toBe(400);
    expect(notStamp.json.error).toMatchObject({ code: 'VALIDATION', field: 'sync.push.memories.0.clocks' });
    expect(notStamp.json.error.message).toMatch(
      /expected an HLC stamp .* or an object of field stamps, got "yesterday"/,
    );
    // A lone stamp stamps tags too: without a value for them it is refused as the object form is.
    const { tags: _, ...untagged } = write('m2', stamp()).values;
    const missing = await call('POST', '/v1/ns/demo/sync', {
      push: { memories: [{ ...write('m2', stamp()), values: untagged }] },
    });
    expect(missing.status).toBe(400);
    expect(missing.json.error).toMatchObject({
      code: 'VALIDATION',
      field: 'sync.push.memories.0.values.tags',
    });
    // A lone stamp from the future is refused as the object form is, at its first field.
    const ahead = await call('POST', '/v1/ns/demo/sync', {
      push: { memories: [write('m3', stamp(3_600_000))] },
    });
    expect(ahead.status).toBe(400);
    expect(ahead.json.error).toMatchObject({
      code: 'VALIDATION',
      field: 'sync.push.memories.0.clocks.content',
    });
    expect(ahead.json.error.message).toContain('ahead of the server clock');
    const flag = await call('POST', '/v1/ns/demo/sync', { loneStamps: 'yes', pull: { after: 0 } });
    expect(flag.status).toBe(400);
    expect(flag.json.error).toMatchObject({ code: 'VALIDATION', field: 'sync.loneStamps' });
    expect(await store.getMemories('demo', ['m1', 'm2', 'm3'])).toEqual([]);
  });

  it('answers in the lone-stamp form only when asked, leaving edited records in the object form', async () => {
    const { call } = await testApp();
    const at = stamp();
    const edited = { ...stampEveryField(at), content: stamp(1) };
    await call('POST', '/v1/ns/demo/sync', { push: { memories: [write('m1', at), write('m2', edited)] } });
    const plain = await call('POST', '/v1/ns/demo/sync', { pull: { after: 0 } });
    const asked = await call('POST', '/v1/ns/demo/sync', { loneStamps: true, pull: { after: 0 } });
    const clocksOf = (answer: { json: { pull: { changes: { memory: { clocks: unknown } }[] } } }) =>
      answer.json.pull.changes.map((change) => change.memory.clocks);
    expect(clocksOf(plain)).toEqual([stampEveryField(at), edited]);
    expect(clocksOf(asked)).toEqual([at, edited]);
    expect(unpackAnswer(asked.json)).toEqual({ ...plain.json, serverTime: asked.json.serverTime });
    const read = await call('POST', '/v1/ns/demo/sync', { loneStamps: true, get: { memories: ['m1'] } });
    expect(read.json.get.memories[0].clocks).toBe(at);
  });

  it('a replica sends lone stamps once the edge said it takes them: about half the bytes, the same records', async () => {
    const { app, token, store } = await testApp();
    const { exchanges, fetchFn } = recording(app);
    const writer = await replicaThrough(token, fetchFn);
    await writer.sync(); // the first answer tells the replica what the edge takes
    const items = Array.from({ length: 300 }, (_, i) => ({
      content: `fact number ${i} about coffee`,
      tags: ['x'],
    }));
    await writer.addMany(items);
    const edited = (await writer.list({ limit: 1 })).items[0]!;
    await writer.update(edited.id, { content: 'edited once' });
    exchanges.length = 0;
    expect((await writer.sync()).pushed).toBe(300);
    const push = exchanges.find(({ sent }) => sent.includes('"push":'))!;
    const body = JSON.parse(push.sent);
    expect(body.loneStamps).toBe(true);
    const kinds = body.push.memories.map((m: { clocks: unknown }) => typeof m.clocks);
    expect(kinds.filter((k: string) => k === 'string')).toHaveLength(299);
    expect(kinds.filter((k: string) => k === 'object')).toHaveLength(1);
    const full = requestBody({
      push: {
        memories: body.push.memories.map((m: MemoryWrite) => ({
          ...m,
          clocks: typeof m.clocks === 'string' ? stampEveryField(m.clocks) : m.clocks,
        })),
      },
    });
    expect(push.sent.length).toBeLessThan(full.length * 0.6);
    // The edge holds what the replica holds, clocks included, and a second replica pulls it all.
    const mine = await writer.list({ limit: 1000 });
    const held = await store.getMemories(
      'demo',
      mine.items.map((m) => m.id),
    );
    const reader = await replicaThrough(token, fetchFn);
    expect((await reader.sync()).pulled).toBe(300);
    const theirs = await reader.list({ limit: 1000 });
    expect(theirs.items.map((m) => [m.id, m.content]).sort()).toEqual(
      mine.items.map((m) => [m.id, m.content]).sort(),
    );
    expect(held.find((r) => r.memory.id === edited.id)!.memory.content).toBe('edited once');
    const pulled = exchanges.filter(
      ({ sent }) => sent.includes('"pull":') && sent.includes('"loneStamps":true'),
    );
    expect(pulled.some(({ answer }) => /"clocks":"[0-9a-f]{12}-/.test(answer))).toBe(true);
    await writer.close();
    await reader.close();
  });

  it('with an edge of an older release (a deploy rolling back), the replica sends the object form again and loses nothing', async () => {
    const { app, token, store } = await testApp();
    let older = false;
    const refusals: string[] = [];
    // The older edge: refuses the flag and string clocks as an edge before lone stamps did, says nothing of them.
    const rolling = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (older && String(input).includes('/sync')) {
        const sent = JSON.parse(String(init?.body));
        const field =
          sent.loneStamps !== undefined
            ? 'sync.loneStamps'
            : (sent.push?.memories ?? []).some((m: { clocks: unknown }) => typeof m.clocks === 'string')
              ? 'sync.push.memories.0.clocks'
              : undefined;
        if (field) {
          refusals.push(field);
          const error = { code: 'VALIDATION', message: `${field}: unknown field`, field };
          return new Response(JSON.stringify({ error }), {
            status: 400,
            headers: { 'content-type': 'application/json' },
          });
        }
        const answer = await (await app.request(String(input), init)).json();
        delete answer.loneStamps;
        return new Response(JSON.stringify(answer), {
          status: 200,
          headers: { 'content-type': 'application/json' },
        });
      }
      return app.request(String(input), init);
    }) as typeof fetch;
    const writer = await replicaThrough(token, rolling);
    await writer.sync();
    await writer.addMany([{ content: 'before the rollback' }, { content: 'also before' }]);
    older = true;
    const result = await writer.sync();
    expect(refusals).toEqual(['sync.loneStamps']);
    expect(result.pushed).toBe(2);
    expect(await writer.rejected()).toEqual([]);
    await writer.add({ content: 'after the rollback' });
    expect((await writer.sync()).pushed).toBe(1);
    expect(refusals).toHaveLength(1);
    const ids = (await writer.list({ limit: 10 })).items.map((m) => m.id);
    expect((await store.getMemories('demo', ids)).map((r) => r.memory.content).sort()).toEqual([
      'after the rollback',
      'also before',
      'before the rollback',
    ]);
    expect(writer.status.state).toBe('online');
    await writer.close();
  });

  it('cuts pushes to the size they go out at: fewer requests for the same records', () => {
    const at = stamp();
    const memories = Array.from({ length: 2000 }, (_, i) =>
      write(`m${i}`, stampEveryField(at), 'x'.repeat(300)),
    );
    const writes = { memories: memories as MemoryWrite[], links: [], tombstones: [] };
    const full = [...chunkPush(writes)];
    const packed = [...chunkPush(writes, undefined, true)];
    expect(packed.length).toBeLessThan(full.length);
    // A body is built in the form asked for, whichever form the cut measured.
    const first = packed[0]!;
    expect(JSON.parse(requestBody(first, true)).push.memories[0].clocks).toBe(at);
    expect(JSON.parse(requestBody(first)).push.memories[0].clocks).toEqual(stampEveryField(at));
    expect(JSON.parse(requestBody(full[0]!, true)).push.memories[0].clocks).toBe(at);
  });

  it('packAnswer and unpackAnswer are inverse on records whose fields share one stamp', () => {
    const at = stamp();
    const memory = {
      memory: { ...write('m1', at).values, id: 'm1', namespace: 'demo', createdAt: 'c', updatedAt: 'u' },
      clocks: stampEveryField(at),
    };
    const link = {
      link: {
        id: 'l1',
        namespace: 'demo',
        from: 'a',
        to: 'b',
        type: 't',
        metadata: {},
        createdAt: 'c',
        updatedAt: 'u',
      },
      clocks: stampEveryLinkField(at),
    };
    const answer = {
      pull: {
        changes: [
          { seq: 1, entity: 'memory' as const, id: 'm1', origin: 'local' as const, memory },
          { seq: 2, entity: 'link' as const, id: 'l1', origin: 'local' as const, link },
        ],
        cursor: 2,
        hasMore: false,
      },
      get: { memories: [memory], links: [link], tombstones: [] },
    };
    const packed = packAnswer(answer);
    expect(packed.pull!.changes[0]!.memory!.clocks).toBe(at);
    expect(packed.pull!.changes[1]!.link!.clocks).toBe(at);
    expect(packed.get!.memories[0]!.clocks).toBe(at);
    expect(unpackAnswer(packed)).toEqual(answer);
    // Not an answer's shape: passed through for its reader to refuse, not thrown on here.
    expect(unpackAnswer({ pull: { changes: null } } as never)).toEqual({ pull: { changes: null } });
  });
});
