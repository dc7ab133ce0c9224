import { EngramError } from './errors.js';

/**
 * Imports an engine the user chooses (sql.js, PGlite, postgres, @hono/node-server): these are optional peer
 * dependencies, so a browser app never downloads the server's databases. When the package is not
 * installed the failure names it and says how to install it, instead of a bundler's or Node's resolver
 * message about a file nobody asked for.
 *
 * @param name the npm package, as the user would install it
 * @param load `() => import('<name>')`, written at the call site so bundlers see a literal specifier
 * @param needed what needs it, for the message (e.g. `SqlJsStore`)
 */
export async function importPeer<T>(name: string, load: () => Promise<T>, needed: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isMissing(error, name)) throw error;
    throw new EngramError(
      'STORAGE',
      `${needed} needs the package "${name}", which is not installed: run \`npm install ${name}\``,
      { cause: error },
    );
  }
}

/** Like {@link importPeer} for a package that only adds something: `undefined` when it is not installed. */
export async function importOptional<T>(name: string, load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (error) {
    if (isMissing(error, name)) return undefined;
    throw error;
  }
}

/** Node says ERR_MODULE_NOT_FOUND; bundlers and browsers word it their own way, always naming the specifier. */
function isMissing(error: unknown, name: string): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
    return error.message.includes(`'${name}'`);
  return (
    /cannot find|failed to resolve|could not resolve/i.test(error.message) && error.message.includes(name)
  );
}
