import { describe, expect, it } from 'vitest';
import { formatHlc } from '../../src/core/hlc.js';
import { serveSync } from '../../src/core/sync/server.js';
import { exportJsonl, InMemoryStore, importJsonl } from '../../src/index.js';

const NOW = Date.parse('2026-06-01T12:00:00.000Z');
const stamp = formatHlc({ wallMs: NOW - 1000, counter: 0, node: 'zoned' });

/** A memory write as a client in another zone could send it: every instant with its offset. */
function zonedWrite(id: string, createdAt: string, at = stamp) {
  return {
    id,
    create: { namespace: 'ns', createdAt },
    values: {
      content: 'written in Berlin',
      kind: 'note',
      tags: [],
      metadata: {},
      expiresAt: '2030-01-01T00:30:00+02:00',
      validFrom: '2026-05-31',
      validTo: '2029-12-31T20:00:00-0500',
    },
    clocks: Object.fromEntries(
      ['content', 'kind', 'tags', 'metadata', 'expiresAt', 'validFrom', 'validTo'].map((f) => [f, at]),
    ),
  };
}

/** Pushes memory writes to `store` as the edge does, at NOW. */
const push = (store: InMemoryStore, memories: ReturnType<typeof zonedWrite>[]) =>
  serveSync(store, 'ns', { push: { memories } }, { now: () => NOW });

describe('pushed instants are stored in UTC form', () => {
  it('a push with zone offsets stores the same instants as Z strings, so string comparisons hold', async () => {
    const store = new InMemoryStore();
    await store.open();
    await push(store, [zonedWrite('m1', '2026-06-01T13:59:59+02:00')]);
    const [held] = await store.getMemories('ns', ['m1']);
    expect(held?.memory).toMatchObject({
      createdAt: '2026-06-01T11:59:59.000Z',
      expiresAt: '2029-12-31T22:30:00.000Z',
      validFrom: '2026-05-31T00:00:00.000Z',
      validTo: '2030-01-01T01:00:00.000Z',
    });
    // A second create of the same id, earlier as an instant but later as a string ("+14:00"): merge keeps
    // the earlier instant, which only a common form lets it see.
    const later = formatHlc({ wallMs: NOW - 500, counter: 0, node: 'zoned' });
    const twin = zonedWrite('m1', '2026-06-01T23:00:00+14:00', later);
    await push(store, [twin]);
    const [after] = await store.getMemories('ns', ['m1']);
    expect(after?.memory.createdAt).toBe('2026-06-01T09:00:00.000Z');
  });

  it('an imported file with zone offsets is stored in UTC form', async () => {
    const source = new InMemoryStore();
    await source.open();
    await push(source, [zonedWrite('m2', '2026-06-01T11:00:00Z')]);
    const lines: string[] = [];
    for await (const line of exportJsonl(source)) lines.push(line);
    const zoned = lines.map((line) =>
      line.replace('"2029-12-31T22:30:00.000Z"', '"2030-01-01T00:30:00+02:00"'),
    );
    expect(zoned.join('\n')).toContain('+02:00');
    for (const mode of ['merge', 'restore'] as const) {
      const target = new InMemoryStore();
      await importJsonl(target, zoned, { mode });
      const [held] = await target.getMemories('ns', ['m2']);
      expect(held?.memory.expiresAt, mode).toBe('2029-12-31T22:30:00.000Z');
    }
  });
});
