// End-to-end encryption's cost: sync push and pull of 10K memories through the Node edge on the real
// Postgres (DATABASE_URL), sealed with AES-GCM versus plain, the two run alternately in one process.
// The key is a CryptoKey, so the rows time sealing alone; the passphrase KDF is its own row.
import { serve } from '@hono/node-server';
import postgres from 'postgres';
import { createEdgeApp, mintToken, PostgresStore, postgresJs } from '../dist/edge/index.js';
import { createMemory, InMemoryStore } from '../dist/index.js';
import { makeCorpus, median, time } from './corpus.mjs';

const URL_ = process.env.DATABASE_URL ?? 'postgres://postgres:bench@127.0.0.1:5432/test';
const SCHEMA = 'engram_bench_e2e';
const SIZE = Number(process.env.BENCH_E2E_SIZE ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECRET = 'engram-bench-secret-e2e';
const k = (n) => `${n / 1000}K`;

export default async function run(record, info) {
  const admin = postgres(URL_, { onnotice: () => {}, max: 1 });
  await admin.unsafe(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.unsafe(`CREATE SCHEMA ${SCHEMA}`);
  const store = new PostgresStore(postgresJs(URL_, { connection: { search_path: SCHEMA } }));
  const app = createEdgeApp({ store, secret: SECRET, logger: false });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ]);
  const { items } = makeCorpus(SIZE, 11);
  const withMeta = items.map((item, i) => ({ ...item, metadata: { source: 'bench', n: i } }));
  const times = { plain: { push: [], pull: [] }, sealed: { push: [], pull: [] } };

  const replica = (namespace, token, encryption) =>
    createMemory({
      store: new InMemoryStore(),
      namespace,
      sync: { url, token, intervalMs: 0, debounceMs: 3_600_000 },
      ...(encryption ? { encryption } : {}),
    });
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of round % 2 ? ['sealed', 'plain'] : ['plain', 'sealed']) {
        const namespace = `e2e-${mode}-${round}`;
        const token = await mintToken({ secret: SECRET, ns: namespace });
        const encryption = mode === 'sealed' ? { key } : undefined;
        const writer = await replica(namespace, token, encryption);
        await writer.sync(); // the handshake and an empty round, so the timed one is the push
        for (let i = 0; i < withMeta.length; i += 1000) await writer.addMany(withMeta.slice(i, i + 1000));
        let pushed;
        times[mode].push.push(await time(async () => (pushed = await writer.sync())));
        if (pushed.pushed !== SIZE) throw new Error(`bench/encryption: pushed ${pushed.pushed} of ${SIZE}`);
        await writer.close();
        const reader = await replica(namespace, token, encryption);
        let pulled;
        times[mode].pull.push(await time(async () => (pulled = await reader.sync())));
        if (pulled.pulled !== SIZE) throw new Error(`bench/encryption: pulled ${pulled.pulled} of ${SIZE}`);
        await reader.close();
      }
    }
    for (const what of ['push', 'pull']) {
      record({
        suite: 'e2e',
        metric: `sync ${what} ${k(SIZE)} encrypted through the edge`,
        ours: median(times.sealed[what]),
        ref: median(times.plain[what]),
        refName: `the same ${what}, plain`,
        unit: 'ms',
        target: { ratio: 1.5 },
      });
    }
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const derive = async (iterations) => {
      const material = await crypto.subtle.importKey(
        'raw',
        new TextEncoder().encode('passphrase'),
        'PBKDF2',
        false,
        ['deriveKey'],
      );
      await crypto.subtle.deriveKey(
        { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
        material,
        { name: 'AES-GCM', length: 256 },
        false,
        ['encrypt'],
      );
    };
    const kdf = await time(() => derive(600_000));
    record({
      suite: 'e2e',
      metric: 'passphrase → key (PBKDF2-SHA256, 600 000 iterations), once per device',
      ours: kdf,
      ref: median([await time(() => derive(1)), await time(() => derive(1))]),
      refName: 'PBKDF2, 1 iteration',
      unit: 'ms',
    });
    info.settings.push(
      `e2e: ${ROUNDS} rounds of ${k(SIZE)} memories with metadata, plain and sealed alternately, each pushed by one replica and pulled by a fresh one through the Node edge on Postgres.`,
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await store.close();
    await admin.unsafe(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin.end();
  }
}
