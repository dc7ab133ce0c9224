import { InMemoryStore, type Operation } from '@langchain/langgraph-checkpoint';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EngramStore } from '../../src/langgraph/index.js';
import { CountingEmbeddings } from './fake-embeddings.js';

// The same generated operations on EngramStore and on LangGraph's own InMemoryStore give equal
// results (timestamps aside: they are Dates on both, from different clocks).

const namespaces: string[][] = [['a'], ['a', 'b'], ['a', 'c'], ['b', 'x', 'a'], ['users', 'u1']];
const nsArb = fc.constantFrom(...namespaces);
const keyArb = fc.constantFrom('k1', 'k2', 'k3');
const valueArb = fc.record({
  n: fc.integer({ min: 0, max: 5 }),
  color: fc.constantFrom('red', 'blue', 'green'),
  text: fc.constantFrom('hello world', 'coffee in the morning', 'tea at night', 'hello coffee'),
  nested: fc.record({ note: fc.constantFrom('alpha', 'beta') }),
});
const filterArb = fc.oneof(
  fc.constant(undefined),
  fc.record({ color: fc.constantFrom('red', 'blue') }),
  fc.record({ n: fc.record({ $gt: fc.integer({ min: 0, max: 5 }) }) }),
  fc.record({ n: fc.record({ $gte: fc.integer({ min: 0, max: 5 }), $lt: fc.integer({ min: 0, max: 6 }) }) }),
  fc.record({ n: fc.record({ $lte: fc.integer({ min: 0, max: 5 }) }) }),
  fc.record({ color: fc.record({ $ne: fc.constantFrom('red', 'green') }) }),
  fc.record({ color: fc.record({ $eq: fc.constantFrom('red', 'green') }) }),
  fc.record({ color: fc.record({ $in: fc.subarray(['red', 'blue', 'green']) }) }),
  fc.record({ n: fc.record({ $nin: fc.subarray([0, 1, 2, 3]) }) }),
);
const pathArb = fc.constantFrom<(string | '*')[]>(
  ['a'],
  ['a', '*'],
  ['*', 'b'],
  ['a', 'b'],
  ['x', 'a'],
  ['*'],
  ['users'],
);

const opArb: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        namespace: nsArb,
        key: keyArb,
        value: valueArb,
        index: fc.constantFrom<false | string[] | undefined>(
          undefined,
          false,
          ['text'],
          ['nested.note', 'text'],
          ['$'],
        ),
      })
      .map(({ index, ...put }) => (index === undefined ? put : { ...put, index })),
  },
  { weight: 1, arbitrary: fc.record({ namespace: nsArb, key: keyArb, value: fc.constant(null) }) },
  { weight: 2, arbitrary: fc.record({ namespace: nsArb, key: keyArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      namespacePrefix: fc.constantFrom([], ['a'], ['a', 'b'], ['users'], ['b']),
      filter: filterArb,
      limit: fc.integer({ min: 1, max: 6 }),
      offset: fc.integer({ min: 0, max: 3 }),
      query: fc.constantFrom(undefined, '', 'coffee', 'hello', 'alpha night'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        matchConditions: fc.array(
          fc.record({ matchType: fc.constantFrom<'prefix' | 'suffix'>('prefix', 'suffix'), path: pathArb }),
          { maxLength: 2 },
        ),
        maxDepth: fc.constantFrom(undefined, 1, 2),
        limit: fc.integer({ min: 1, max: 10 }),
        offset: fc.integer({ min: 0, max: 3 }),
      },
      { requiredKeys: ['limit', 'offset', 'matchConditions'] },
    ),
  },
);

/** Results with the Dates checked and set aside; `undefined` properties dropped as JSON does. */
function comparable(result: unknown): unknown {
  return JSON.parse(
    JSON.stringify(result, (key, value) => {
      if ((key === 'createdAt' || key === 'updatedAt') && typeof value === 'string') return 'date';
      return value;
    }),
  );
}

async function runBoth(ops: Operation[][], indexed: boolean) {
  const theirs = new InMemoryStore(
    indexed ? { index: { dims: 4, embeddings: new CountingEmbeddings() } } : undefined,
  );
  const ours = new EngramStore(indexed ? { index: { dims: 4, embeddings: new CountingEmbeddings() } } : {});
  try {
    for (const batch of ops) {
      const [a, b] = await Promise.all([ours.batch(batch), theirs.batch(batch)]);
      expect(comparable(a), JSON.stringify(batch)).toEqual(comparable(b));
    }
    const everything = { matchConditions: [], limit: 100, offset: 0 };
    expect(await ours.batch([everything])).toEqual(await theirs.batch([everything]));
  } finally {
    await ours.close();
  }
}

describe('EngramStore against LangGraph InMemoryStore', () => {
  for (const indexed of [false, true]) {
    it(`gives equal results on generated operations (${indexed ? 'with' : 'without'} an index)`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(opArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 25 }),
          (ops) => runBoth(ops, indexed),
        ),
        { numRuns: 60 },
      );
    }, 120_000);
  }
});
