import { describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { PostgresStore, pglite, postgresJs } from '../../src/backends/postgres/index.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { openAIEmbedder } from '../../src/embedders/index.js';
import { InMemoryStore } from '../../src/index.js';

const refused = (make: () => unknown, field: string) =>
  expect(make).toThrow(expect.objectContaining({ code: 'VALIDATION', field }));

describe('store constructors check their options at once', () => {
  it('a misspelt option is refused, not ignored (a store that would keep nothing)', () => {
    refused(() => new SqlJsStore({ persits: './memory.db' } as never), 'SqlJsStore.persits');
    refused(() => new IndexedDBStore({ name: 'x', persits: true } as never), 'IndexedDBStore.persits');
    refused(() => new InMemoryStore({ vector: { index: 'hnsw' } } as never), 'InMemoryStore.vector');
    refused(
      () => new PostgresStore(pglite('memory://'), { vector: { index: 'hnsw' } } as never),
      'PostgresStore.vector',
    );
    refused(() => new SqlJsStore(null as never), 'SqlJsStore');
  });

  it('values of the wrong kind are refused, naming the option', () => {
    refused(() => new SqlJsStore({ persist: 5 } as never), 'SqlJsStore.persist');
    refused(() => new SqlJsStore({ persist: '' }), 'SqlJsStore.persist');
    refused(() => new SqlJsStore({ persist: { load: async () => null } } as never), 'SqlJsStore.persist');
    refused(() => new SqlJsStore({ saveDelayMs: -1 }), 'SqlJsStore.saveDelayMs');
    refused(() => new SqlJsStore({ saveMaxDelayMs: Number.NaN }), 'SqlJsStore.saveMaxDelayMs');
    refused(() => new SqlJsStore({ onSaveError: 'log' } as never), 'SqlJsStore.onSaveError');
    refused(
      () => new IndexedDBStore({ name: 'x', durability: 'fast' } as never),
      'IndexedDBStore.durability',
    );
    refused(() => new IndexedDBStore({ name: 'x', persist: 'yes' } as never), 'IndexedDBStore.persist');
    refused(() => new IndexedDBStore({ name: 'x', blockedTimeoutMs: -5 }), 'IndexedDBStore.blockedTimeoutMs');
    refused(() => new IndexedDBStore({ name: '' }), 'name');
    refused(() => new IndexedDBStore({ name: 'x', textGroupSize: 0 }), 'textGroupSize');
    refused(() => new IndexedDBStore({ name: 'x', textGroupSize: 65_537 }), 'textGroupSize');
    refused(() => new IndexedDBStore({ name: 'x', textGroupSize: 1.5 }), 'textGroupSize');
    refused(() => new SqlJsStore({ saveDelayMs: 2 ** 31 }), 'SqlJsStore.saveDelayMs');
    // A URL where the driver goes: the store would fail at its first query with a TypeError.
    refused(() => new PostgresStore('postgres://localhost/db' as never), 'PostgresStore.db');
    refused(() => new PostgresStore({} as never), 'PostgresStore.db');
    // The drivers too: a host:port or a number would fail only at the first query.
    refused(() => postgresJs('localhost:5432/engram'), 'postgresJs.url');
    refused(() => postgresJs(5 as never), 'postgresJs.url');
    refused(() => pglite(5 as never), 'pglite.dir');
    refused(() => pglite({} as never), 'pglite.dir');
    expect(() => postgresJs('postgresql://u:p@127.0.0.1:9/db')).not.toThrow();
    expect(() => pglite('memory://')).not.toThrow();
    const message = (() => {
      try {
        postgresJs('mysql://admin:hunter2@db.example/x');
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).not.toContain('hunter2');
  });

  it('a refusal says what was expected and what was got', () => {
    expect(() => new IndexedDBStore({ name: 'x', textGroupSize: 0 })).toThrow(
      'textGroupSize: expected an integer from 1 to 65536, got 0',
    );
    expect(() => new IndexedDBStore({ name: 'x', durability: 'fast' } as never)).toThrow(
      `IndexedDBStore.durability: expected 'default', 'strict' or 'relaxed', got "fast"`,
    );
  });

  it('well-formed options still make a store', () => {
    expect(
      new SqlJsStore({ persist: { load: async () => null, save: async () => {} }, saveDelayMs: 0 }),
    ).toBeInstanceOf(SqlJsStore);
    expect(new SqlJsStore()).toBeInstanceOf(SqlJsStore);
    expect(new IndexedDBStore({ name: 'x', durability: 'relaxed', persist: false })).toBeInstanceOf(
      IndexedDBStore,
    );
    // Text groups from one slot up to the most a posting's 16 bits can number.
    for (const textGroupSize of [1, 65_536]) {
      expect(new IndexedDBStore({ name: 'x', textGroupSize })).toBeInstanceOf(IndexedDBStore);
    }
    expect(new InMemoryStore({ vectors: { index: 'exact' } })).toBeInstanceOf(InMemoryStore);
  });
});

describe('openAIEmbedder checks its options when made', () => {
  it('refuses a URL that is not http(s), a misspelt option and no options at all', () => {
    refused(() => openAIEmbedder({ model: 'm', dims: 3, url: 'localhost:11434/v1' }), 'openAIEmbedder.url');
    refused(() => openAIEmbedder({ model: 'm', dims: 3, url: 'ftp://host/v1' }), 'openAIEmbedder.url');
    refused(() => openAIEmbedder({ model: 'm', dims: 3, apikey: 'k' } as never), 'openAIEmbedder.apikey');
    refused(() => openAIEmbedder({ model: 'm', dims: 3, fetch: 'x' } as never), 'openAIEmbedder.fetch');
    refused(() => openAIEmbedder({ model: 'm', dims: 3, signal: {} } as never), 'openAIEmbedder.signal');
    refused(() => openAIEmbedder(null as never), 'openAIEmbedder');
    // A timeout past what a timer can wait (2^31 - 1 ms) would fire at once: every request would time out.
    refused(() => openAIEmbedder({ model: 'm', dims: 3, timeoutMs: 2 ** 31 }), 'openAIEmbedder.timeoutMs');
    expect(openAIEmbedder({ model: 'm', dims: 3, timeoutMs: 2 ** 31 - 1 }).dims).toBe(3);
    expect(openAIEmbedder({ model: 'm', dims: 3, url: 'http://localhost:11434/v1' }).dims).toBe(3);
  });
});
