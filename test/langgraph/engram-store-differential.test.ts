import { InMemoryStore } from '@langchain/langgraph-checkpoint';
import { describe, it } from 'vitest';
import { EngramStore } from '../../src/langgraph/index.js';
import { assertSameAsInMemoryStore } from './differential.js';

describe('EngramStore against LangGraph InMemoryStore (@langchain/langgraph-checkpoint 1.2)', () => {
  for (const indexed of [false, true]) {
    it(`gives equal results on generated operations (${indexed ? 'with' : 'without'} an index)`, async () => {
      await assertSameAsInMemoryStore(EngramStore, InMemoryStore, indexed);
    }, 120_000);
  }
});
