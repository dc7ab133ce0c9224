import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeServer } from '../../src/cli/node-server.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { InMemoryStore } from '../../src/index.js';
import { SECRET } from '../edge/helpers.js';
import { bundledAgainst } from '../setup/bundled-against.js';

// Both @hono/node-server majors are in the peer range: 2.x, as installed, and 1.19 under an npm alias,
// loaded as an app on 1.19 would load it (our module bundled with the peer resolved to the alias).
const onVersion1 = await bundledAgainst<typeof import('../../src/cli/node-server.js')>(
  'src/cli/node-server.ts',
  '@hono/node-server',
  'hono-node-server-1',
  ['hono'],
);

const LIMIT = 1024 * 1024;
const app = createEdgeApp({ store: new InMemoryStore(), secret: SECRET, logger: false, bodyLimit: LIMIT });
let base = '';
let port = 0;

/** Sends bytes as they are, past any client-side URL normalisation, and returns the raw answer. */
function raw(bytes: string, to = port): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(to, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    setTimeout(() => {
      socket.destroy();
      resolve(answer);
    }, 2000);
  });
}

function jsonBodyOf(answer: string) {
  const [head, body] = answer.split('\r\n\r\n');
  expect(head).toMatch(/content-type: application\/json/i);
  return JSON.parse(body!);
}

describe.each([
  ['@hono/node-server 2', createNodeServer],
  ['@hono/node-server 1.19', onVersion1.createNodeServer],
])('the Node edge on %s answers every error in JSON', (_, create) => {
  const server = create(app.fetch, { bodyLimit: LIMIT });
  beforeAll(async () => {
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it('a request line the HTTP parser rejects gets a JSON 400', async () => {
    const answer = await raw('GET /v1/ns/a\\..\\b HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(jsonBodyOf(answer)).toMatchObject({ error: { code: 'VALIDATION' } });
    const garbage = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    expect(jsonBodyOf(garbage).error.code).toBe('VALIDATION');
  });

  it('headers too large get a JSON 431', async () => {
    const answer = await raw(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431/);
    expect(jsonBodyOf(answer).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('a request unfinished at the request timeout gets a JSON 408, whether in its headers or its body', async () => {
    const slow = create(app.fetch, { bodyLimit: LIMIT });
    // Node looks for timed-out requests every connectionsCheckingInterval: 30 s unless set before listening.
    Object.assign(slow, { requestTimeout: 300, headersTimeout: 300, connectionsCheckingInterval: 50 });
    await new Promise<void>((ready) => slow.listen(0, '127.0.0.1', ready));
    const token = await mintToken({ secret: SECRET, ns: ['big'] });
    try {
      for (const partial of [
        'GET /health HTTP/1.1\r\nHost: x\r\n',
        `POST /v1/ns/big/memories HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"content"`,
      ]) {
        const answer = await raw(partial, (slow.address() as AddressInfo).port);
        expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
        expect(jsonBodyOf(answer).error.field).toBe('request');
      }
    } finally {
      slow.closeAllConnections();
      await new Promise<void>((done) => slow.close(() => done()));
    }
  });

  it('a 3 MB body always gets its 413, never a connection reset', async () => {
    const token = await mintToken({ secret: SECRET, ns: ['big'] });
    const body = JSON.stringify({ content: 'x'.repeat(3 * 1024 * 1024) });
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${base}/v1/ns/big/memories`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE', field: 'body' } });
    }
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });

  it('a streamed body over the limit (no Content-Length) gets its 413, never a connection reset', async () => {
    const token = await mintToken({ secret: SECRET, ns: ['big'] });
    const streamed = () => {
      let sent = 0;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ === 32) controller.close();
          else controller.enqueue(new Uint8Array(64 * 1024).fill(0x61));
        },
      });
    };
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${base}/v1/ns/big/memories`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: streamed(),
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE', field: 'body' } });
    }
  });

  it("a body declared over the limit gets the app's 413, with CORS headers a browser can read", async () => {
    const token = await mintToken({ secret: SECRET, ns: ['big'] });
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${base}/v1/ns/big/memories`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          origin: 'https://app.example',
        },
        body: JSON.stringify({ content: 'x'.repeat(2 * 1024 * 1024) }),
      });
      expect(res.status).toBe(413);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(await res.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE', field: 'body' } });
    }
    const other = await fetch(`${base}/v1/ns/big/count`, { headers: { authorization: `Bearer ${token}` } });
    expect(await other.json()).toEqual({ count: 0 });
  });
});
