import { createHmac } from 'node:crypto';
import { sign } from 'hono/jwt';
import { describe, expect, it, vi } from 'vitest';
import { mintToken } from '../../src/edge/index.js';
import { SECRET, testApp } from './helpers.js';

const now = () => Math.floor(Date.now() / 1000);

describe('edge auth', () => {
  it('401 UNAUTHORIZED without a token, with a bad scheme, a bad signature or an expired token', async () => {
    const { call } = await testApp();
    const forged = await mintToken({ secret: 'another-secret-entirely-0123456789', ns: ['demo'] });
    const expired = await sign({ ns: ['demo'], exp: now() - 10 }, SECRET, 'HS256');
    const noNs = await sign({ exp: now() + 60 }, SECRET, 'HS256');
    const badNs = await sign({ ns: 'demo', exp: now() + 60 }, SECRET, 'HS256');
    const mixedNs = await sign({ ns: ['demo', 7], exp: now() + 60 }, SECRET, 'HS256');
    const hs512 = await sign({ ns: ['demo'], exp: now() + 60 }, SECRET, 'HS512');
    const early = await sign({ ns: ['demo'], nbf: now() + 3600 }, SECRET, 'HS256');
    const cases: Array<[string, string | null, string]> = [
      ['no header', null, 'missing Authorization'],
      ['garbage', 'not-a-jwt', 'invalid'],
      ['forged', forged, 'invalid'],
      ['expired', expired, 'expired'],
      ['no ns claim', noNs, '"ns" claim'],
      ['ns not a list', badNs, '"ns" claim'],
      ['ns not all names', mixedNs, '"ns" claim'],
      ['another algorithm', hs512, 'invalid'],
      ['not valid yet', early, 'not valid yet'],
    ];
    for (const [label, token, message] of cases) {
      const res = await call('GET', '/v1/ns/demo/memories', undefined, token);
      expect(res.status, label).toBe(401);
      expect(res.json.error.code, label).toBe('UNAUTHORIZED');
      expect(res.json.error.message, label).toContain(message);
      expect(res.headers.get('www-authenticate'), label).toBe('Bearer');
    }
    const basic = await testApp();
    const wrongScheme = await basic.app.request('/v1/ns/demo/memories', {
      headers: { authorization: `Basic ${basic.token}` },
    });
    expect(wrongScheme.status).toBe(401);
  });

  it('gives a time-based refusal only for a token this server verified; a bad signature reveals nothing of its claims', async () => {
    const { call } = await testApp();
    const INVALID = 'the token is invalid or not signed with this server secret';
    const OTHER_SECRET = 'another-secret-entirely-0123456789';
    /** The same token with one character of its signature changed (not just its unused low bits). */
    const tampered = (token: string) => {
      const at = token.lastIndexOf('.') + 5;
      return token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
    };
    const claims: Array<[string, Record<string, unknown>, string]> = [
      ['expired', { ns: ['demo'], exp: now() - 10 }, 'the token has expired; mint a new one'],
      [
        'not valid yet',
        { ns: ['demo'], nbf: now() + 3600 },
        'the token is not valid yet (its nbf is in the future, or this server clock is behind)',
      ],
      [
        'exp not a number',
        { ns: ['demo'], exp: 'tomorrow' },
        'the token has an exp claim that is not a number of seconds; mint a new one',
      ],
      [
        'nbf not a number',
        { ns: ['demo'], nbf: 'soon' },
        'the token has an nbf claim that is not a number of seconds; mint a new one',
      ],
    ];
    for (const [label, payload, refusal] of claims) {
      const own = await sign(payload, SECRET, 'HS256');
      const verified = await call('GET', '/v1/ns/demo/memories', undefined, own);
      expect(verified.status, label).toBe(401);
      expect(verified.json.error, label).toEqual({ code: 'UNAUTHORIZED', message: refusal });
      for (const [how, token] of [
        ['signed with another secret', await sign(payload, OTHER_SECRET, 'HS256')],
        ['with a tampered signature', tampered(own)],
      ]) {
        const res = await call('GET', '/v1/ns/demo/memories', undefined, token);
        expect(res.status, `${label}, ${how}`).toBe(401);
        expect(res.json.error, `${label}, ${how}`).toEqual({ code: 'UNAUTHORIZED', message: INVALID });
      }
    }
    // A payload that is no object of claims: 401 whoever signed it, never a 500.
    const noClaims = await sign(null as unknown as Record<string, unknown>, SECRET, 'HS256');
    expect((await call('GET', '/v1/ns/demo/memories', undefined, noClaims)).json.error).toEqual({
      code: 'UNAUTHORIZED',
      message: 'the token has no claims (its payload is not a JSON object)',
    });
    // A JSON array is no object of claims either, though it is an object to typeof.
    const listOfClaims = await sign(['demo'] as unknown as Record<string, unknown>, SECRET, 'HS256');
    expect((await call('GET', '/v1/ns/demo/memories', undefined, listOfClaims)).json.error).toEqual({
      code: 'UNAUTHORIZED',
      message: 'the token has no claims (its payload is not a JSON object)',
    });
    const foreignNoClaims = await sign(null as unknown as Record<string, unknown>, OTHER_SECRET, 'HS256');
    expect((await call('GET', '/v1/ns/demo/memories', undefined, foreignNoClaims)).json.error.message).toBe(
      INVALID,
    );
  });

  it('judges exp and nbf to the second as hono does: refused from exp on, good from nbf on', async () => {
    const second = 1_800_000_000;
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(second * 1000 + 500);
      const { call } = await testApp();
      const startsNow = await sign({ ns: ['demo'], nbf: second, exp: second + 1 }, SECRET, 'HS256');
      expect((await call('GET', '/v1/ns/demo/stats', undefined, startsNow)).status).toBe(200);
      // Claims in fractions of a second are judged against the whole second, as hono does.
      const endsWithinTheSecond = await sign({ ns: ['demo'], exp: second + 0.25 }, SECRET, 'HS256');
      expect((await call('GET', '/v1/ns/demo/stats', undefined, endsWithinTheSecond)).status).toBe(200);
      const endsNow = await sign({ ns: ['demo'], exp: second }, SECRET, 'HS256');
      const refused = await call('GET', '/v1/ns/demo/stats', undefined, endsNow);
      expect(refused.status).toBe(401);
      expect(refused.json.error.message).toBe('the token has expired; mint a new one');
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses an exp that JSON reads as Infinity: a token that never expires is minted without one', async () => {
    const { call } = await testApp();
    // hono's sign() writes Infinity as null, so the payload text is signed by hand.
    const b64url = (text: string | Buffer) => Buffer.from(text).toString('base64url');
    const unsigned = `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url('{"ns":["demo"],"exp":1e999}')}`;
    const token = `${unsigned}.${b64url(createHmac('sha256', SECRET).update(unsigned).digest())}`;
    const res = await call('GET', '/v1/ns/demo/stats', undefined, token);
    expect(res.status).toBe(401);
    expect(res.json.error.message).toBe(
      'the token has an exp claim that is not a number of seconds; mint a new one',
    );
  });

  it('refuses an Authorization header holding more than the scheme and one token', async () => {
    const { app, token } = await testApp();
    for (const authorization of [
      `Bearer ${token} ${token}`,
      `Bearer ${token} extra`,
      `Token Bearer ${token}`,
    ]) {
      const res = await app.request('/v1/ns/demo/stats', { headers: { authorization } });
      expect(res.status, authorization.replace(token, '<token>')).toBe(401);
    }
  });

  it('accepts the scheme in any case and a token without exp', async () => {
    const { app } = await testApp();
    const forever = await sign({ ns: ['demo'] }, SECRET, 'HS256');
    const res = await app.request('/v1/ns/demo/memories', {
      headers: { authorization: `bearer ${forever}` },
    });
    expect(res.status).toBe(200);
  });

  it('403 FORBIDDEN for a namespace the token does not grant, matching names exactly', async () => {
    const { call, token } = await testApp({ ns: ['ac', 'demo'] });
    expect((await call('GET', '/v1/ns/ac/memories')).status).toBe(200);
    for (const ns of ['acc', 'a', 'AC', 'ac.', 'demo2', 'de']) {
      const res = await call('GET', `/v1/ns/${ns}/memories`, undefined, token);
      expect(res.status, ns).toBe(403);
      expect(res.json.error).toMatchObject({ code: 'FORBIDDEN', field: 'namespace' });
    }
  });

  it('400 for a namespace name the SDK refuses, even when a hand-made token grants it', async () => {
    const { call } = await testApp();
    const token = await sign({ ns: ['bad name'], exp: now() + 60 }, SECRET, 'HS256');
    const res = await call('POST', '/v1/ns/bad%20name/memories', { content: 'x' }, token);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'VALIDATION', field: 'namespace' });
  });

  it('no route leaks across namespaces', async () => {
    const { app, store } = await testApp({ ns: ['alice'] });
    const alice = await mintToken({ secret: SECRET, ns: ['alice'] });
    const bob = await mintToken({ secret: SECRET, ns: ['bob'] });
    const as = (token: string) => async (method: string, path: string, body?: unknown) => {
      const res = await app.request(path, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, text, json: text ? JSON.parse(text) : undefined };
    };
    const asBob = as(bob);
    const asAlice = as(alice);
    await asBob('POST', '/v1/ns/bob/memories', [
      { id: 'b1', content: 'bob secret plans' },
      { id: 'b2', content: 'bob other secret' },
    ]);
    const bobLink = (await asBob('POST', '/v1/ns/bob/links', { from: 'b1', to: 'b2', type: 'rel' })).json;

    // Every route, aimed at bob's namespace with alice's token: refused before anything is read or written.
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/v1/ns/bob/memories'],
      ['POST', '/v1/ns/bob/memories', { content: 'intrusion' }],
      ['GET', '/v1/ns/bob/memories/b1'],
      ['PATCH', '/v1/ns/bob/memories/b1', { content: 'defaced' }],
      ['DELETE', '/v1/ns/bob/memories/b1'],
      ['POST', '/v1/ns/bob/search', { query: 'secret' }],
      ['POST', '/v1/ns/bob/links', { from: 'b1', to: 'b2', type: 'x' }],
      ['DELETE', `/v1/ns/bob/links/${bobLink.id}`],
      ['GET', '/v1/ns/bob/memories/b1/links'],
      ['GET', '/v1/ns/bob/memories/b1/neighbors'],
      ['GET', '/v1/ns/bob/path?from=b1&to=b2'],
      ['POST', '/v1/ns/bob/sync', { pull: { after: 0 }, get: { memories: ['b1'] } }],
    ];
    for (const [method, path, body] of routes) {
      const res = await asAlice(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.text).not.toContain('secret');
    }

    // The same ids through alice's own namespace find nothing of bob's.
    expect((await asAlice('GET', '/v1/ns/alice/memories/b1')).status).toBe(404);
    expect((await asAlice('GET', '/v1/ns/alice/memories')).json.items).toEqual([]);
    expect((await asAlice('POST', '/v1/ns/alice/search', { query: 'secret' })).json.hits).toEqual([]);
    expect((await asAlice('DELETE', `/v1/ns/alice/links/${bobLink.id}`)).status).toBe(404);
    expect((await asAlice('GET', '/v1/ns/alice/path?from=b1&to=b2')).status).toBe(404);
    const sync = await asAlice('POST', '/v1/ns/alice/sync', {
      pull: { after: 0 },
      get: { memories: ['b1'], links: [bobLink.id] },
    });
    expect(sync.json.pull.changes).toEqual([]);
    expect(sync.json.get).toEqual({ memories: [], links: [], tombstones: [] });
    const push = {
      memories: [
        {
          id: 'b1',
          values: { content: 'overwrite' },
          clocks: { content: `${Date.now().toString(16).padStart(12, '0')}-0000-evil` },
        },
      ],
    };
    expect((await asAlice('POST', '/v1/ns/alice/sync', { push })).json.push.rejected).toEqual(['b1']);

    // Bob's data is untouched.
    const [record] = await store.getMemories('bob', ['b1']);
    expect(record!.memory.content).toBe('bob secret plans');
    expect((await store.linksOf('bob', ['b1'], { direction: 'out' })).map((r) => r.link.id)).toEqual([
      bobLink.id,
    ]);
    expect((await asBob('GET', '/v1/ns/bob/memories')).json.items).toHaveLength(2);
  });

  it('leaves /health and the demo page open, and guards every /v1 path', async () => {
    const { app } = await testApp({ demo: true });
    expect((await app.request('/health')).status).toBe(200);
    expect((await app.request('/')).status).toBe(200);
    expect((await app.request('/v1/anything')).status).toBe(401);
    expect((await app.request('/v1/ns/demo/memories', { method: 'POST', body: '{}' })).status).toBe(401);
  });
});
