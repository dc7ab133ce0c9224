import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openAIEmbedder } from '../../src/embedders/index.js';
import { createMemory } from '../../src/index.js';
import { hashEmbed } from '../conformance/stand-in-embedder.js';

/**
 * No model can be downloaded here, so a local node:http server stands in for OpenAI / Ollama: it answers
 * `POST /v1/embeddings` with the real response shape (`{ object: 'list', data: [{ embedding, index }] }`),
 * deliberately out of index order, and records every request it got.
 */
interface Received {
  path: string;
  auth: string | undefined;
  body: { model: string; input: string[]; dimensions?: number; encoding_format?: string };
}

const received: Received[] = [];
let failNext: number | null = null;
let server: Server;
let url: string;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (chunk) => {
      data += chunk;
    });
    req.on('end', () => resolve(data));
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = JSON.parse(await readBody(req));
    received.push({ path: req.url ?? '', auth: req.headers.authorization, body });
    if (failNext !== null) {
      res.writeHead(failNext, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'stand-in failure' } }));
      failNext = null;
      return;
    }
    if (req.url !== '/v1/embeddings') {
      res.writeHead(404).end();
      return;
    }
    const dims = body.dimensions ?? 8;
    const data = body.input.map((text: string, index: number) => ({
      object: 'embedding',
      index,
      embedding: hashEmbed(text, dims),
    }));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', model: body.model, data: data.reverse(), usage: {} }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('openAIEmbedder against a local OpenAI-compatible server', () => {
  it('posts model and input, sends the key, and returns vectors in input order', async () => {
    received.length = 0;
    const embedder = openAIEmbedder({ url, model: 'nomic-embed-text', dims: 8, apiKey: 'sk-test' });
    expect(embedder.id).toBe('nomic-embed-text');
    const vectors = await embedder.embed(['alpha', 'beta gamma']);
    expect(vectors).toEqual([hashEmbed('alpha', 8), hashEmbed('beta gamma', 8)]);
    expect(received).toEqual([
      {
        path: '/v1/embeddings',
        auth: 'Bearer sk-test',
        body: { model: 'nomic-embed-text', input: ['alpha', 'beta gamma'], encoding_format: 'float' },
      },
    ]);
  });

  it('splits large inputs into batches and asks text-embedding-3 models for shortened vectors', async () => {
    received.length = 0;
    const embedder = openAIEmbedder({ url, model: 'text-embedding-3-small', dims: 16, batchSize: 2 });
    expect(embedder.id).toBe('text-embedding-3-small@16');
    const vectors = await embedder.embed(['a', 'b', 'c', 'd', 'e']);
    expect(vectors.map((v) => v.length)).toEqual([16, 16, 16, 16, 16]);
    expect(received.map((r) => r.body.input)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(received.every((r) => r.body.dimensions === 16 && r.auth === undefined)).toBe(true);
  });

  it('maps failures to EngramError codes: 401, 403, 429, 5xx, unreachable', async () => {
    const embedder = openAIEmbedder({ url, model: 'm', dims: 8 });
    failNext = 401;
    // The server's own words travel in the message: they say what to fix (a key, a quota).
    await expect(embedder.embed(['x'])).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: `embedder ${url}/embeddings: HTTP 401 {"error":{"message":"stand-in failure"}}`,
    });
    failNext = 403;
    await expect(embedder.embed(['x'])).rejects.toMatchObject({ code: 'FORBIDDEN' });
    failNext = 500;
    await expect(embedder.embed(['x'])).rejects.toMatchObject({ code: 'OFFLINE', field: undefined });
    failNext = 429;
    await expect(embedder.embed(['x'])).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    failNext = 503;
    await expect(embedder.embed(['x'])).rejects.toMatchObject({ code: 'OFFLINE' });
    const nowhere = openAIEmbedder({ url: 'http://127.0.0.1:9/v1', model: 'm', dims: 8, timeoutMs: 2000 });
    await expect(nowhere.embed(['x'])).rejects.toMatchObject({ code: 'OFFLINE' });
  });

  it('a signal aborts a request under way at once, and refuses the next one', async () => {
    const hung = createServer((req) => req.resume());
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const arrived = new Promise((resolve) => hung.once('request', resolve));
    const stop = new AbortController();
    const embedder = openAIEmbedder({
      url: `http://127.0.0.1:${(hung.address() as AddressInfo).port}/v1`,
      model: 'm',
      dims: 8,
      signal: stop.signal,
    });
    const embedding = embedder.embed(['x']);
    await arrived;
    const started = Date.now();
    stop.abort('SIGINT');
    await expect(embedding).rejects.toBe('SIGINT');
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(embedder.embed(['y'])).rejects.toBe('SIGINT');
    hung.closeAllConnections();
    await new Promise((resolve) => hung.close(resolve));
  });

  it('a custom fetch that ignores its signal still times out, and still yields to an abort', async () => {
    const never = () => new Promise<Response>(() => {});
    const silentBody = async () => new Response(new ReadableStream({ start: () => {} }));
    for (const fetch of [never, silentBody]) {
      const embedder = openAIEmbedder({ url: 'http://x/v1', model: 'm', dims: 8, timeoutMs: 50, fetch });
      await expect(embedder.embed(['x'])).rejects.toMatchObject({
        code: 'OFFLINE',
        message: expect.stringMatching(/within 50 ms/),
      });
    }
    const stop = new AbortController();
    const embedder = openAIEmbedder({
      url: 'http://x/v1',
      model: 'm',
      dims: 8,
      fetch: never,
      signal: stop.signal,
    });
    const embedding = embedder.embed(['x']);
    setTimeout(() => stop.abort('SIGINT'), 10);
    await expect(embedding).rejects.toBe('SIGINT');
  });

  it('an already aborted signal refuses before anything is sent', async () => {
    let calls = 0;
    const fetch = async () => {
      calls += 1;
      return new Response('{"data":[]}');
    };
    const stop = new AbortController();
    stop.abort('SIGINT');
    const embedder = openAIEmbedder({ url: 'http://x/v1', model: 'm', dims: 8, fetch, signal: stop.signal });
    await expect(embedder.embed(['x'])).rejects.toBe('SIGINT');
    expect(calls).toBe(0);
  });

  it('gives a request 30 000 ms by default', async () => {
    // The deadline is an AbortSignal.timeout: run it a thousand times faster, and read the one asked for.
    const timeout = AbortSignal.timeout.bind(AbortSignal);
    const asked: number[] = [];
    const spy = vi.spyOn(AbortSignal, 'timeout').mockImplementation((ms) => {
      asked.push(ms);
      return timeout(ms / 1000);
    });
    try {
      const never = () => new Promise<Response>(() => {});
      const embedder = openAIEmbedder({ url: 'http://x/v1', model: 'm', dims: 8, fetch: never });
      await expect(embedder.embed(['x'])).rejects.toMatchObject({
        code: 'OFFLINE',
        message: 'embedder http://x/v1/embeddings: unreachable (no answer within 30000 ms)',
      });
      expect(asked).toEqual([30_000]);
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses a model of unknown length without dims, naming the field', () => {
    expect(() => openAIEmbedder({ url, model: 'mystery' })).toThrow(/openAIEmbedder.dims/);
    expect(() => openAIEmbedder({ url, model: 'mystery', dims: 0 })).toThrow(/openAIEmbedder.dims/);
    expect(() => openAIEmbedder({ url, model: 'mystery', dims: 2.5 })).toThrow(
      expect.objectContaining({ code: 'VALIDATION', field: 'openAIEmbedder.dims' }),
    );
    expect(openAIEmbedder({ model: 'text-embedding-3-small' }).dims).toBe(1536);
  });

  it('asks a text-embedding-3 model without dims for its full length, under its plain name', async () => {
    received.length = 0;
    const embedder = openAIEmbedder({ url, model: 'text-embedding-3-small' });
    expect(embedder).toMatchObject({ id: 'text-embedding-3-small', dims: 1536 });
    await embedder.embed(['full length']);
    expect(received.map((r) => r.body)).toEqual([
      { model: 'text-embedding-3-small', input: ['full length'], encoding_format: 'float' },
    ]);
  });

  it('records a given id instead of the model name, and refuses an empty one naming the field', () => {
    expect(openAIEmbedder({ url, model: 'text-embedding-3-small', dims: 16, id: 'small-16' }).id).toBe(
      'small-16',
    );
    expect(() => openAIEmbedder({ url, model: 'm', dims: 8, id: '' })).toThrow(
      expect.objectContaining({ code: 'VALIDATION', field: 'openAIEmbedder.id' }),
    );
  });

  it('sends no dimensions for a model the API cannot shorten (ada-002), and records its plain name', async () => {
    received.length = 0;
    const embedder = openAIEmbedder({ url, model: 'text-embedding-ada-002', dims: 8 });
    expect(embedder.id).toBe('text-embedding-ada-002');
    await embedder.embed(['not shortened']);
    expect(received.map((r) => r.body)).toEqual([
      { model: 'text-embedding-ada-002', input: ['not shortened'], encoding_format: 'float' },
    ]);
  });

  it('takes the url with a trailing slash or the /embeddings path itself, and https', async () => {
    received.length = 0;
    for (const given of [`${url}/`, `${url}//`, `${url}/embeddings`, `${url}/embeddings/`]) {
      expect(await openAIEmbedder({ url: given, model: 'm', dims: 8 }).embed(['x'])).toEqual([
        hashEmbed('x', 8),
      ]);
    }
    expect(received.map((r) => r.path)).toEqual([
      '/v1/embeddings',
      '/v1/embeddings',
      '/v1/embeddings',
      '/v1/embeddings',
    ]);
    expect(openAIEmbedder({ url: 'https://api.example.com/v1', model: 'm', dims: 8 }).dims).toBe(8);
    for (const bad of ['ftp://example.com/v1', 'localhost:11434', 'not a url']) {
      expect(() => openAIEmbedder({ url: bad, model: 'm', dims: 8 }), bad).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field: 'openAIEmbedder.url' }),
      );
    }
  });

  it('sends at most 256 texts per request by default', async () => {
    received.length = 0;
    const texts = Array.from({ length: 257 }, (_, i) => `t${i}`);
    expect(await openAIEmbedder({ url, model: 'm', dims: 8 }).embed(texts)).toHaveLength(257);
    expect(received.map((r) => r.body.input.length)).toEqual([256, 1]);
  });

  it('embeds memories end to end through createMemory, surviving a server error', async () => {
    failNext = 500;
    const mem = await createMemory({
      embedder: openAIEmbedder({ url, model: 'nomic-embed-text', dims: 8 }),
      embedding: { backoff: { baseMs: 5, maxMs: 20 } },
    });
    const m = await mem.add({ content: 'served by the stand-in' });
    await vi.waitFor(async () => {
      expect((await mem.get(m.id))?.embedding).toEqual(hashEmbed('served by the stand-in', 8));
    });
    expect((await mem.get(m.id))?.embeddingModel).toBe('nomic-embed-text');
    const hits = await mem.search('served stand-in', { mode: 'vector' });
    expect(hits[0]?.memory.id).toBe(m.id);
    await mem.close();
  });

  it('refuses a batchSize or timeoutMs that is no positive integer, naming the field', () => {
    for (const batchSize of [0, -5, 2.5, Number.NaN]) {
      expect(() => openAIEmbedder({ url, model: 'm', dims: 8, batchSize })).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field: 'openAIEmbedder.batchSize' }),
      );
    }
    for (const timeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => openAIEmbedder({ url, model: 'm', dims: 8, timeoutMs })).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field: 'openAIEmbedder.timeoutMs' }),
      );
    }
  });

  it('a broken answer is an EngramError: no JSON, cut off, stalled mid-body; 4xx by what they mean', async () => {
    // A second stand-in whose answers go wrong the ways a proxy or a crashing server's do.
    const broken = createServer((req, res) => {
      req.resume();
      const kind = req.url?.split('/')[1];
      if (kind === 'html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><body>Bad gateway</body></html>');
      } else if (kind === 'long') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<html>${'x'.repeat(200)}</html>`);
      } else if (kind === 'cut') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"data": [');
      } else if (kind === 'short') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"object":"list","data":[]}');
      } else if (kind === 'nulls') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"object":"list","data":[null]}');
      } else if (kind === 'extra') {
        res.writeHead(200, { 'content-type': 'application/json' });
        const item = (index: number) => ({ object: 'embedding', index, embedding: hashEmbed('x', 8) });
        res.end(JSON.stringify({ object: 'list', data: [item(0), item(1)] }));
      } else if (kind === 'bare') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [hashEmbed('x', 8)] }));
      } else if (kind === 'stall') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"data":');
      } else {
        res.writeHead(Number(kind)).end('{"error":{"message":"stand-in"}}');
      }
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
    const at = (kind: string, extra: { timeoutMs?: number; signal?: AbortSignal } = {}) =>
      openAIEmbedder({ url: `${base}/${kind}/v1`, model: 'm', dims: 8, ...extra }).embed(['x']);
    await expect(at('html')).rejects.toMatchObject({
      name: 'EngramError',
      code: 'OFFLINE',
      message: expect.stringMatching(/expected a JSON answer .*<html>/),
    });
    // A long page is cut to its start, and says so.
    await expect(at('long')).rejects.toMatchObject({
      code: 'OFFLINE',
      message: expect.stringMatching(/got "<html>x{74}"…$/),
    });
    await expect(at('cut')).rejects.toMatchObject({ name: 'EngramError', code: 'OFFLINE' });
    // Fewer embeddings than texts: the service answers wrongly, not a refusal of the texts.
    await expect(at('short')).rejects.toMatchObject({ code: 'VALIDATION', field: 'embedder' });
    await expect(at('nulls')).rejects.toMatchObject({ code: 'VALIDATION', field: 'embedder' });
    // More embeddings than texts, or a bare vector where an item belongs: as wrong.
    await expect(at('extra')).rejects.toMatchObject({ code: 'VALIDATION', field: 'embedder' });
    await expect(at('bare')).rejects.toMatchObject({ code: 'VALIDATION', field: 'embedder' });
    await expect(at('stall', { timeoutMs: 200 })).rejects.toMatchObject({
      name: 'EngramError',
      code: 'OFFLINE',
      message: expect.stringContaining('no complete answer within 200 ms'),
    });
    // The caller's own abort keeps its reason, mid-body too.
    const stop = new AbortController();
    const stopped = at('stall', { signal: stop.signal });
    setTimeout(() => stop.abort('SIGINT'), 100);
    await expect(stopped).rejects.toBe('SIGINT');
    // Refusals of the text (the queue sets it aside) versus failures of the service (it backs off).
    // A 400 may be the text (too long) or a bad parameter for every text: the queue tells them apart.
    await expect(at('400')).rejects.toMatchObject({ code: 'VALIDATION', field: undefined });
    await expect(at('422')).rejects.toMatchObject({ code: 'VALIDATION', field: undefined });
    // Another 4xx answers the request, whatever its texts: the embedder is at fault.
    await expect(at('405')).rejects.toMatchObject({ code: 'VALIDATION', field: 'embedder' });
    await expect(at('413')).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    await expect(at('404')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(at('408')).rejects.toMatchObject({ code: 'OFFLINE' });
    broken.closeAllConnections();
    await new Promise((resolve) => broken.close(resolve));
  });
});
