import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Core is isomorphic. Biome's noRestrictedImports (biome.json, overrides for src/core) flags static imports
 * in the editor and in `npm run lint`; it does not see `import()`, so this test reads every specifier.
 */
const CORE = resolve(import.meta.dirname, '../../src/core');
const FORBIDDEN = [/^node:/, /^hono(\/|$)/, /(^|\/)backends(\/|$)/, /(^|\/)edge(\/|$)/, /(^|\/)cli(\/|$)/];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? files(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)) {
    found.push(match[1]!);
  }
  return found;
}

describe('the core fence', () => {
  it('finds imports, static and dynamic', () => {
    expect(
      specifiers("import a from 'node:fs';\nconst b = await import('../backends/x.js');\nimport './y.js';"),
    ).toEqual(['node:fs', '../backends/x.js', './y.js']);
  });

  it('core imports nothing from Node, a backend, the edge, the CLI or Hono', () => {
    const offending = files(CORE).flatMap((file) =>
      specifiers(readFileSync(file, 'utf8'))
        .filter((spec) => FORBIDDEN.some((rule) => rule.test(spec)))
        .map((spec) => `${relative(CORE, file)}: ${spec}`),
    );
    expect(offending).toEqual([]);
  });
});
