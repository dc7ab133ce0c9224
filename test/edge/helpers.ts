import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { PostgresStore, pglite, postgresJs } from '../../src/backends/postgres/index.js';
import { createEdgeApp, type EdgeAppOptions, mintToken } from '../../src/edge/index.js';
import { createMemory, InMemoryStore, type MemoryStore } from '../../src/index.js';

/**
 * A store class with a private (#) field that getMeta counts in: a wrapper that runs its methods on
 * anything but the store itself makes `this.#reads` throw a TypeError.
 */
export class PrivateFieldStore extends InMemoryStore {
  #reads = 0;
  override async getMeta(namespace: string, key: string) {
    this.#reads++;
    return super.getMeta(namespace, key);
  }
  get reads(): number {
    return this.#reads;
  }
}

export const SECRET = 'test-secret-0123456789abcdef0123456789';

/** An app over a fresh InMemoryStore, quiet, with a token for `ns` and a request helper. */
export async function testApp(
  options: Partial<Omit<EdgeAppOptions, 'store'>> & { store?: MemoryStore; ns?: string[] } = {},
) {
  const { ns = ['demo'], ...rest } = options;
  const store = rest.store ?? new InMemoryStore();
  const app = createEdgeApp({ secret: SECRET, logger: false, ...rest, store });
  const token = await mintToken({ secret: SECRET, ns });
  const call = async (method: string, path: string, body?: unknown, auth: string | null = token) => {
    const headers: Record<string, string> = {};
    if (auth !== null) headers.authorization = `Bearer ${auth}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await app.request(path, {
      method,
      headers,
      body: typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : undefined };
  };
  return { app, store, token, call };
}

/**
 * `sync` options for replicas of `namespace` (or a RemoteStore's `url`, `token` and `fetch`) on a fresh
 * in-process edge (testApp, given `options`): rounds only when asked.
 */
export async function inProcessSync(
  namespace: string,
  options: Partial<Omit<EdgeAppOptions, 'store'>> & { store?: MemoryStore } = {},
) {
  const { app, token } = await testApp({ ...options, ns: [namespace] });
  const fetch = ((input: RequestInfo | URL, init?: RequestInit) =>
    Promise.resolve(app.request(String(input), init))) as typeof globalThis.fetch;
  return { url: 'http://edge.test', token, fetch, intervalMs: 0 };
}

/** A replica of `namespace` (in memory unless `store` is given), syncing through `fetch` (an in-process edge) only when asked. */
export function replicaThrough(
  token: string,
  fetch: typeof globalThis.fetch,
  namespace = 'demo',
  store: MemoryStore = new InMemoryStore(),
) {
  return createMemory({
    store,
    namespace,
    sync: { url: 'http://edge.test', token, intervalMs: 0, debounceMs: 3_600_000, live: false, fetch },
  });
}

/**
 * Stores an edge runs on, for `describe.each`: in memory, PGlite (one instance, shared), and real
 * Postgres in a schema of its own where the machine has one (DATABASE_URL; see
 * test/setup/real-postgres.ts). `close` ends every store made and drops the schema.
 */
export async function edgeStores(
  schemaPrefix: string,
): Promise<{ stores: Array<[string, () => MemoryStore]>; close: () => Promise<void> }> {
  const pg = await PGlite.create();
  const url = process.env.DATABASE_URL;
  const schema = `${schemaPrefix}_${process.pid}_${Date.now()}`;
  const admin = url ? postgres(url, { max: 1, onnotice: () => {} }) : null;
  if (admin) await admin.unsafe(`CREATE SCHEMA ${schema}`);
  const made: MemoryStore[] = [];
  const stores: Array<[string, () => MemoryStore]> = [
    ['InMemoryStore', () => new InMemoryStore()],
    ['PGlite', () => new PostgresStore(pglite(pg))],
  ];
  if (url) {
    stores.push([
      'Postgres',
      () => {
        const store = new PostgresStore(postgresJs(url, { max: 2, connection: { search_path: schema } }));
        made.push(store);
        return store;
      },
    ]);
  }
  const close = async () => {
    for (const store of made) await store.close().catch(() => {});
    await pg.close();
    if (admin) {
      await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  };
  return { stores, close };
}
