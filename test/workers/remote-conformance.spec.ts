import { env, exports } from 'cloudflare:workers';
import { RemoteStore } from '../../src/backends/remote/index.js';
import { mintToken } from '../../src/edge/token.js';
import { testStore } from '../conformance/index.js';

// The one conformance suite, through RemoteStore, against the Worker in workerd and Postgres behind it.
const tokens = new Map<string, Promise<string>>();
const tokenFor = (ns: string) => {
  if (!tokens.has(ns)) tokens.set(ns, mintToken({ secret: env.ENGRAM_SECRET, ns: [ns] }));
  return tokens.get(ns)!;
};
const remote = () =>
  new RemoteStore({
    url: 'https://engram.test',
    token: tokenFor,
    fetch: (input, init) => exports.default.fetch(input, init),
  });

testStore({
  name: 'RemoteStore -> Worker (workerd) -> Postgres',
  create: remote,
  reopen: async (store) => {
    await store.close();
    return remote();
  },
  capabilities: { persistent: true },
});
