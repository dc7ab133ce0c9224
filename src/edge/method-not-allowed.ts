import type { Context } from 'hono';
import { TrieRouter } from 'hono/router/trie-router';
import { validationError } from '../core/errors.js';
import type { ErrorBody } from './errors.js';

/** In the order an `Allow` header lists them. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

interface RoutedApp {
  readonly routes: ReadonlyArray<{ method: string; path: string }>;
}

/**
 * The methods an app serves on a path, from its own routes (middleware, registered for every method,
 * aside): what a 405's `Allow` lists, and none for a path no route has. HEAD comes with GET (Hono answers
 * it with the GET route), OPTIONS with CORS (its middleware answers preflights on every path). The table
 * is made on first use: Hono takes no route once it has served a request, so it then holds them all,
 * those a caller added to the app after `createEdgeApp` included.
 */
export function servedMethods(app: RoutedApp, options: { preflight: boolean }): (path: string) => string[] {
  let router: TrieRouter<string> | undefined;
  return (path) => {
    if (!router) {
      router = new TrieRouter<string>();
      for (const route of app.routes)
        if (route.method !== 'ALL') router.add(route.method, route.path, route.method);
    }
    const served = new Set<string>();
    for (const method of METHODS) {
      if (router.match(method, path)[0].length > 0) served.add(method);
    }
    if (served.size === 0) return [];
    if (served.has('GET')) served.add('HEAD');
    if (options.preflight) served.add('OPTIONS');
    return METHODS.filter((method) => served.has(method));
  };
}

/** 405 for a method the path's routes do not serve: the usual JSON error (field `method`) and `Allow`. */
export function methodNotAllowed(c: Context, allowed: readonly string[]): Response {
  const error = validationError('method', `one of ${allowed.join(', ')} for ${c.req.path}`, c.req.method);
  const body: ErrorBody = { error: error.toJSON() };
  const response = c.json(body, 405);
  response.headers.set('Allow', allowed.join(', '));
  return response;
}
