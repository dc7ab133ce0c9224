import { afterAll, beforeAll, expect } from 'vitest';
import {
  createMemory,
  type Engram,
  EngramError,
  type ErrorCode,
  type Language,
  type MemoryStore,
  NotFoundError,
} from '../../src/index.js';

export interface StoreCapabilityFlags {
  /** The store keeps data across close/reopen; `reopen` is then required. */
  persistent?: boolean;
}

export interface TestStoreOptions {
  name: string;
  /**
   * Returns a store over storage of its own. The first call's store is shared by most cases (namespaces
   * isolate them) and stays open; a case that closes and reopens a store calls it again meanwhile.
   */
  create: () => MemoryStore | Promise<MemoryStore>;
  /** Closes a persistent store and returns a new one over the same storage. */
  reopen?: (store: MemoryStore) => Promise<MemoryStore>;
  capabilities?: StoreCapabilityFlags;
}

export interface SuiteContext {
  options: TestStoreOptions;
  store(): MemoryStore;
  /** A façade over the shared store in a namespace of its own. */
  memory(opts?: { now?: () => number; namespace?: string; language?: Language }): Promise<Engram>;
}

let counter = 0;
export function freshNamespace(prefix = 'ns'): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export function createContext(options: TestStoreOptions): SuiteContext {
  let store: MemoryStore | undefined;
  beforeAll(async () => {
    store = await options.create();
    await store.open();
  });
  afterAll(async () => {
    await store?.close();
  });
  return {
    options,
    store: () => store!,
    memory: (opts = {}) =>
      createMemory({
        store: store!,
        namespace: opts.namespace ?? freshNamespace(),
        now: opts.now,
        language: opts.language,
      }),
  };
}

/** Asserts an EngramError with the code and, for VALIDATION, the field it names. */
export async function expectError(
  promise: Promise<unknown>,
  code: ErrorCode,
  field?: string,
): Promise<EngramError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected an EngramError ${code}`).toBeInstanceOf(EngramError);
  const error = caught as EngramError;
  expect(error.code).toBe(code);
  // The contract names it: `update` of a missing id throws a NotFoundError, whichever store answers.
  if (code === 'NOT_FOUND') expect(error).toBeInstanceOf(NotFoundError);
  if (field !== undefined) {
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
  }
  return error;
}

export function ids(items: Array<{ id: string } | { memory: { id: string } }>): string[] {
  return items.map((item) => ('memory' in item ? item.memory.id : item.id));
}

/** A clock tests can move. */
export function manualClock(start = Date.parse('2030-01-01T00:00:00.000Z')) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}
