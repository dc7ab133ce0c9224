import { describe, expect, it } from 'vitest';
import type { MemoryRecord } from '../../src/core/store-contract.js';
import type { PulledChange, SyncResponse } from '../../src/core/sync/protocol.js';
import {
  edgeForgot,
  nextWitness,
  readWitness,
  type Witness,
  witnessAfterPush,
} from '../../src/core/sync/witness.js';

const A = '000000000001-0000-nodeaaaaaaaaaaaaaaa';
const B = '000000000002-0000-nodeaaaaaaaaaaaaaaa';

const record = (id: string, clocks: Record<string, string>, expiresAt?: string): MemoryRecord => ({
  memory: {
    id,
    namespace: 'n',
    content: id,
    kind: 'fact',
    tags: [],
    metadata: {},
    createdAt: '2026-12-05T00:00:00.000Z',
    updatedAt: '2026-12-05T00:00:00.000Z',
    ...(expiresAt ? { expiresAt } : {}),
  } as MemoryRecord['memory'],
  clocks,
});

const pulled = (seq: number, r: MemoryRecord): PulledChange => ({
  seq,
  entity: 'memory',
  id: r.memory.id,
  origin: 'remote',
  memory: r,
});

const answer = (got: Partial<NonNullable<SyncResponse['get']>>, more: Partial<SyncResponse> = {}) =>
  ({ get: { memories: [], links: [], tombstones: [], ...got }, ...more }) as SyncResponse;

describe('the witness a pulled page leaves', () => {
  it('is the page’s last memory without an expiry, with its stamps', () => {
    const page = [pulled(1, record('m1', { content: A })), pulled(2, record('m2', { content: B, kind: A }))];
    expect(nextWitness(null, page)).toEqual({ id: 'm2', clocks: { content: B, kind: A } });
  });

  it('stays when the page holds only links, tombstones of others and expiring memories', () => {
    const current: Witness = { id: 'm1', clocks: { content: A } };
    const page: PulledChange[] = [
      { seq: 3, entity: 'link', id: 'l1', origin: 'remote' },
      {
        seq: 4,
        entity: 'memory',
        id: 'm9',
        origin: 'remote',
        tombstone: { entity: 'memory', id: 'm9', namespace: 'n', clock: B },
      },
      pulled(5, record('m8', { content: B }, '2030-01-01T00:00:00.000Z')),
    ];
    expect(nextWitness(current, page)).toBe(current);
  });

  it('goes when the page deletes the witness or gives it an expiry', () => {
    const current: Witness = { id: 'm1', clocks: { content: A } };
    const deleted: PulledChange = {
      seq: 6,
      entity: 'memory',
      id: 'm1',
      origin: 'remote',
      tombstone: { entity: 'memory', id: 'm1', namespace: 'n', clock: B },
    };
    expect(nextWitness(current, [deleted])).toBeNull();
    expect(
      nextWitness(current, [pulled(7, record('m1', { content: B }, '2030-01-01T00:00:00.000Z'))]),
    ).toBeNull();
  });
});

describe('the witness a push the edge took leaves', () => {
  const whole = (id: string, clocks: Record<string, string>, values: Record<string, unknown> = {}) =>
    ({ id, create: { namespace: 'n', createdAt: '2026-12-05T00:00:00.000Z' }, values, clocks }) as never;

  it('is the push’s last whole memory it did not refuse', () => {
    const writes = [whole('m1', { content: A }), whole('m2', { content: B }), whole('m3', { content: B })];
    expect(witnessAfterPush(null, writes, new Set(['m3']))).toEqual({ id: 'm2', clocks: { content: B } });
  });

  it('skips expiring memories and partial writes, and drops a witness they change', () => {
    const current: Witness = { id: 'm1', clocks: { content: A } };
    const expiring = whole('m2', { content: B }, { expiresAt: '2030-01-01T00:00:00.000Z' });
    expect(witnessAfterPush(current, [expiring], new Set())).toBe(current);
    const partial = { id: 'm1', values: { content: 'x' }, clocks: { content: B } } as never;
    expect(witnessAfterPush(current, [partial], new Set())).toBeNull();
    const given = whole('m1', { content: B }, { expiresAt: '2030-01-01T00:00:00.000Z' });
    expect(witnessAfterPush(current, [given], new Set())).toBeNull();
  });
});

