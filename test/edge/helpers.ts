import { createEdgeApp, type EdgeAppOptions, mintToken } from '../../src/edge/index.js';
import { InMemoryStore, type MemoryStore } from '../../src/index.js';

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
