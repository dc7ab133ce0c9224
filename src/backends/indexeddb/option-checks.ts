import * as v from 'valibot';
import { validationError } from '../../core/errors.js';
import { checkStoreOptions, optionalDelay, optionalFunction, parsedElsewhere } from '../store-options.js';
import type { IndexedDBStoreOptions } from './options.js';
import { GROUP_SLOTS, MAX_GROUP_SLOTS } from './text-shards.js';

const INDEXEDDB_OPTIONS = {
  name: parsedElsewhere,
  textGroupSize: parsedElsewhere,
  vectors: parsedElsewhere,
  blockedTimeoutMs: optionalDelay,
  durability: v.optional(
    v.picklist(['default', 'strict', 'relaxed'], "expected 'default', 'strict' or 'relaxed'"),
  ),
  persist: v.optional(v.boolean('expected true or false')),
  onEvicted: optionalFunction,
};

/** The options an IndexedDBStore keeps, checked and with their defaults (`vectors` is parsed by the store). */
export interface CheckedOptions {
  name: string;
  blockedTimeoutMs: number;
  durability: IDBTransactionDurability;
  textGroupSize: number;
  persist: boolean;
  onEvicted: (() => void) | undefined;
}

export function checkOptions(options: IndexedDBStoreOptions): CheckedOptions {
  if (typeof options?.name !== 'string' || options.name.length === 0) {
    throw validationError('name', 'a non-empty database name');
  }
  checkStoreOptions(options, INDEXEDDB_OPTIONS, 'IndexedDBStore');
  const textGroupSize = options.textGroupSize ?? GROUP_SLOTS;
  if (!Number.isInteger(textGroupSize) || textGroupSize < 1 || textGroupSize > MAX_GROUP_SLOTS) {
    const got = JSON.stringify(options.textGroupSize);
    const expected = `an integer from 1 to ${MAX_GROUP_SLOTS}`;
    throw validationError('textGroupSize', expected, got);
  }
  return {
    name: options.name,
    blockedTimeoutMs: options.blockedTimeoutMs ?? 10_000,
    durability: options.durability ?? 'default',
    textGroupSize,
    persist: options.persist ?? false,
    onEvicted: options.onEvicted,
  };
}
