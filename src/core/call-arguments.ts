import { validationError } from './errors.js';

// Checks of what Engram's methods are called with, beyond their schemas.

/**
 * A call given an argument it does not take (`supersede(id, input, { dedupe: true })`) is refused: run
 * without it, the caller would believe it applied.
 */
export function noOptions(rest: readonly unknown[], field: string, expected: string): void {
  if (rest.some((arg) => arg !== undefined)) throw validationError(field, expected);
}

/** A plain object without its undefined-valued keys; anything else as it is (the schema says what is wrong). */
export function withoutUndefined(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
