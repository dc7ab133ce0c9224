// A third party's view: the conformance suite and a store taken from the built package (dist), the way
// `import { testStore } from 'engram/testing'` runs in someone else's vitest. npm test builds dist first;
// the paths are variables so that typechecking a fresh clone does not need dist.
const root = '../../dist/index.js';
const testing = '../../dist/testing/index.js';
const { InMemoryStore } = (await import(root)) as typeof import('../../src/index.js');
const { testStore } = (await import(testing)) as typeof import('../conformance/index.js');

testStore({ name: 'InMemoryStore through the published engram/testing', create: () => new InMemoryStore() });

export {};
