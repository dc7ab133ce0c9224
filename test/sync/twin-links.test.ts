import { afterEach, describe, expect, it } from 'vitest';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, type Engram, InMemoryStore } from '../../src/index.js';

const SECRET = 'twin-links-secret';
const open: Engram[] = [];
afterEach(async () => {
  for (const mem of open.splice(0)) await mem.close();
});

async function setup() {
  const server = new InMemoryStore();
  const app = createEdgeApp({ store: server, secret: SECRET, logger: false });
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) =>
    app.fetch(new Request(input, init))) as typeof fetch;
  const token = await mintToken({ secret: SECRET, ns: ['n'] });
  const replica = async () => {
    const mem = await createMemory({
      namespace: 'n',
      sync: {
        url: 'http://edge.test',
        token,
        fetch: fetchFn,
        intervalMs: 0,
        live: false,
        debounceMs: 60_000,
      },
    });
    open.push(mem);
    return mem;
  };
  return { server, replica };
}

describe('a device that unlinks a pair and links it again before it syncs', () => {
  it('ends with the new link everywhere (found by the lifecycle property, seed 2264516267)', async () => {
    const { server, replica } = await setup();
    const a = await replica();
    const b = await replica();
    const [m1, m2] = await a.addMany([{ content: 'Maya' }, { content: 'Lisbon' }]);
    const old = await a.link(m1!.id, m2!.id, 'lives_in');
    await a.sync();
    await b.sync();
    await a.unlink(old.id);
    const again = await a.link(m1!.id, m2!.id, 'lives_in', { weight: 0.7 });
    await a.sync();
    await b.sync();
    await a.sync();
    // The edge used to fold the new link into the one the same push deleted, bringing that one back: the
    // device then refused it (it holds its tombstone) and dropped its own new link, which the edge had
    // tombstoned; every replica but the edge ended without the link.
    for (const links of [
      await a.links(m1!.id),
      await b.links(m1!.id),
      (await server.linksOf('n', [m1!.id], { direction: 'out' })).map((r) => r.link),
    ]) {
      expect(links.map((l) => [l.id, l.weight])).toEqual([[again.id, 0.7]]);
    }
  });
});

describe('two devices linking one pair apart', () => {
  it('end with one link everywhere, its fields merged by their stamps, and link() updates it', async () => {
    const { server, replica } = await setup();
    const a = await replica();
    const b = await replica();
    const [m1, m2] = await a.addMany([{ content: 'Maya' }, { content: 'Lisbon' }]);
    await a.sync();
    await b.sync();
    // Apart (no sync between): each links the pair with the same type; B later, with other fields.
    const fromA = await a.link(m1!.id, m2!.id, 'lives_in', { weight: 0.3 });
    await new Promise((r) => setTimeout(r, 5));
    const fromB = await b.link(m1!.id, m2!.id, 'lives_in', { weight: 0.9, metadata: { since: 2020 } });
    expect(fromA.id).not.toBe(fromB.id);
    // Which device's weight wins is decided by the stamps (the devices' clocks follow the edge's, each
    // with its own error): read them as each device wrote them.
    const [stampA] = (await a.store.getLinks('n', [fromA.id])).map((r) => r.clocks.weight!);
    const [stampB] = (await b.store.getLinks('n', [fromB.id])).map((r) => r.clocks.weight!);
    const later =
      stampB! > stampA! ? { weight: 0.9, metadata: { since: 2020 } } : { weight: 0.3, metadata: {} };
    await a.sync();
    await b.sync();
    await a.sync();
    const onA = await a.links(m1!.id);
    const onB = await b.links(m1!.id);
    const onServer = await server.linksOf('n', [m1!.id], { direction: 'out' });
    expect(onA).toHaveLength(1);
    expect(onB).toEqual(onA);
    expect(onServer.map((r) => r.link)).toEqual(onA);
    // The link the edge held first stays; the later stamps' fields won.
    expect(onA[0]).toMatchObject({ id: fromA.id, ...later });
    expect((await server.getTombstones('n', [fromB.id])).map((t) => t.id)).toEqual([fromB.id]);
    // Linking the pair again on either device updates the one link.
    const again = await b.link(m1!.id, m2!.id, 'lives_in', { weight: 0.5 });
    expect(again.id).toBe(fromA.id);
    await b.sync();
    await a.sync();
    expect(await a.links(m1!.id)).toMatchObject([{ id: fromA.id, weight: 0.5 }]);
  });

  it('links of other types, or the other way round, are not twins', async () => {
    const { replica } = await setup();
    const a = await replica();
    const b = await replica();
    const [m1, m2] = await a.addMany([{ content: 'Maya' }, { content: 'Lisbon' }]);
    await a.sync();
    await b.sync();
    await a.link(m1!.id, m2!.id, 'lives_in');
    await b.link(m1!.id, m2!.id, 'visited');
    await b.link(m2!.id, m1!.id, 'lives_in');
    await a.sync();
    await b.sync();
    await a.sync();
    const types = (links: { from: string; type: string }[]) =>
      links.map((l) => `${l.from === m1!.id ? 'm1' : 'm2'}:${l.type}`).sort();
    expect(types(await a.links(m1!.id, { direction: 'both' }))).toEqual([
      'm1:lives_in',
      'm1:visited',
      'm2:lives_in',
    ]);
    expect(types(await b.links(m1!.id, { direction: 'both' }))).toEqual([
      'm1:lives_in',
      'm1:visited',
      'm2:lives_in',
    ]);
  });
});
