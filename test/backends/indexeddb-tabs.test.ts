import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { ChangeChannel } from '../../src/backends/indexeddb/change-channel.js';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { type ChangeEvent, createMemory } from '../../src/index.js';

let databases = 0;
const freshName = () => `engram-tabs-${process.pid}-${Date.now()}-${++databases}`;
/** Room for a message that should not come (a loaded machine only makes these checks easier to pass). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
/** Waits for a message that should come: a timer alone may fire before it on a loaded machine. */
const heard = (check: () => void) => vi.waitFor(check, { timeout: 5000, interval: 5 });

/** Resolves with the next message a store hears of another's write. */
function nextChange(store: IndexedDBStore): Promise<{ namespace: string; ids: string[] }> {
  return new Promise((resolve) => {
    const off = store.subscribe((namespace, ids) => {
      off();
      resolve({ namespace, ids });
    });
  });
}

describe('IndexedDBStore across tabs (two stores on one database)', () => {
  it('declares itself shared', () => {
    expect(new IndexedDBStore({ name: freshName() }).capabilities.shared).toBe(true);
  });

  it('tells the other store which ids a committed write touched, and not the writer itself', async () => {
    const name = freshName();
    const tabA = new IndexedDBStore({ name });
    const tabB = new IndexedDBStore({ name });
    const heardByWriter: string[][] = [];
    tabA.subscribe((_, ids) => heardByWriter.push(ids));
    const mem = await createMemory({ store: tabA, namespace: 'ns' });

    const added = nextChange(tabB);
    const [x, y] = await mem.addMany([{ content: 'from tab a' }, { content: 'another' }]);
    expect(await added).toEqual({ namespace: 'ns', ids: [x!.id, y!.id] });
    expect((await tabB.getMemories('ns', [x!.id]))[0]?.memory.content).toBe('from tab a');

    const linked = nextChange(tabB);
    const link = await mem.link(x!.id, y!.id, 'rel');
    expect((await linked).ids).toEqual([link.id]);
    const removed = nextChange(tabB);
    await mem.remove(x!.id);
    expect((await removed).ids.sort()).toEqual([x!.id, link.id].sort());
    await settle();
    expect(heardByWriter).toEqual([]);
    await mem.close();
    await tabB.close();
  });

  it("reaches the other tab's façade as an 'external' change event, until closed", async () => {
    const name = freshName();
    const writer = await createMemory({ store: new IndexedDBStore({ name }), namespace: 'ns' });
    const reader = await createMemory({ store: new IndexedDBStore({ name }), namespace: 'ns' });
    const other = await createMemory({ store: new IndexedDBStore({ name }), namespace: 'elsewhere' });
    const events: ChangeEvent[] = [];
    const elsewhere: ChangeEvent[] = [];
    reader.on('change', (e) => events.push(e));
    other.on('change', (e) => elsewhere.push(e));

    const m = await writer.add({ content: 'hello from the writer' });
    await heard(() => expect(events).toHaveLength(1));
    await settle();
    expect(events).toEqual([{ type: 'external', namespace: 'ns', ids: [m.id] }]);
    expect(elsewhere).toEqual([]);
    expect((await reader.get(m.id))?.content).toBe('hello from the writer');

    await reader.close();
    await writer.add({ content: 'unheard' });
    await settle();
    expect(events).toHaveLength(1);
    await writer.close();
    await other.close();
  });

  it('unsubscribe stops delivery and a throwing listener does not silence the others', async () => {
    const name = freshName();
    const writer = new IndexedDBStore({ name });
    const listener = new IndexedDBStore({ name });
    const seen: string[] = [];
    const off = listener.subscribe(() => seen.push('first'));
    listener.subscribe(() => {
      throw new Error('listener bug');
    });
    listener.subscribe(() => seen.push('third'));
    const mem = await createMemory({ store: writer, namespace: 'ns' });
    await mem.add({ content: 'one' });
    await heard(() => expect(seen).toEqual(['first', 'third']));
    off();
    await mem.add({ content: 'two' });
    await heard(() => expect(seen).toHaveLength(3));
    await settle();
    expect(seen).toEqual(['first', 'third', 'third']);
    await mem.close();
    await listener.close();
  });

  it('a closed change channel forgets its listeners: one opened again tells only those subscribed since', async () => {
    const name = freshName();
    const writer = new ChangeChannel(name);
    const reader = new ChangeChannel(name);
    const seen: string[] = [];
    reader.subscribe(() => seen.push('before close'));
    reader.close();
    reader.subscribe((_, ids) => seen.push(`after close: ${ids.join()}`));
    writer.post('ns', ['x']);
    await heard(() => expect(seen).toContain('after close: x'));
    await settle();
    expect(seen).toEqual(['after close: x']);
    writer.close();
    reader.close();
  });

  it('ignores what others post on its channel that is not a list of changed ids', async () => {
    const name = freshName();
    const reader = new ChangeChannel(name);
    const seen: Array<[string, string[]]> = [];
    reader.subscribe((namespace, ids) => seen.push([namespace, ids]));
    const other = new BroadcastChannel(name);
    for (const data of [
      null,
      'ns',
      { ids: ['x'] },
      { namespace: 'ns', ids: 'x' },
      { namespace: 'ns', ids: ['x', 5] },
    ]) {
      other.postMessage(data);
    }
    other.postMessage({ namespace: 'ns', ids: ['y'] });
    // One sender's messages arrive in order: once the last is heard, every earlier one was delivered.
    await heard(() => expect(seen).toHaveLength(1));
    expect(seen).toEqual([['ns', ['y']]]);
    other.close();
    reader.close();
  });
});
