import type {
  BaseStore,
  IndexConfig,
  Operation,
  OperationResults,
  SearchOperation,
} from '@langchain/langgraph-checkpoint';
import fc from 'fast-check';
import { expect } from 'vitest';
import { propertySeed } from '../setup/property-seed.js';
import { CountingEmbeddings } from './fake-embeddings.js';

// The same generated operations on EngramStore and on LangGraph's own InMemoryStore give equal
// results (timestamps aside: they are Dates on both, from different clocks).

const namespaces: string[][] = [['a'], ['a', 'b'], ['a', 'c'], ['b', 'x', 'a'], ['users', 'u1']];
const nsArb = fc.constantFrom(...namespaces);
const keyArb = fc.constantFrom('k0', 'k1', 'k2', 'k3');
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

const INDEX_OF_KEY: Record<string, { key?: string; index?: false | string[] }> = {
  k1: {},
  k2: { index: ['text'] },
  k3: { index: ['nested.note', 'text'] },
  k4: { key: 'k0', index: false },
};

const opArb: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        namespace: nsArb,
        key: fc.constantFrom('k1', 'k2', 'k3', 'k4'),
        value: valueArb,
      })
      // Each key is put with one index option throughout (k0 never indexed): a put replaces an item's
      // embeddings in EngramStore, while the released InMemoryStore keeps the vectors of fields the new
      // put does not embed, even of a deleted item (docs/agents.md). Re-puts that change the fields
      // embedded are covered in engram-store.test.ts.
      .map((put) => ({ ...put, ...INDEX_OF_KEY[put.key] })),
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

type StoreClass = new (options?: { index?: IndexConfig }) => BaseStore;

/**
 * The released InMemoryStore with its query searches paged as its main branch pages them, and EngramStore
 * does: one ranking, scored items best first and then the unscored, `offset` counting both (1.2.2 skips
 * `offset` scored items, then fills the page with unscored ones from the first). Asked for the first
 * offset + limit results, the released store gives the start of that ranking, which is cut here.
 */
function pagedAsMain(Theirs: StoreClass): StoreClass {
  const paged = (op: Operation): op is SearchOperation => 'namespacePrefix' in op && !!op.query;
  return class {
    private readonly inner: BaseStore;
    constructor(options?: { index?: IndexConfig }) {
      this.inner = new Theirs(options);
    }
    async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
      const asked = operations.map((op) =>
        paged(op) ? { ...op, offset: 0, limit: (op.offset ?? 0) + (op.limit ?? 10) } : op,
      );
      const results: unknown[] = await this.inner.batch(asked);
      return operations.map((op, i) =>
        paged(op) ? (results[i] as unknown[]).slice(op.offset ?? 0) : results[i],
      ) as OperationResults<Op>;
    }
    // runBoth asks the reference for batches only.
  } as unknown as StoreClass;
}

async function runBoth(Ours: StoreClass, Theirs: StoreClass, ops: Operation[][], indexed: boolean) {
  const index = () => (indexed ? { index: { dims: 4, embeddings: new CountingEmbeddings() } } : {});
  const theirs = new (pagedAsMain(Theirs))(index());
  const ours = new Ours(index());
  try {
    for (const batch of ops) {
      const [a, b] = await Promise.all([ours.batch(batch), theirs.batch(batch)]);
      expect(comparable(a), JSON.stringify(batch)).toEqual(comparable(b));
    }
    const everything = { matchConditions: [], limit: 100, offset: 0 };
    expect(await ours.batch([everything])).toEqual(await theirs.batch([everything]));
  } finally {
    await ours.stop();
  }
}

/** Generated batches of operations on both stores, with and without an index: equal results. */
export async function assertSameAsInMemoryStore(
  Ours: StoreClass,
  Theirs: StoreClass,
  indexed: boolean,
  numRuns = 60,
) {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(opArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 25 }),
      (ops) => runBoth(Ours, Theirs, ops, indexed),
    ),
    { numRuns, ...propertySeed('LANGGRAPH_DIFF_SEED', 20_261_206) },
  );
}
