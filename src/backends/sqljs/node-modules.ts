/**
 * Node built-ins for the file persistence, imported at run time through a specifier that bundlers do not
 * follow: a browser build of `engram/sqljs` neither includes nor tries to resolve them.
 */
export function nodeFs(): Promise<typeof import('node:fs/promises')> {
  return importAtRunTime('node:fs/promises');
}

export function nodePath(): Promise<typeof import('node:path')> {
  return importAtRunTime('node:path');
}

function importAtRunTime<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier);
}
