import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { decode } from 'hono/jwt';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { cli } from './helpers.js';

// Each case starts a server process on PGlite (~3.5 s idle, several times that on a loaded machine):
// 14 s measured for the longest in CI, too close to the default 30 s.
vi.setConfig({ testTimeout: 120_000 });

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-serve-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// Cases about flags, secrets and shutdown rather than the store serve on the real Postgres when there is
// one (it opens in well under a second; PGlite takes 4-6 s here, twice that under CI's load); the cases
// about PGlite itself always use it.
const anyStore: Record<string, string> = process.env.DATABASE_URL
  ? { DATABASE_URL: process.env.DATABASE_URL }
  : {};

async function started(argv: string[], env: Record<string, string> = {}) {
  const run = cli(['serve', '--port', '0', ...argv], env);
  const base = (await run.line(/^engram: API on /)).match(/(http:\/\/[^/]+)/)![1]!;
  return { ...run, base };
}

describe('engram serve', () => {
  it('serves on PGlite with a dev secret and token, then stops cleanly on SIGTERM', async () => {
    const data = tempDir();
    const server = await started(['--data', data]);
    const token = await server.line(/^ey/);
    expect(server.out.join('\n')).toContain('curl -H "Authorization: Bearer');
    expect(server.out).toContain('Dev token for namespaces default, demo (valid 30 days):');
    const { payload } = decode(token);
    expect(payload.exp! - payload.iat!).toBe(30 * 24 * 3600);
    expect(readFileSync(join(data, 'dev-secret'), 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);

    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const made = await fetch(`${server.base}/v1/ns/demo/memories`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ id: 'kept', content: 'survives a restart' }),
    });
    expect(made.status).toBe(201);
    expect((await fetch(`${server.base}/health`)).status).toBe(200);
    // The built demo page when `npm run build` has bundled it, else the placeholder saying so.
    expect(await (await fetch(`${server.base}/`)).text()).toMatch(
      /data-testid="memory-list"|Engram is running/,
    );
    expect(server.out).toContainEqual(expect.stringMatching(/^POST \/v1\/ns\/demo\/memories 201 \d+ms$/));

    server.stop();
    expect(await server.exit).toBe(0);
    expect(server.err.at(-1)).toBe('engram: stopped');

    // Closed cleanly: the raw database opens and holds the row.
    const db = await PGlite.create(join(data, 'pglite'));
    const { rows } = await db.query<{ content: string }>(
      "SELECT content FROM engram_memories WHERE ns = 'demo' AND id = 'kept'",
    );
    expect(rows).toEqual([{ content: 'survives a restart' }]);
    await db.close();

    // The dev secret is kept: the first token still works after a restart.
    const again = await started(['--data', data, '--no-demo']);
    const got = await fetch(`${again.base}/v1/ns/demo/memories/kept`, { headers });
    expect((await got.json()).content).toBe('survives a restart');
    expect((await fetch(`${again.base}/`)).status).toBe(404);
    again.stop();
    expect(await again.exit).toBe(0);
  });

  it('warns on stderr when the given secret is shorter than 32 characters, and serves', async () => {
    const warning = (length: number) =>
      `engram: warning: the secret is ${length} characters long; a secret shorter than 32 characters can be guessed from any token it signed, and whoever guesses it can mint tokens for every namespace (use a random one: openssl rand -hex 32)`;
    const cases: Array<[string[], Record<string, string>, string[]]> = [
      [['--secret', 'short-secret'], {}, [warning(12)]],
      [[], { ENGRAM_SECRET: 'thirty-one-characters-secret-xx' }, [warning(31)]],
      [['--secret', 'thirty-two-characters-secret-xyz'], {}, []],
      // --secret is taken over ENGRAM_SECRET.
      [['--secret', 'thirty-two-characters-secret-xyz'], { ENGRAM_SECRET: 'short' }, []],
    ];
    for (const [flags, env, warned] of cases) {
      const server = await started(['--data', tempDir(), '--no-demo', ...flags], { ...anyStore, ...env });
      expect(server.err).toEqual(warned);
      expect((await fetch(`${server.base}/health`)).status).toBe(200);
      server.stop();
      expect(await server.exit).toBe(0);
      expect(server.err.slice(0, -2)).toEqual(warned);
    }
  });

  it('on every interface shows a loopback URL and warns of the dev secret; --rate-limit 0 is no limit', async () => {
    const server = await started(
      ['--data', tempDir(), '--no-demo', '--host', '0.0.0.0', '--rate-limit', '0'],
      anyStore,
    );
    expect(server.base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const token = await server.line(/^ey/);
    expect(server.err).toEqual([
      'engram: warning: a dev secret on a non-loopback interface; set ENGRAM_SECRET for anything shared',
    ]);
    // No limit at all: a burst of requests from one token is answered in full.
    for (let i = 0; i < 5; i++) {
      const listed = await fetch(`${server.base}/v1/ns/demo/memories`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(listed.status).toBe(200);
    }
    server.stop();
    expect(await server.exit).toBe(0);
  });

  it('--rate-limit N answers the request past N within a minute 429', async () => {
    const secret = 's'.repeat(32);
    const server = await started(
      ['--data', tempDir(), '--secret', secret, '--no-demo', '--rate-limit', '2'],
      anyStore,
    );
    const tokenRun = cli(['token', '--secret', secret, '--ns', 'demo']);
    await tokenRun.exit;
    const list = () =>
      fetch(`${server.base}/v1/ns/demo/memories`, {
        headers: { authorization: `Bearer ${tokenRun.out[0]}` },
      });
    expect((await list()).status).toBe(200);
    expect((await list()).status).toBe(200);
    // A minute's allowance is not back a moment later.
    await new Promise((r) => setTimeout(r, 200));
    const refused = await list();
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    server.stop();
    expect(await server.exit).toBe(0);
  });

  const ipv6 = Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === '::1'));
  it.skipIf(!ipv6)(
    'on IPv6 shows a URL that works: [::1] for its loopback, 127.0.0.1 for every interface (skipped: no IPv6 here)',
    async () => {
      for (const [host, shown, warned] of [
        ['::1', /^http:\/\/\[::1\]:\d+$/, false],
        ['::', /^http:\/\/127\.0\.0\.1:\d+$/, true],
      ] as const) {
        const server = await started(['--data', tempDir(), '--no-demo', '--host', host], anyStore);
        expect(server.base, host).toMatch(shown);
        await server.line(/^ey/);
        expect(server.err.length, host).toBe(warned ? 1 : 0);
        expect((await fetch(`${server.base}/health`)).status).toBe(200);
        server.stop();
        expect(await server.exit).toBe(0);
      }
    },
  );

  it('finishes a request in flight before stopping', async () => {
    const secret = 'serve-test-secret';
    const server = await started(['--data', tempDir(), '--secret', secret], anyStore);
    expect(server.out.join('\n')).not.toContain('Dev token');
    const tokenRun = cli(['token', '--secret', secret, '--ns', 'demo']);
    await tokenRun.exit;
    const url = new URL(`${server.base}/v1/ns/demo/memories`);
    const body = JSON.stringify({ content: 'sent slowly, during shutdown' });
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${tokenRun.out[0]}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => {
        server.stop();
        setTimeout(() => req.end(body.slice(10)), 200);
      }, 200);
    });
    const res = await answer;
    expect(res.status).toBe(201);
    expect(JSON.parse(res.text).content).toBe('sent slowly, during shutdown');
    expect(await server.exit).toBe(0);
    await expect(fetch(`${server.base}/health`)).rejects.toThrow();
  });

  it('exits 1 with one line when the port is taken or the database is unreachable', async () => {
    const first = await started(['--data', tempDir(), '--secret', 's'], anyStore);
    const port = new URL(first.base).port;
    // On PGlite: the store it opened is closed again, so its directory is free for the next server.
    const clashData = tempDir();
    const clash = cli(['serve', '--port', port, '--data', clashData, '--secret', 's']);
    expect(await clash.exit).toBe(1);
    expect(clash.err).toEqual([expect.stringMatching(/port \d+ on 127\.0\.0\.1 is already in use/)]);
    first.stop();
    await first.exit;
    const next = await started(['--data', clashData, '--secret', 's', '--no-demo']);
    next.stop();
    expect(await next.exit).toBe(0);

    const noDb = cli(['serve', '--port', '0', '--secret', 's'], {
      DATABASE_URL: 'postgres://nobody:x@127.0.0.1:1/none',
    });
    expect(await noDb.exit).toBe(1);
    expect(noDb.err).toHaveLength(1);
    expect(noDb.err[0]).toMatch(/cannot open the store \(Postgres at postgres:\/\/127\.0\.0\.1:1\/none\)/);
    expect(noDb.err[0]).not.toContain('nobody:x');
    // A URL that is no URL at all to a parser still keeps its password out of the message.
    const badUrl = cli(['serve', '--port', '0', '--secret', 's'], {
      DATABASE_URL: 'postgres://nobody:x@no host:1/none',
    });
    expect(await badUrl.exit).toBe(1);
    expect(badUrl.err).toEqual([expect.stringMatching(/cannot open the store \(Postgres at DATABASE_URL\)/)]);
    expect(badUrl.err[0]).not.toContain('nobody:x');
  });

  it('exits 2 naming --data when it is a file, and --host when this machine has no such address', async () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'not a directory');
    // --data holds the dev secret on Postgres too.
    const calls: Array<[string[], Record<string, string>]> = [
      [[], {}],
      [['--secret', 's'], {}],
      [[], anyStore],
    ];
    for (const [secret, env] of calls) {
      const run = cli(['serve', '--port', '0', '--data', file, ...secret], env);
      expect(await run.exit).toBe(2);
      expect(run.err).toEqual([
        `engram serve: --data: ${JSON.stringify(file)} is not a directory (see engram serve --help)`,
      ]);
    }
    for (const host of ['not a host', '192.0.2.1']) {
      const run = cli(
        ['serve', '--port', '0', '--data', tempDir(), '--secret', 's', '--no-demo', '--host', host],
        anyStore,
      );
      expect(await run.exit, host).toBe(2);
      expect(run.err).toHaveLength(1);
      expect(run.err[0]).toMatch(
        new RegExp(
          `^engram serve: --host: cannot listen on "${host}" \\(.+\\) \\(see engram serve --help\\)$`,
        ),
      );
    }
  });

  it('refuses a second server on a PGlite directory in use, until the first one stops', async () => {
    const data = tempDir();
    const first = await started(['--data', data, '--secret', 's', '--no-demo']);
    const second = cli(['serve', '--port', '0', '--data', data, '--secret', 's', '--no-demo']);
    expect(await second.exit).toBe(1);
    expect(second.out).toEqual([]);
    expect(second.err).toEqual([
      expect.stringMatching(/^engram serve: \S+pglite is in use by another server in this process/),
    ]);
    first.stop();
    expect(await first.exit).toBe(0);
    const again = await started(['--data', data, '--secret', 's', '--no-demo']);
    again.stop();
    expect(await again.exit).toBe(0);
  });

  it('stops cleanly when SIGTERM comes while it is still starting', async () => {
    const run = cli(['serve', '--port', '0', '--data', tempDir(), '--secret', 's'.repeat(32), '--no-demo']);
    run.stop();
    expect(await run.exit).toBe(0);
    expect(run.err.at(-1)).toBe('engram: stopped');
  });

  it('exits 2 with the help hint on a bad --rate-limit, before opening anything', async () => {
    for (const value of ['abc', '-1', '1.5', '', '99999999999999999999']) {
      const data = tempDir();
      const run = cli(['serve', '--port', '0', '--data', data, '--secret', 's', `--rate-limit=${value}`]);
      expect(await run.exit, value).toBe(2);
      expect(run.err).toEqual([
        `engram serve: --rate-limit: expected a whole number of requests per minute (0 = off), got ${JSON.stringify(value)} (see engram serve --help)`,
      ]);
      expect(existsSync(join(data, 'pglite'))).toBe(false);
    }
  });

  it.skipIf(!process.env.DATABASE_URL)(
    'tells the event streams of one server of a write through another on its Postgres, and ends them on SIGTERM (skipped: DATABASE_URL is not set)',
    async () => {
      const env = { DATABASE_URL: process.env.DATABASE_URL! };
      const secret = 's'.repeat(32);
      const ns = `live-${crypto.randomUUID().slice(0, 8)}`;
      const a = await started(['--data', tempDir(), '--secret', secret, '--no-demo'], env);
      const b = await started(['--data', tempDir(), '--secret', secret, '--no-demo'], env);
      const tokenRun = cli(['token', '--secret', secret, '--ns', ns]);
      await tokenRun.exit;
      const auth = { authorization: `Bearer ${tokenRun.out[0]}` };
      const events = await fetch(`${a.base}/v1/ns/${ns}/events`, { headers: auth });
      expect(events.status).toBe(200);
      const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      const until = async (pattern: RegExp) => {
        while (!pattern.test(text)) {
          const { done, value } = await reader.read();
          if (done) break;
          text += value;
        }
        expect(text).toMatch(pattern);
      };
      await until(/event: ready/);
      const made = await fetch(`${b.base}/v1/ns/${ns}/memories`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'written through the other server' }),
      });
      expect(made.status).toBe(201);
      await until(/event: change/);
      // Stopping ends the stream (its client reconnects elsewhere), not its connection after the drain.
      a.stop();
      while (!(await reader.read()).done) {}
      expect(await a.exit).toBe(0);
      b.stop();
      expect(await b.exit).toBe(0);
    },
  );

  it.skipIf(!process.env.DATABASE_URL)(
    'serves from DATABASE_URL when set (skipped: DATABASE_URL is not set)',
    async () => {
      const server = await started(['--data', tempDir(), '--secret', 's'], {
        DATABASE_URL: process.env.DATABASE_URL!,
      });
      expect(server.out[0]).toContain('store: Postgres at');
      const health = await (await fetch(`${server.base}/health`)).json();
      expect(health).toMatchObject({ ok: true, store: 'postgres' });
      server.stop();
      expect(await server.exit).toBe(0);
    },
  );
});
