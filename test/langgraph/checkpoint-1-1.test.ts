import * as v11 from 'langgraph-checkpoint-1-1';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundledAgainst } from '../setup/bundled-against.js';
import { assertSameAsInMemoryStore } from './differential.js';

// engram/langgraph with @langchain/langgraph-checkpoint 1.1.x as the app's copy: our entry is bundled
// with the peer left external and resolved to 1.1.6 (installed under an npm alias), as an app on 1.1
// would load it. Its BaseStore and InvalidNamespaceError must then be 1.1's classes.
let EngramStore11: typeof import('../../src/langgraph/index.js').EngramStore;

beforeAll(async () => {
  ({ EngramStore: EngramStore11 } = await bundledAgainst<typeof import('../../src/langgraph/index.js')>(
    'src/langgraph/index.ts',
    '@langchain/langgraph-checkpoint',
    'langgraph-checkpoint-1-1',
  ));
});

describe('EngramStore on @langchain/langgraph-checkpoint 1.1.x', () => {
  it('extends the caller’s BaseStore and throws the caller’s InvalidNamespaceError', async () => {
    const store = new EngramStore11();
    expect(store).toBeInstanceOf(v11.BaseStore);
    await expect(store.put(['a.b'], 'k', {})).rejects.toBeInstanceOf(v11.InvalidNamespaceError);
    // 1.1's validateNamespace allows colons; the store still refuses them, as 1.1's InMemoryStore does.
    await expect(store.batch([{ namespace: ['a:b'], key: 'k', value: {} }])).rejects.toBeInstanceOf(
      v11.InvalidNamespaceError,
    );
    // 1.1's validateNamespace allows NUL too; the store refuses it, as 1.2's does.
    await expect(store.put(['a\u0000b'], 'k', {})).rejects.toBeInstanceOf(v11.InvalidNamespaceError);
    await store.stop();
  });

  for (const indexed of [false, true]) {
    it(`matches 1.1's InMemoryStore on generated operations (${indexed ? 'with' : 'without'} an index)`, async () => {
      await assertSameAsInMemoryStore(EngramStore11, v11.InMemoryStore, indexed, 30);
    }, 120_000);
  }
});
