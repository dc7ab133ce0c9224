import { describe, expect, it } from 'vitest';
import type { RequestLogEntry } from '../../src/edge/index.js';
import { testApp } from './helpers.js';
import { listenNode, RawConnection, requestBytes } from './raw-http.js';

/** Paths as a client sends them: each must reach the log byte for byte, its escapes never decoded. */
const RAW_PATHS = [
  // Decoded, the %0A would end the log line and start a forged one.
  '/v1/ns/demo/memories/x%0AGET%20%2Fv1%2Fns%2Fadmin%2Fmemories%20200%201ms',
  '/v1/ns/demo/memories/a%0D%0Ab',
  '/v1/ns/demo/memories/caf%C3%A9',
  '/v1/ns/demo/memories/%E0%A4%A',
  '/v1/ns/demo/memories/%zz',
  '/v1/ns/demo/memories/100%25',
  '/v1/ns/de%6Do/memories',
  '/nowhere/%2F%2e%2e',
];
/** What a URL parser would rewrite (dot segments, quotes), so only a raw request line carries them as written. */
const NODE_ONLY = ['/v1/ns/demo/../demo/memories/%0A', '/nowhere/"quoted"<b>'];

describe('the request log records the path as the client sent it', () => {
  it.each(RAW_PATHS)('%s, over the app', async (path) => {
    const logged: RequestLogEntry[] = [];
    const { call } = await testApp({ logger: (entry) => logged.push(entry) });
    const res = await call('GET', `${path}?kind=secret%0Akind`);
    expect(res.status).toBeLessThan(500);
    expect(logged).toHaveLength(1);
    expect(logged[0]!.path).toBe(path);
    expect(logged[0]!.path).not.toMatch(/[\r\n]/);
  });

  it('over the Node server, every path on one connection, never a line break in an entry', async () => {
    const logged: RequestLogEntry[] = [];
    const { app, token } = await testApp({ logger: (entry) => logged.push(entry) });
    const server = await listenNode(app.fetch);
    const connection = await RawConnection.open(server.port);
    try {
      for (const path of [...RAW_PATHS, ...NODE_ONLY]) {
        await connection.write(requestBytes('GET', path, { authorization: `Bearer ${token}` }));
        const answer = await connection.response();
        expect(answer?.status, path).toBeLessThan(500);
      }
    } finally {
      connection.destroy();
      await server.close();
    }
    expect(logged.map((entry) => entry.path)).toEqual([...RAW_PATHS, ...NODE_ONLY]);
    const lines = logged.map(({ method, path, status, ms }) => `${method} ${path} ${status} ${ms}ms`);
    expect(lines.join('\n').split('\n')).toHaveLength(RAW_PATHS.length + NODE_ONLY.length);
  });
});
