import { describe, expect, it } from 'vitest';
import { bundlePage } from '../../bench/indexeddb-chromium.mjs';

// The IndexedDB suite of `npm run bench` runs this bundle in Chromium, where there is no `process`: a
// read of process.env in anything it imports (corpus.mjs's BENCH_WORDS did) threw before the page was
// ready, and the bench waited 300 s and stopped.
describe('the Chromium benchmark page', () => {
  it('bundles without a reference to Node’s process', async () => {
    const page = await bundlePage();
    expect(page).toContain('globalThis.bench');
    expect(page.match(/\bprocess\.\w+/g) ?? []).toEqual([]);
  }, 60_000);
});
