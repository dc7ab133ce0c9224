/** The benchmark page (indexeddb-page.mjs and what it imports, dist included) as one browser ESM bundle. */
export function bundlePage(): Promise<string>;