describe('a stored witness', () => {
  it('is read back as written', () => {
    expect(readWitness({ id: 'm1', clocks: { content: A } })).toEqual({ id: 'm1', clocks: { content: A } });
  });

  it.each([
    ['nothing', undefined],
    ['null', null],
    ['a string', 'm1'],
    ['an array', [{ id: 'm1' }]],
    ['no id', { clocks: { content: A } }],
    ['clocks as a list', { id: 'm1', clocks: [A] }],
    ['no clocks', { id: 'm1', clocks: {} }],
    ['a stamp that is a number', { id: 'm1', clocks: { content: 1 } }],
  ])('is none when it is %s', (_, value) => {
    expect(readWitness(value)).toBeNull();
  });
});

describe('whether the edge forgot the witness', () => {
  const witness: Witness = { id: 'm1', clocks: { content: B, kind: A } };

  it('held at the same stamps or newer: no', () => {
    expect(edgeForgot(witness, answer({ memories: [record('m1', { content: B, kind: A })] }))).toBe(false);
    expect(edgeForgot(witness, answer({ memories: [record('m1', { content: B, kind: B })] }))).toBe(false);
  });

  it('missing, older in one field, or without that field’s stamp: yes', () => {
    expect(edgeForgot(witness, answer({}))).toBe(true);
    expect(edgeForgot(witness, answer({ memories: [record('m1', { content: A, kind: B })] }))).toBe(true);
    expect(edgeForgot(witness, answer({ memories: [record('m1', { content: B })] }))).toBe(true);
    expect(edgeForgot(witness, answer({ memories: [record('m2', { content: B, kind: A })] }))).toBe(true);
  });

  it('deleted there: no; a tombstone of a link of that id: yes', () => {
    const tombstone = { entity: 'memory' as const, id: 'm1', namespace: 'n', clock: B };
    expect(edgeForgot(witness, answer({ tombstones: [tombstone] }))).toBe(false);
    const link = { ...tombstone, entity: 'link' as const };
    expect(edgeForgot(witness, answer({ tombstones: [link] }))).toBe(true);
  });

  it('a field stamped past the edge’s bound proves nothing: any later write replaces it there', () => {
    const legacy: Witness = { id: 'm1', clocks: { content: 'ffffffffffff-ffff-zzz', kind: A } };
    const rewritten = answer(
      { memories: [record('m1', { content: B, kind: A })] },
      { serverTime: 5, maxClockSkewMs: 60_000 },
    );
    expect(edgeForgot(legacy, rewritten)).toBe(false);
    const olderKind = answer(
      { memories: [record('m1', { content: B })] },
      { serverTime: 5, maxClockSkewMs: 60_000 },
    );
    expect(edgeForgot(legacy, olderKind)).toBe(true);
    // Without the edge's time there is no bound: every field counts.
    expect(edgeForgot(legacy, answer({ memories: [record('m1', { content: B, kind: A })] }))).toBe(true);
  });

  it('a field stamped ahead of the edge’s time, up to its bound, still counts', () => {
    // The edge took it (a stamp is refused only past the bound), so holding it older there is forgetting it.
    for (const wallMs of [10_000, 60_005]) {
      const ahead = `${wallMs.toString(16).padStart(12, '0')}-0000-nodeaaaaaaaaaaaaaaa`;
      const pulledAhead: Witness = { id: 'm1', clocks: { content: ahead, kind: A } };
      const older = answer(
        { memories: [record('m1', { content: B, kind: A })] },
        { serverTime: 5, maxClockSkewMs: 60_000 },
      );
      expect(edgeForgot(pulledAhead, older), String(wallMs)).toBe(true);
    }
  });

  it('an answer without `get` (an edge that did not answer it) proves nothing', () => {
    expect(edgeForgot(witness, {} as SyncResponse)).toBe(false);
  });
});
