import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'engram-mcp-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('engram mcp flags', () => {
  it('--help documents the flags and a client configuration', async () => {
    const run = cli(['mcp', '--help']);
    expect(await run.exit).toBe(0);
    const help = run.out.join('\n');
    for (const flag of [
      '--store',
      '--ns',
      '--sync-url',
      '--token',
      '--embedder',
      '--embedder-url',
      '--search-extra',
      'engram serve',
      'sqlite:./engram-memory.db',
      'mcpServers',
    ])
      expect(help).toContain(flag);
  });

  it('is listed in the main help', async () => {
    const run = cli(['--help']);
    expect(await run.exit).toBe(0);
    expect(run.out.join('\n')).toMatch(/^\s+mcp\s+a Model Context Protocol/m);
  });

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--store', 'jsonl:./x.jsonl'], /--store: jsonl: files are for export\/import/],
    [['--store', 'memory.db'], /did you mean sqlite:memory.db/],
    [['--ns', 'bad ns'], /--ns/],
    [['--sync-url', 'https://edge.example'], /--sync-url needs --token/],
    [['--sync-url', 'not a url', '--token', 't'], /--sync-url: expected an http\(s\) URL/],
    [
      ['--sync-url', 'https://me:s3cret@edge.example', '--token', 't'],
      /--sync-url: expected a URL without user:password@ \(the token authenticates\), got "https:\/\/…@edge\.example"/,
    ],
    [['--store', 'https://edge.example'], /needs a token/],
    [['--search-extra', 'ten'], /--search-extra: expected 0-1000, got "ten"/],
    [['--search-extra', '1001'], /--search-extra: expected 0-1000/],
    [['--search-extra', '2.5'], /--search-extra: expected 0-1000, got "2.5"/],
    [['--search-extra', '-1'], /--search-extra: expected 0-1000, got "-1"/],
    [['--embedder', 'nomic-embed-text'], /--embedder: expected openai:<model>/],
    [['--embedder', 'openai:m', '--dims', 'x'], /--dims: expected a positive integer/],
    [['--embedder', 'openai:m', '--embedder-url', 'http://127.0.0.1:9/v1'], /pass --dims N/],
  ])('refuses %j with exit 2 and one line', async (flags, message) => {
    const run = cli(['mcp', ...flags], {}, dir);
    expect(await run.exit).toBe(2);
    expect(run.err).toHaveLength(1);
    expect(run.err[0]).toMatch(message);
    expect(run.stdout()).toBe('');
  });

  it('exits 0 when its stdin ends (the client went away)', async () => {
    const stdin = new PassThrough();
    const run = cli(['mcp', '--store', `sqlite:${join(dir, 'e.db')}`], {}, dir, { stdin });
    await new Promise((r) => setTimeout(r, 300));
    stdin.end();
    expect(await run.exit).toBe(0);
  });

  it('exits 0 when stopped while still starting, its stdin still open', async () => {
    const stdin = new PassThrough();
    const run = cli(['mcp', '--store', `sqlite:${join(dir, 's.db')}`], {}, dir, { stdin });
    run.stop();
    expect(await run.exit).toBe(0);
  });

  it('serves until stopped, then closes and exits 0 with nothing but protocol on stdout', async () => {
    const stdin = new PassThrough();
    const run = cli(['mcp', '--store', `sqlite:${join(dir, 'm.db')}`], {}, dir, { stdin });
    const early = await Promise.race([run.exit, new Promise((r) => setTimeout(() => r('running'), 500))]);
    expect(early).toBe('running');
    run.stop();
    expect(await run.exit).toBe(0);
    expect(run.stdout()).toBe('');
    expect(run.err.join('\n')).toMatch(/serving namespace "default" on stdio/);
  });
});
