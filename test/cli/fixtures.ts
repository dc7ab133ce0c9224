import { type ChildProcess, spawn } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { serve } from '@hono/node-server';
import { build } from 'esbuild';
import { createEdgeApp, type EdgeAppOptions, mintToken } from '../../src/edge/index.js';
import { createMemory, exportJsonl, InMemoryStore, type MemoryStore } from '../../src/index.js';

export const SECRET = 'cli-ops-test-secret-0123456789abcdef';
export const NAMESPACES = ['alpha', 'beta.2'];
/** Past 512 KiB per import batch, so an http(s) target must cut batches to the server's 1 MiB limit. */
const BIG_EMBEDDING_DIMS = 1536;

/** An edge app on a real port (node-server), as a user would run it. */
export async function startEdge(options: Partial<EdgeAppOptions> = {}) {
  const store = (options.store as MemoryStore | undefined) ?? new InMemoryStore();
  const secret = options.secret ?? SECRET;
  const app = createEdgeApp({ logger: false, ...options, secret, store });
  const server = await new Promise<Server>((ready) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => ready(s as Server));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    store,
    token: (ns: string[] = NAMESPACES) => mintToken({ secret, ns }),
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<string> {
  const edge = await startEdge();
  await edge.close();
  return edge.url;
}

/**
 * The reference dump: two namespaces with everything an export must carry — embeddings (some large),
 * importance, expiry, tags, nested metadata, unicode, links with weights, edits, and tombstones of
 * deleted memories and links.
 */
export async function seedLines(): Promise<string[]> {
  const store = new InMemoryStore();
  for (const namespace of NAMESPACES) {
    const mem = await createMemory({ store, namespace });
    const added = await mem.addMany(
      Array.from({ length: 120 }, (_, i) => ({
        content: `${namespace} memory ${i}: café ☕ "quoted" \\ back-slashed, line\nbreak`,
        kind: i % 3 === 0 ? 'fact' : 'note',
        tags: i % 2 ? ['odd', `t${i % 5}`] : [],
        metadata: { i, nested: { list: [1, 'two', null, true], z: -0.5 } },
        ...(i % 2 === 0
          ? { embedding: Array.from({ length: BIG_EMBEDDING_DIMS }, (_, d) => Math.sin(i * 7 + d) / 3) }
          : {}),
        ...(i % 4 === 1 ? { importance: i / 200 } : {}),
        ...(i % 10 === 3 ? { expiresAt: '2999-01-01T00:00:00.000Z' } : {}),
      })),
    );
    const link = await mem.link(added[0]!.id, added[1]!.id, 'related_to', {
      weight: 0.25,
      metadata: { why: 'seed' },
    });
    await mem.link(added[2]!.id, added[3]!.id, 'part_of');
    await mem.link(added[4]!.id, added[0]!.id, 'mentions');
    await mem.update(added[5]!.id, { content: 'edited later', tags: ['edited'], importance: null });
    await mem.remove(added[4]!.id);
    await mem.unlink(link.id);
  }
  const lines: string[] = [];
  for await (const line of exportJsonl(store)) lines.push(line);
  return lines;
}

const root = resolve(import.meta.dirname, '../..');

/** The CLI bundled from source, for tests that need a real process (exit codes, pipes, a real stderr). */
export async function buildBinary(name: string): Promise<string> {
  const outfile = join(root, `test-artifacts/cli/${name}.mjs`);
  await build({
    entryPoints: [join(root, 'src/cli/main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
  });
  return outfile;
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the binary with stdin fed from `input` (a string or a file), collecting its output; `uid`: as that user. */
export function runBinary(
  bin: string,
  args: string[],
  options: { input?: string; env?: Record<string, string>; cwd?: string; uid?: number } = {},
): Promise<Finished> & { child: ChildProcess } {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: options.cwd,
    // Another user (as root, whom file permissions do not stop): uid and gid alike.
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
    env: { ...process.env, ENGRAM_TOKEN: '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  child.stdin!.end(options.input ?? '');
  const done = new Promise<Finished>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
  return Object.assign(done, { child });
}
