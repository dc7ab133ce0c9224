import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DemoSession } from '../../src/demo/demo-session.js';
import type { DemoConfig } from '../../src/edge/demo.js';

// The demo page's token handling in real Chromium (its localStorage), against a scripted server: which
// token each request carries, and when /demo/config is asked again.
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

function scriptedServer(configs: Array<DemoConfig | 'down'>, api: (token: string) => number) {
  const seen: string[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    if (url === '/demo/config') {
      const next = configs.shift();
      seen.push('config');
      if (next === undefined || next === 'down') throw new TypeError('Failed to fetch');
      return Response.json(next);
    }
    const token = new Headers(init?.headers).get('authorization')!.replace('Bearer ', '');
    seen.push(token);
    return new Response(null, { status: api(token) });
  });
  vi.stubGlobal('fetch', fetch);
  return seen;
}

beforeEach(() => localStorage.clear());
afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
});

describe("the demo page's session", () => {
  it('asks for a new token once on a 401 and retries with it', async () => {
    const seen = scriptedServer(
      [
        { namespace: 'demo', token: 'old', expiresAt: inAnHour() },
        { namespace: 'demo', token: 'new', expiresAt: inAnHour() },
      ],
      (token) => (token === 'new' ? 200 : 401),
    );
    const session = await DemoSession.start();
    expect((await session.fetch('/v1/sync', {})).status).toBe(200);
    expect(seen).toEqual(['config', 'old', 'config', 'new']);
    expect(session.token).toBe('new');
  });

  it('renews a token about to expire before using it', async () => {
    const seen = scriptedServer(
      [
        { namespace: 'demo', token: 'expiring', expiresAt: new Date(Date.now() + 5_000).toISOString() },
        { namespace: 'demo', token: 'fresh', expiresAt: inAnHour() },
      ],
      () => 200,
    );
    const session = await DemoSession.start();
    await session.fetch('/v1/sync', {});
    expect(seen).toEqual(['config', 'config', 'fresh']);
  });

  it('opens on the last token when the server cannot be reached, and fails with none saved', async () => {
    scriptedServer(['down'], () => 200);
    await expect(DemoSession.start()).rejects.toThrow('Failed to fetch');

    scriptedServer([{ namespace: 'demo', token: 'saved', expiresAt: inAnHour() }, 'down'], () => 200);
    await DemoSession.start();
    const offline = await DemoSession.start();
    expect([offline.namespace, offline.token]).toEqual(['demo', 'saved']);
  });
});
