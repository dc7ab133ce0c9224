import * as v from 'valibot';
import { delayMs, parse } from '../core/validate.js';

/**
 * Checks a store constructor's options as a whole (errors name the store: `SqlJsStore.persits`), so a
 * misspelt option fails at once instead of being ignored: `{ persits: './memory.db' }` would otherwise
 * give a store that keeps nothing. Each store lists its own keys; values are checked here or by the
 * store's own parsers (`vectors`).
 */
export function checkStoreOptions(options: unknown, entries: v.ObjectEntries, where: string): void {
  if (options === undefined) return;
  parse(
    v.strictObject(entries, `expected an options object with ${Object.keys(entries).join(', ')}`),
    options,
    where,
  );
}

export const optionalFunction = v.optional(v.function('expected a function'));

/** A delay in milliseconds: zero or more, finite. */
export const optionalDelay = v.optional(delayMs);

/** Anything; the store parses it itself with its own field names. */
export const parsedElsewhere = v.optional(v.unknown());
