import { env, exports } from 'cloudflare:workers';
import { sign } from 'hono/jwt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mintToken } from '../../src/edge/token.js';

// Refusals of bad requests in workerd, as test/edge checks them on Node: the same app, another runtime.
const worker = exports.default;
const ns = `edges-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const base = 'https://engram.test';
const seconds = () => Math.floor(Date.now() / 1000);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('bad requests on Workers', () => {
  it('a query string with broken percent-encoding is 400 naming the parameter', async () => {
    const token = await mintToken({ secret: env.ENGRAM_SECRET, ns: [ns] });
    const auth = { authorization: `Bearer ${token}` };
    const cases: Array<[string, string, string]> = [
      ['GET', `/v1/ns/${ns}/memories?kind=%E0%A4%A`, 'query.kind'],
      ['GET', `/v1/ns/${ns}/count?kind=%zz`, 'query.kind'],
      ['POST', `/v1/ns/${ns}/search?q=%zz`, 'query.q'],
    ];
    for (const [method, path, field] of cases) {
      const res = await worker.fetch(`${base}${path}`, {
        method,
        headers: { ...auth, 'content-type': 'application/json' },
        body: method === 'POST' ? JSON.stringify({ query: 'x' }) : undefined,
      });
      expect(res.status, path).toBe(400);
      expect((await res.json()) as unknown, path).toMatchObject({ error: { code: 'VALIDATION', field } });
    }
    const fine = await worker.fetch(`${base}/v1/ns/${ns}/memories?kind=caf%C3%A9`, { headers: auth });
    expect(fine.status).toBe(200);
  });

  it('a known path asked with a method it does not serve is 405 with Allow; preflights still pass', async () => {
    const token = await mintToken({ secret: env.ENGRAM_SECRET, ns: [ns] });
    const cases: Array<[string, string, string]> = [
      ['PUT', `/v1/ns/${ns}/search`, 'POST, OPTIONS'],
      ['DELETE', '/health', 'GET, HEAD, OPTIONS'],
      ['PUT', `/v1/ns/${ns}/memories/x`, 'GET, HEAD, PATCH, DELETE, OPTIONS'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await worker.fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect((await res.json()) as unknown).toMatchObject({ error: { code: 'VALIDATION', field: 'method' } });
    }
    const unknown = await worker.fetch(`${base}/v1/ns/${ns}/nowhere`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(unknown.status).toBe(404);
    const preflight = await worker.fetch(`${base}/v1/ns/${ns}/search`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
  });

  it('tells expired from invalid only for a token this server signed', async () => {
    const expired = { ns: [ns], exp: seconds() - 10 };
    const refusal = async (token: string) => {
      const res = await worker.fetch(`${base}/v1/ns/${ns}/memories`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(401);
      return ((await res.json()) as { error: { message: string } }).error.message;
    };
    expect(await refusal(await sign(expired, env.ENGRAM_SECRET, 'HS256'))).toBe(
      'the token has expired; mint a new one',
    );
    expect(await refusal(await sign(expired, 'someone-elses-secret-0123456789abcdef', 'HS256'))).toBe(
      'the token is invalid or not signed with this server secret',
    );
  });

  // workerd hands the Worker such a body as one that ends early (the app reads malformed JSON), where Node
  // makes the stream fail; either way the answer is a 400 naming the body. (workerd also prints the
  // test's own stream error as an "uncaught exception" on the calling side.)
  it('a body that fails before its end is 400 naming the body, not a 500', async () => {
    const token = await mintToken({ secret: env.ENGRAM_SECRET, ns: [ns] });
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"content":"half a'));
        controller.error(new Error('aborted'));
      },
    });
    const res = await worker.fetch(`${base}/v1/ns/${ns}/memories`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(400);
    expect((await res.json()) as unknown).toMatchObject({ error: { code: 'VALIDATION', field: 'body' } });
    const count = await worker.fetch(`${base}/v1/ns/${ns}/count`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect((await count.json()) as unknown).toEqual({ count: 0 });
  });

  it('logs the path as sent, never decoded', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    const token = await mintToken({ secret: env.ENGRAM_SECRET, ns: [ns] });
    const path = `/v1/ns/${ns}/memories/x%0AGET%20%2Fforged%20200`;
    await worker.fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const logged = lines.filter((line) => line.includes(ns));
    expect(logged).toHaveLength(1);
    expect(logged[0]!.startsWith(`GET ${path} 400 `)).toBe(true);
  });
});
