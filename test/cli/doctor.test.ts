import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemory, EngramError, InMemoryStore, type TextPosting } from '../../src/index.js';
import { buildBinary, closedPort, runBinary, startEdge } from './fixtures.js';
import { cli } from './helpers.js';

/** A server whose text index answers nothing: every write works, every search comes back empty. */
class BlindStore extends InMemoryStore {
  override async postings(): Promise<TextPosting[]> {
    return [];
  }
}

/** A database that is down: /health answers 503, and so does every request that reaches the store. */
class DownStore extends InMemoryStore {
  override async getMeta(): Promise<never> {
    throw new EngramError('STORAGE', 'connection refused');
  }
  override async apply(): Promise<never> {
    throw new EngramError('STORAGE', 'connection refused');
  }
}

let bin: string;
const edges: Array<Awaited<ReturnType<typeof startEdge>>> = [];
const started = async (store = new InMemoryStore()) => {
  const edge = await startEdge({ store });
  edges.push(edge);
  return edge;
};
beforeAll(async () => {
  bin = await buildBinary('doctor');
});
afterAll(async () => {
  await Promise.all(edges.map((e) => e.close()));
});

describe('engram doctor', () => {
  it('healthy: prints a latency table and a verdict, exits 0 and leaves no records behind', async () => {
    const edge = await started();
    // With no --ns, the records go to the first namespace the token grants.
    const token = await edge.token(['ops', 'other']);
    const run = cli(['doctor', '--url', edge.url, '--token', token, '--count', '7']);
    expect(await run.exit, run.err.join('\n')).toBe(0);
    expect(run.err).toEqual([]);
    const [header, ...rows] = run.out;
    expect(header).toMatch(/^step\s+ok\s+p50\s+max$/);
    expect(rows.slice(0, -1).map((r) => r.split(/\s+/).slice(0, 2))).toEqual([
      ['health', '1/1'],
      ['write', '7/7'],
      ['read', '7/7'],
      ['list', '1/1'],
      ['search', '7/7'],
      ['delete', '7/7'],
      ['gone', '7/7'],
    ]);
    for (const row of rows.slice(0, -1)) expect(row).toMatch(/\d ms\s+[\d.]+ ms$/);
    expect(run.out.at(-1)).toBe(
      `healthy: 7 records written, read back, listed, searched and deleted in ns "ops" at ${edge.url}`,
    );
    const server = await createMemory({ store: edge.store, namespace: 'ops' });
    expect((await server.list()).items).toEqual([]);
  });

  it('partly healthy: a step that returns wrong data is exit 1, and the records are still removed', async () => {
    const edge = await started(new BlindStore());
    const run = cli([
      'doctor',
      '--url',
      `${edge.url}/`,
      '--token',
      await edge.token(['a', 'b']),
      '--ns',
      'b',
    ]);
    expect(await run.exit).toBe(1);
    expect(run.out.find((l) => l.startsWith('search'))).toMatch(/^search\s+0\/20 .*not found by its word$/);
    expect(run.out.at(-1)).toMatch(
      /^partly healthy: search 0\/20 \(engram-doctor-\w+-0 not found by its word\)$/,
    );
    const server = await createMemory({ store: edge.store, namespace: 'b' });
    expect((await server.list()).items).toEqual([]);
  });

  it('checks a namespace indexed in another language in that language', async () => {
    const edge = await started();
    const german = await createMemory({ store: edge.store, namespace: 'ops', language: 'german' });
    await german.add({ content: 'die Häuser am Fluss' });
    const run = cli(['doctor', '--url', edge.url, '--token', await edge.token(['ops']), '--count', '3']);
    expect(await run.exit, [...run.err, ...run.out].join('\n')).toBe(0);
    expect(run.out.at(-1)).toMatch(/^healthy: 3 records/);
    expect((await german.list()).items.map((m) => m.content)).toEqual(['die Häuser am Fluss']);
  });

  it('a database that is down: exit 1 with the table and a verdict naming each failing step', async () => {
    const edge = await started(new DownStore());
    const run = cli(['doctor', '--url', edge.url, '--token', await edge.token(['ops']), '--count', '3']);
    expect(await run.exit).toBe(1);
    expect(run.err).toEqual([]);
    const [header, ...rows] = run.out;
    expect(header).toMatch(/^step\s+ok\s+p50\s+max$/);
    expect(rows.slice(0, -1).map((r) => r.split(/\s+/).slice(0, 2))).toEqual([
      ['health', '0/1'],
      ['write', '0/1'],
      ['read', '0/0'],
      ['list', '0/0'],
      ['search', '0/0'],
      ['delete', '0/0'],
      ['gone', '0/0'],
    ]);
    expect(rows[0]).toMatch(/HTTP 503: the store is unreachable/);
    expect(rows[2]).toMatch(/^read\s+0\/0\s+-\s+-\s+not run$/);
    expect(run.out.at(-1)).toMatch(
      /^unhealthy: health 0\/1 \(HTTP 503: .*\); write 0\/1 \(the store failed to answer.*\)$/,
    );
  });

  it('exits 2 with a one-line reason when misconfigured or unreachable', async () => {
    const edge = await started();
    const other = await startEdge({ secret: 'another-secret' });
    edges.push(other);
    const notEngram = createServer((_, res) => res.writeHead(404).end('<h1>nope</h1>'));
    await new Promise<void>((ready) => notEngram.listen(0, '127.0.0.1', ready));
    const plainUrl = `http://127.0.0.1:${(notEngram.address() as AddressInfo).port}`;
    const good = await edge.token(['ops']);
    const cases: Array<[string[], RegExp]> = [
      [
        ['--url', edge.url, '--token', await other.token(['ops'])],
        /misconfigured: the server refused the token: .*not signed with this server secret/,
      ],
      [
        ['--url', edge.url, '--token', good, '--ns', 'elsewhere'],
        /refused the token: .*does not grant "elsewhere"/,
      ],
      [
        ['--url', await closedPort(), '--token', good],
        /^engram doctor: unreachable: no answer from http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/,
      ],
      [['--url', plainUrl, '--token', good], /answered HTTP 404, not Engram's health check/],
      [['--url', edge.url], /missing --token/],
      [['--url', 'ftp://x', '--token', good], /--url: expected an http\(s\) URL/],
      [['--url', edge.url, '--token', good, '--count', '0'], /--count: expected 1-1000/],
      [['--url', edge.url, '--token', good, '--count', '1001'], /--count: expected 1-1000, got "1001"/],
      [['--url', edge.url, '--token', good, '--timeout', '0ms'], /--timeout: expected a duration/],
      [['--url', edge.url, '--token', 'opaque'], /--ns: the token names no namespaces/],
    ];
    for (const [argv, message] of cases) {
      const run = cli(['doctor', ...argv]);
      expect(await run.exit, argv.join(' ')).toBe(2);
      expect(run.err, argv.join(' ')).toEqual([expect.stringMatching(message)]);
      expect(run.out).toEqual([]);
    }
    notEngram.close();
  });

  it('reads a bare --timeout as seconds, and a health check saying ok with an error status as failed', async () => {
    // Answers /health only after 1.5 s: within a second's timeout it is unreachable.
    const slow = createServer((_, res) => {
      setTimeout(() => res.writeHead(503, { 'content-type': 'application/json' }).end('{"ok":true}'), 1500);
    });
    await new Promise<void>((ready) => slow.listen(0, '127.0.0.1', ready));
    const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    const token = await (await started()).token(['ops']);
    const hurried = cli(['doctor', '--url', url, '--token', token, '--timeout', '1']);
    expect(await hurried.exit).toBe(2);
    expect(hurried.err).toEqual([expect.stringMatching(/unreachable: .*no answer within 1000 ms$/)]);
    // Given time, it answers {"ok":true} with HTTP 503: not healthy, whatever the body says.
    const patient = cli(['doctor', '--url', url, '--token', token, '--timeout', '3000ms', '--count', '1']);
    expect(await patient.exit).toBe(1);
    expect(patient.out[1]).toMatch(/^health\s+0\/1 .*HTTP 503: not ok$/);
    slow.close();
  });

  it('as a process: 0 healthy, 2 for a bad token, an unreachable server or a bad flag', async () => {
    const edge = await started();
    const healthy = await runBinary(bin, ['doctor', '--url', edge.url, '--count', '3'], {
      env: { ENGRAM_TOKEN: await edge.token(['ops']) },
    });
    expect(healthy.code, healthy.stderr).toBe(0);
    expect(healthy.stderr).toBe('');
    expect(healthy.stdout.trim().split('\n')).toHaveLength(9);

    const failures = [
      ['--url', edge.url, '--token', 'e30.e30.e30', '--ns', 'ops'],
      ['--url', await closedPort(), '--token', 'e30.e30.e30', '--ns', 'ops'],
      ['--url', edge.url, '--bogus'],
    ];
    // The processes are independent: started together, checked in order.
    const runs = await Promise.all(failures.map((args) => runBinary(bin, ['doctor', ...args])));
    for (const [i, args] of failures.entries()) {
      const run = runs[i]!;
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });
});
