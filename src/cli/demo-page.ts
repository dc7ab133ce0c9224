import { readFile } from 'node:fs/promises';
import type { DemoPage } from '../edge/demo.js';

/** What `scripts/build-demo.mjs` writes next to the page. */
const ASSETS = ['app.js', 'style.css', 'sw.js'] as const;

/**
 * Where the built page may be, relative to this code: next to the CLI in `dist/` once built, or in the
 * package's `dist/demo` when the CLI runs from its TypeScript sources (tests).
 */
const CANDIDATES = ['../demo/', '../../dist/demo/'];

/**
 * Node only: reads the demo notebook built by `scripts/build-demo.mjs` (part of `npm run build`).
 * Resolves `undefined` when it has not been built, so the server can say so instead of failing.
 */
export async function loadDemoPage(): Promise<DemoPage | undefined> {
  for (const candidate of CANDIDATES) {
    const dir = new URL(candidate, import.meta.url);
    try {
      const [html, ...files] = await Promise.all(
        ['index.html', ...ASSETS].map((name) => readFile(new URL(name, dir), 'utf8')),
      );
      const assets = Object.fromEntries(ASSETS.map((name, i) => [name, files[i]!]));
      return { html: html!, assets };
    } catch {
      // not built here: try the next place
    }
  }
  return undefined;
}
