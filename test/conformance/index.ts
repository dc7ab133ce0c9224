import { describe } from 'vitest';
import { changeFeedCases, eventCases } from './changes.case.js';
import { crudCases } from './crud.case.js';
import { embeddingCases } from './embedding.case.js';
import { graphCases } from './graph.case.js';
import { createContext, type TestStoreOptions } from './harness.js';
import { languageCases } from './language.case.js';
import { lifecycleCases, validityCases } from './lifecycle.case.js';
import { listCases } from './list.case.js';
import { maintenanceCases } from './maintenance.case.js';
import { persistenceCases } from './persistence.case.js';
import { retrievalCases } from './retrieval.case.js';
import { namespaceCases, ttlCases } from './scope.case.js';
import { searchCases } from './search.case.js';
import { searchMeaningCases } from './search-meaning.case.js';
import { validationCases } from './validation.case.js';
import { watchCases } from './watch.case.js';

export type { TestStoreOptions } from './harness.js';

/**
 * The one conformance suite: every store runs exactly these cases with the same expected results.
 * A backend's test file calls it with a factory; capabilities only add cases (persistence), never skip.
 */
export function testStore(options: TestStoreOptions): void {
  describe(`conformance: ${options.name}`, () => {
    const ctx = createContext(options);
    crudCases(ctx);
    validationCases(ctx);
    listCases(ctx);
    searchCases(ctx);
    searchMeaningCases(ctx);
    retrievalCases(ctx);
    languageCases(ctx);
    graphCases(ctx);
    namespaceCases(ctx);
    ttlCases(ctx);
    changeFeedCases(ctx);
    eventCases(ctx);
    persistenceCases(ctx);
    embeddingCases(ctx);
    validityCases(ctx);
    lifecycleCases(ctx);
    watchCases(ctx);
    maintenanceCases(ctx);
  });
}
