import { readFileSync } from 'node:fs';

/**
 * The package's version, from its package.json: two levels up from this module, in src/cli/ as in the
 * built dist/cli/main.js (the CLI's modules are bundled into that one file).
 */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
