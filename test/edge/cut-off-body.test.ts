import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEdgeApp, mintToken, type RequestLogEntry } from '../../src/edge/index.js';
import { InMemoryStore } from '../../src/index.js';
import { SECRET, testApp } from './helpers.js';
import { listenNode, RawConnection, requestBytes } from './raw-http.js';

const CUT_OFF = {
  code: 'VALIDATION',
  field: 'body',
  message:
    'body: expected the whole request body (as many bytes as its Content-Length, or chunks up to the last one), got a body cut off before its end',
};

/** A body stream that sends a first piece, then fails: what a runtime hands the app for an aborted upload. */
function failingBody(): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"content":"half a'));
      controller.error(new Error('aborted'));
    },
  });
}

describe('a body cut off before its end, in the app', () => {
  it.each([
    ['streamed (no Content-Length)', { 'transfer-encoding': 'chunked' }],
    ['with a Content-Length it never reaches', { 'content-length': '200' }],
  ])('%s is 400 naming the body, logged as a 400, and writes nothing', async (_label, framing) => {
    const logged: RequestLogEntry[] = [];
    const { app, token, call } = await testApp({ logger: (entry) => logged.push(entry) });
    for (const path of ['/v1/ns/demo/memories', '/v1/ns/demo/search', '/v1/ns/demo/sync']) {
      const res = await app.request(path, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...framing },
        body: failingBody(),
        duplex: 'half',
      } as RequestInit);
      expect(res.status, path).toBe(400);
      expect((await res.json()).error, path).toEqual(CUT_OFF);
    }
    expect(logged.map((entry) => entry.status)).toEqual([400, 400, 400]);
    expect(logged.some((entry) => entry.error !== undefined)).toBe(false);
    logged.length = 0;
    expect((await call('GET', '/v1/ns/demo/count')).json).toEqual({ count: 0 });
  });
});

describe('a body cut off before its end, on the Node server', () => {
  const logged: RequestLogEntry[] = [];
  const store = new InMemoryStore();
  const app = createEdgeApp({ store, secret: SECRET, logger: (entry) => logged.push(entry) });
  let port = 0;
  let token = '';
  let close = async () => {};
  beforeAll(async () => {
    ({ port, close } = await listenNode(app.fetch));
    token = await mintToken({ secret: SECRET, ns: ['cut'] });
  });
  afterAll(() => close());

  const headers = () => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
  const stillServing = async () => {
    const connection = await RawConnection.open(port);
    try {
      await connection.write(requestBytes('GET', '/v1/ns/cut/count', { authorization: `Bearer ${token}` }));
      const counted = await connection.response();
      expect(counted?.status).toBe(200);
      expect(JSON.parse(counted!.body)).toEqual({ count: 0 });
    } finally {
      connection.destroy();
    }
  };
  /** The app logs the cut-off request once its body stream fails: never as a 5xx. */
  const loggedWithout5xx = async (count: number) => {
    for (let i = 0; i < 500 && logged.length < count; i++) await new Promise((r) => setTimeout(r, 20));
    expect(logged.length).toBeGreaterThanOrEqual(count);
    expect(logged.filter((entry) => entry.status >= 500)).toEqual([]);
  };

  it.each([
    ['fewer bytes than the Content-Length', { 'content-length': 500 }, '{"content":"half a'],
    [
      'a chunked body without its last chunk',
      { 'transfer-encoding': 'chunked' },
      '12\r\n{"content":"half a m',
    ],
    ['a chunk cut inside', { 'transfer-encoding': 'chunked' }, '80\r\n{"content":"half a'],
  ])(
    '%s, then a half-close: 400 naming the body, and the server serves on',
    async (_label, framing, body) => {
      logged.length = 0;
      for (const path of ['/v1/ns/cut/memories', '/v1/ns/cut/search']) {
        const connection = await RawConnection.open(port);
        try {
          await connection.write(requestBytes('POST', path, { ...headers(), ...framing }, body));
          connection.endWriting();
          const answer = await connection.response();
          expect(answer?.status, path).toBe(400);
          expect(answer?.headers['content-type']).toMatch(/application\/json/);
          expect(JSON.parse(answer!.body).error, path).toEqual(CUT_OFF);
          expect(await connection.closedWithin(2000)).toBe(true);
        } finally {
          connection.destroy();
        }
      }
      await loggedWithout5xx(2);
      await stillServing();
    },
  );

  it.each([
    ['Content-Length', { 'content-length': 500 }, '{"content":"x'],
    ['chunked', { 'transfer-encoding': 'chunked' }, '40\r\n{"content":"x'],
  ])(
    'a client gone mid-body (%s) gets no answer (none can be sent); nothing is written and the server serves on',
    async (_label, framing, body) => {
      logged.length = 0;
      const connection = await RawConnection.open(port);
      await connection.write(requestBytes('POST', '/v1/ns/cut/memories', { ...headers(), ...framing }, body));
      await new Promise((r) => setTimeout(r, 50));
      connection.destroy();
      await loggedWithout5xx(1);
      expect(logged[0]).toMatchObject({ method: 'POST', path: '/v1/ns/cut/memories', status: 400 });
      await stillServing();
    },
  );

  it('a request already answered (401 before its body was read) gets no second answer when its body is cut off', async () => {
    const connection = await RawConnection.open(port);
    try {
      await connection.write(
        requestBytes(
          'POST',
          '/v1/ns/cut/memories',
          { authorization: 'Bearer nope', 'content-length': 500 },
          '{"content":"x',
        ),
      );
      const refused = await connection.response();
      expect(refused?.status).toBe(401);
      connection.endWriting();
      expect(await connection.closedWithin(2000)).toBe(true);
      expect(await connection.response(100)).toBeNull();
    } finally {
      connection.destroy();
    }
    await stillServing();
  });
});
