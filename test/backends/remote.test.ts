import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteStore } from '../../src/backends/remote/index.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, EngramError, InMemoryStore } from '../../src/index.js';
import { testStore } from '../conformance/index.js';

const SECRET = 'remote-test-secret-0123456789abcdef';

/** Conformance namespaces are fresh per case, so the client mints a token per namespace, as a multi-tenant app would. */
const tokens = new Map<string, Promise<string>>();
const tokenFor = (ns: string) => {
  if (!tokens.has(ns)) tokens.set(ns, mintToken({ secret: SECRET, ns: [ns] }));
  return tokens.get(ns)!;
};

const server = new InMemoryStore();
const app = createEdgeApp({ store: server, secret: SECRET, logger: false });
const inProcess = (input: RequestInfo | URL, init?: RequestInit) => app.request(input, init);
const url = 'http://edge.test';

testStore({
  name: 'RemoteStore (in-process app)',
  create: () => new RemoteStore({ url, token: tokenFor, fetch: inProcess }),
  reopen: async (store) => {
    await store.close();
    return new RemoteStore({ url, token: tokenFor, fetch: inProcess });
  },
  capabilities: { persistent: true },
});

describe('over a real port', () => {
  let port = 0;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const store = new InMemoryStore();
    const real = createEdgeApp({ store, secret: SECRET, logger: false });
    const listening = serve({ fetch: real.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((resolve) => listening.once('listening', resolve));
    port = (listening.address() as AddressInfo).port;
    close = () => new Promise((resolve) => listening.close(() => resolve()));
  });
  afterAll(() => close());

  testStore({
    name: 'RemoteStore (node-server on 127.0.0.1)',
    create: () => new RemoteStore({ url: `http://127.0.0.1:${port}`, token: tokenFor }),
    reopen: async (store) => {
      await store.close();
      return new RemoteStore({ url: `http://127.0.0.1:${port}`, token: tokenFor });
    },
    capabilities: { persistent: true },
  });
});
