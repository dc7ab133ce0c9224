import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import initSqlJs from 'sql.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory } from '../../src/index.js';
import { hashEmbed } from '../conformance/stand-in-embedder.js';
import { cli } from './helpers.js';

/**
 * `engram reembed` end to end: a real sqlite: file, the real command, and a local node:http server
 * answering `/v1/embeddings` like OpenAI/Ollama (no model can be downloaded here). The server can be
 * told to fail after some requests, to prove a second run continues where the first stopped.
 */
const dir = mkdtempSync(join(tmpdir(), 'engram-reembed-'));
let server: Server;
let apiUrl: string;
/** `engram reembed` of the sql.js file `file` with the stand-in API's mini-embed model, then `more`. */
const miniEmbed = (file: string, ...more: string[]) => [
  'reembed',
  '--store',
  `sqlite:${file}`,
  '--embedder',
  'openai:mini-embed',
  '--url',
  apiUrl,
  ...more,
];
let requests: string[][] = [];
/** The authorization header of every request, as the server received it. */
let authorizations: Array<string | undefined> = [];
let failAfter = Number.POSITIVE_INFINITY;
/** When set, answers every request instead of the stand-in model (a server replying wrongly). */
let answer: ((input: string[]) => unknown) | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const body = JSON.parse(raw) as { model: string; input: string[] };
      if (requests.length >= failAfter) {
        res.writeHead(503).end('overloaded');
        return;
      }
      // Like a model's context limit: the request is refused for one of its texts.
      if (body.input.some((t) => t.includes('far too long'))) {
        res.writeHead(400).end('{"error":{"message":"maximum context length exceeded"}}');
        return;
      }
      requests.push(body.input);
      if (answer) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer(body.input)));
        return;
      }
      const data = body.input.map((t, index) => ({
        object: 'embedding',
        index,
        embedding: hashEmbed(t, 12),
      }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

async function seed(file: string): Promise<void> {
  const mem = await createMemory({ store: new SqlJsStore({ persist: file }), namespace: 'notes' });
  await mem.addMany(
    Array.from({ length: 25 }, (_, i) => ({
      content: `note number ${i}`,
      ...(i % 5 === 0 ? { embedding: [1, 2, 3], embeddingModel: 'old-model' } : {}),
    })),
  );
  await mem.close();
}

/** Reads the file with sql.js directly, not through the store under test. */
async function modelsIn(file: string): Promise<Record<string, number>> {
  const { readFileSync } = await import('node:fs');
  const SQL = await initSqlJs();
  const db = new SQL.Database(readFileSync(file));
  const [result] = db.exec(
    "SELECT coalesce(embedding_model, 'none') AS m, count(*) AS n FROM engram_memories GROUP BY m",
  );
  db.close();
  return Object.fromEntries((result?.values ?? []).map(([m, n]) => [m as string, n as number]));
}

describe('engram reembed', () => {
  it('moves a store to a new model with progress, and resumes after a failure', async () => {
    const file = join(dir, 'memory.db');
    await seed(file);
    expect(await modelsIn(file)).toEqual({ 'old-model': 5, none: 20 });
    const args = miniEmbed(file);

    requests = [];
    failAfter = 2;
    const first = cli([...args, '--batch', '10'], {}, process.cwd(), { terminal: true });
    expect(await first.exit).toBe(1);
    expect(first.err.join('\n')).toMatch(/HTTP 503/);
    // The dims probe was one request, one batch of 10 was embedded and saved before the failure.
    expect(requests.map((r) => r.length)).toEqual([1, 10]);
    expect(await modelsIn(file)).toMatchObject({ 'mini-embed': 10 });

    requests = [];
    failAfter = Number.POSITIVE_INFINITY;
    const second = cli([...args, '--batch', '10'], {}, process.cwd(), { terminal: true });
    expect(await second.exit).toBe(0);
    expect(second.out).toEqual(['notes: embedded 15 with mini-embed, 10 already up to date']);
    expect(requests.slice(1).flat()).toHaveLength(15);
    // A bar while working (redrawn at most every 100 ms), then a summary line when done.
    expect(second.terminal.join('')).toMatch(/reembed notes {2}[█░]+ \d+%/);
    expect(second.terminal.join('')).toMatch(/engram reembed notes: 15 entries in/);
    expect(await modelsIn(file)).toEqual({ 'mini-embed': 25 });

    const mem = await createMemory({ store: new SqlJsStore({ persist: file }), namespace: 'notes' });
    const hits = await mem.search('', {
      vector: hashEmbed('note number 7', 12),
      model: 'mini-embed',
      limit: 1,
    });
    expect(hits[0]?.memory.content).toBe('note number 7');
    await mem.close();
  });

  it('embeds the rest when the server refuses a text, lists it and exits 1', async () => {
    const file = join(dir, 'refused.db');
    const seeded = await createMemory({ store: new SqlJsStore({ persist: file }), namespace: 'notes' });
    const refused = await seeded.add({ content: 'a note far too long for the model' });
    await seeded.addMany(Array.from({ length: 5 }, (_, i) => ({ content: `short note ${i}` })));
    await seeded.close();
    const args = miniEmbed(file);
    failAfter = Number.POSITIVE_INFINITY;
    for (const [run, embedded, upToDate] of [
      [1, 5, 0],
      [2, 0, 5],
    ] as const) {
      const result = cli([...args, '--dims', '12']);
      expect(await result.exit, `run ${run}`).toBe(1);
      expect(result.out).toEqual([
        `notes: embedded ${embedded} with mini-embed, ${upToDate} already up to date, 1 refused`,
      ]);
      expect(result.err).toEqual([
        expect.stringMatching(
          new RegExp(`^notes: memory ${refused.id} not embedded: .*HTTP 400 .*maximum context length`),
        ),
      ]);
    }
    expect(await modelsIn(file)).toEqual({ 'mini-embed': 5, none: 1 });
  });

  it('exits 1 when a namespace before the last had a text refused', async () => {
    const file = join(dir, 'refused-first.db');
    const store = new SqlJsStore({ persist: file });
    await (await createMemory({ store, namespace: 'notes' })).add({
      content: 'a note far too long for the model',
    });
    await (await createMemory({ store, namespace: 'other' })).add({ content: 'a short note' });
    await store.close();
    failAfter = Number.POSITIVE_INFINITY;
    const run = cli(miniEmbed(file, '--dims', '12', '--ns', 'notes,other'));
    expect(await run.exit).toBe(1);
    expect(run.out).toEqual([
      'notes: embedded 0 with mini-embed, 0 already up to date, 1 refused',
      'other: embedded 1 with mini-embed, 0 already up to date',
    ]);
  });

  it('stops at once with 130 on an interrupt while a request hangs', async () => {
    const hung = createServer((req) => req.resume());
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const hungUrl = `http://127.0.0.1:${(hung.address() as AddressInfo).port}/v1`;
    const file = join(dir, 'interrupted.db');
    await seed(file);
    for (const dims of [['--dims', '8'], []]) {
      // With --dims the hanging request embeds memories; without, it asks for the dimensions.
      const arrived = new Promise((resolve) => hung.once('request', resolve));
      const run = cli([
        'reembed',
        '--store',
        `sqlite:${file}`,
        '--embedder',
        'openai:m',
        '--url',
        hungUrl,
        ...dims,
      ]);
      await arrived;
      const started = Date.now();
      run.stop();
      expect(await run.exit).toBe(130);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(run.err).toEqual(['engram reembed: interrupted; run the same command again to continue']);
    }
    // The store was closed: its file is free for the next run.
    const mem = await createMemory({ store: new SqlJsStore({ persist: file }), namespace: 'notes' });
    await mem.close();
    hung.closeAllConnections();
    await new Promise((resolve) => hung.close(resolve));
  });

  it('embeds each namespace in the language it is indexed in', async () => {
    const file = join(dir, 'languages.db');
    const store = new SqlJsStore({ persist: file });
    const english = await createMemory({ store, namespace: 'notes' });
    await english.add({ content: 'the houses by the river' });
    const german = await createMemory({ store, namespace: 'beta-ns', language: 'german' });
    await german.addMany([{ content: 'die Häuser am Fluss' }, { content: 'der Hund schläft' }]);
    await store.close();
    const run = cli(miniEmbed(file, '--dims', '12'));
    expect(await run.exit, run.err.join('\n')).toBe(0);
    expect(run.out.sort()).toEqual([
      'beta-ns: embedded 2 with mini-embed, 0 already up to date',
      'notes: embedded 1 with mini-embed, 0 already up to date',
    ]);
    expect(await modelsIn(file)).toEqual({ 'mini-embed': 3 });
  });

  it('a reply of the wrong shape mid-run is exit 1, as an HTTP 500 is, keeping what was embedded', async () => {
    const file = join(dir, 'bad-reply.db');
    await seed(file);
    const args = miniEmbed(file);
    const replies: Array<[string, (input: string[]) => unknown, RegExp]> = [
      [
        'vectors of the wrong length',
        (input) => ({ data: input.map((_, index) => ({ index, embedding: [1, 2, 3] })) }),
        /should have 12 finite numbers, got 3/,
      ],
      ['too few vectors', () => ({ data: [] }), /expected data with \d+ embeddings/],
    ];
    try {
      for (const [what, reply, message] of replies) {
        answer = reply;
        const run = cli([...args, '--dims', '12', '--batch', '10']);
        expect(await run.exit, what).toBe(1);
        expect(run.err, what).toEqual([expect.stringMatching(message)]);
        expect(run.err[0], what).not.toMatch(/--help/);
      }
      // What a good batch embedded before a bad reply is kept, and the next run continues.
      let calls = 0;
      answer = (input) =>
        ++calls === 1
          ? { data: input.map((t, index) => ({ index, embedding: hashEmbed(t, 12) })) }
          : { data: [] };
      const partly = cli([...args, '--dims', '12', '--batch', '10']);
      expect(await partly.exit).toBe(1);
      expect(await modelsIn(file)).toMatchObject({ 'mini-embed': 10 });
    } finally {
      answer = undefined;
    }
  });

  it('embeds only the namespaces of --ns; a missing sqlite: file or --batch 0 is exit 2, creating nothing', async () => {
    const file = join(dir, 'two-namespaces.db');
    const store = new SqlJsStore({ persist: file });
    await (await createMemory({ store, namespace: 'notes' })).add({ content: 'a note' });
    await (await createMemory({ store, namespace: 'other' })).add({ content: 'another note' });
    await store.close();
    const args = ['reembed', '--embedder', 'openai:mini-embed', '--url', apiUrl, '--dims', '12'];
    const run = cli([...args, '--store', `sqlite:${file}`, '--ns', 'notes']);
    expect(await run.exit, run.err.join('\n')).toBe(0);
    expect(run.out).toEqual(['notes: embedded 1 with mini-embed, 0 already up to date']);
    expect(await modelsIn(file)).toEqual({ 'mini-embed': 1, none: 1 });

    const missing = join(dir, 'missing.db');
    const absent = cli([...args, '--store', `sqlite:${missing}`]);
    expect(await absent.exit).toBe(2);
    expect(absent.err).toEqual([expect.stringMatching(/missing\.db: no such file$/)]);
    expect(existsSync(missing)).toBe(false);

    for (const value of ['0', '1001', '2.5']) {
      const bad = cli([...args, '--store', `sqlite:${file}`, '--batch', value]);
      expect(await bad.exit, value).toBe(2);
      expect(bad.err).toEqual([expect.stringContaining(`--batch: expected 1-1000, got "${value}"`)]);
    }
    const jsonl = cli([...args, '--store', `jsonl:${join(dir, 'memory.jsonl')}`]);
    expect(await jsonl.exit).toBe(2);
    expect(jsonl.err).toEqual([
      expect.stringContaining('--store: expected a database or an edge, not a jsonl: file'),
    ]);
  });

  it('authenticates with --api-key, or else $OPENAI_API_KEY', async () => {
    const cases = [
      [[], { OPENAI_API_KEY: 'from-env' }, 'Bearer from-env'],
      [['--api-key', 'from-flag'], { OPENAI_API_KEY: 'from-env' }, 'Bearer from-flag'],
    ] as const;
    for (const [i, [flags, env, sent]] of cases.entries()) {
      const file = join(dir, `api-key-${i}.db`);
      await seed(file);
      authorizations = [];
      const args = ['--store', `sqlite:${file}`, '--embedder', 'openai:mini-embed', '--url', apiUrl];
      const run = cli(['reembed', ...args, '--dims', '12', ...flags], env);
      expect(await run.exit, run.err.join('\n')).toBe(0);
      expect(authorizations.length).toBeGreaterThan(0);
      expect(new Set(authorizations)).toEqual(new Set([sent]));
    }
  });

  it('refuses a --url that is not http(s), before any request', async () => {
    for (const url of ['ftp://x', 'localhost:11434/v1', 'not a url']) {
      const run = cli([
        'reembed',
        '--store',
        `sqlite:${join(dir, 'x.db')}`,
        '--embedder',
        'openai:m',
        '--url',
        url,
        '--dims',
        '3',
      ]);
      expect(await run.exit, url).toBe(2);
      expect(run.err).toEqual([
        `engram reembed: --url: expected an http(s):// URL, got ${JSON.stringify(url)} (see engram reembed --help)`,
      ]);
    }
  });

  it('refuses an embedder it does not know, naming the flag', async () => {
    const run = cli(['reembed', '--store', `sqlite:${join(dir, 'x.db')}`, '--embedder', 'cohere:x']);
    expect(await run.exit).toBe(2);
    expect(run.err.join('\n')).toMatch(/--embedder: expected openai:<model>/);
  });
});
