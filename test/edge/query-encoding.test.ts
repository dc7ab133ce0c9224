import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestLogEntry } from '../../src/edge/index.js';
import { testApp } from './helpers.js';
import { listenNode, RawConnection, requestBytes } from './raw-http.js';

const ENCODING = 'valid percent-encoding (%XX escapes of UTF-8 bytes; a literal % is %25)';

/** Request, parameter named in the error, and the raw text the error quotes back. */
const BROKEN: Array<[method: string, target: string, field: string, expected: string]> = [
  ['GET', '/v1/ns/demo/memories?kind=%E0%A4%A', 'query.kind', `a value in ${ENCODING}, got "%E0%A4%A"`],
  ['GET', '/v1/ns/demo/memories?limit=2&kind=%zz', 'query.kind', `a value in ${ENCODING}, got "%zz"`],
  ['GET', '/v1/ns/demo/memories?kind=%FF', 'query.kind', `a value in ${ENCODING}, got "%FF"`],
  ['GET', '/v1/ns/demo/memories?kind=50%', 'query.kind', `a value in ${ENCODING}, got "50%"`],
  ['GET', '/v1/ns/demo/memories?metadata.%zz=1', 'query.metadata.%zz', `a parameter name in ${ENCODING}`],
  // The name as the server reads it: + is a space.
  ['GET', '/v1/ns/demo/memories?metadata.my+key=%zz', 'query.metadata.my key', `a value in ${ENCODING}`],
  ['POST', '/v1/ns/demo/search?q=%zz', 'query.q', `a value in ${ENCODING}, got "%zz"`],
  ['POST', '/v1/ns/demo/search?now=%E0%A4%A', 'query.now', `a value in ${ENCODING}`],
  ['GET', '/v1/ns/demo/count?tags=a,%E0', 'query.tags', `a value in ${ENCODING}, got "a,%E0"`],
  ['GET', '/v1/ns/demo/path?from=a&to=%zz', 'query.to', `a value in ${ENCODING}`],
  ['DELETE', '/v1/ns/demo/memories?kind=%zz', 'query.kind', `a value in ${ENCODING}`],
];

describe('a query string with broken percent-encoding', () => {
  it.each(BROKEN)('%s %s is 400 naming the parameter', async (method, target, field, expected) => {
    const logged: RequestLogEntry[] = [];
    const { call } = await testApp({ logger: (entry) => logged.push(entry) });
    expect((await call('POST', '/v1/ns/demo/memories', { content: 'kept', kind: 'note' })).status).toBe(201);
    const res = await call(method, target, method === 'POST' ? { query: 'kept' } : undefined);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'VALIDATION', field });
    expect(res.json.error.message).toContain(`${field}: expected ${expected}`);
    expect(logged.filter((entry) => entry.status >= 500)).toEqual([]);
    // Nothing was done: DELETE /memories?kind=%zz cleared nothing.
    expect((await call('GET', '/v1/ns/demo/count')).json).toEqual({ count: 1 });
  });

  it('is refused before auth, on /health too: it is bad input wherever it is sent', async () => {
    const { call } = await testApp();
    const anonymous = await call('GET', '/v1/ns/demo/memories?kind=%zz', undefined, null);
    expect(anonymous.status).toBe(400);
    expect(anonymous.json.error.field).toBe('query.kind');
    const health = await call('GET', '/health?probe=%zz');
    expect(health.status).toBe(400);
    expect(health.json.error.field).toBe('query.probe');
  });

  it('valid escapes, + for a space and %25 for a literal % still read as meant', async () => {
    const { call } = await testApp();
    for (const kind of ['café', 'two words', '100%']) {
      expect((await call('POST', '/v1/ns/demo/memories', { content: kind, kind })).status).toBe(201);
    }
    const kinds = async (target: string) => {
      const res = await call('GET', target);
      expect(res.status, target).toBe(200);
      return res.json.items.map((m: { kind: string }) => m.kind);
    };
    expect(await kinds('/v1/ns/demo/memories?kind=caf%C3%A9')).toEqual(['café']);
    expect(await kinds('/v1/ns/demo/memories?kind=two+words')).toEqual(['two words']);
    expect(await kinds('/v1/ns/demo/memories?kind=two%20words')).toEqual(['two words']);
    expect(await kinds('/v1/ns/demo/memories?kind=100%25')).toEqual(['100%']);
  });

  describe('on the Node server', () => {
    let close = async () => {};
    let port = 0;
    let token = '';
    beforeAll(async () => {
      const made = await testApp();
      token = made.token;
      ({ port, close } = await listenNode(made.app.fetch));
    });
    afterAll(() => close());

    it('answers each broken query string 400 naming the parameter, sent byte for byte', async () => {
      const connection = await RawConnection.open(port);
      try {
        for (const [method, target, field] of BROKEN) {
          const body = method === 'POST' ? JSON.stringify({ query: 'x' }) : '';
          const headers = {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'content-length': body.length,
          };
          await connection.write(requestBytes(method, target, headers, body));
          const answer = await connection.response();
          expect(answer?.status, target).toBe(400);
          expect(JSON.parse(answer!.body).error, target).toMatchObject({ code: 'VALIDATION', field });
        }
        await connection.write(requestBytes('GET', '/health'));
        expect((await connection.response())?.status).toBe(200);
      } finally {
        connection.destroy();
      }
    });
  });
});
