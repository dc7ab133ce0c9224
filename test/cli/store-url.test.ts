import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/io.js';
import { parseStoreUrl } from '../../src/cli/store-url.js';
import { cli } from './helpers.js';

describe('store URLs', () => {
  it('reads each scheme, resolving file paths against the working directory', () => {
    expect(parseStoreUrl('sqlite:./data/memory.db', '--to', '/work')).toEqual({
      kind: 'sqlite',
      path: '/work/data/memory.db',
      shown: 'sqlite:./data/memory.db',
    });
    expect(parseStoreUrl('sqlite:///var/lib/memory.db', '--to', '/work')).toMatchObject({
      path: '/var/lib/memory.db',
    });
    expect(parseStoreUrl('jsonl:dump.jsonl', '--to', '/work')).toMatchObject({
      kind: 'jsonl',
      path: '/work/dump.jsonl',
    });
    expect(parseStoreUrl('postgresql://me:pw@db.internal:5432/app?sslmode=require', '--from', '/')).toEqual({
      kind: 'postgres',
      url: 'postgresql://me:pw@db.internal:5432/app?sslmode=require',
      shown: 'postgresql://db.internal:5432/app',
    });
    expect(parseStoreUrl('HTTPS://memory.example.com/base', '--from', '/')).toMatchObject({ kind: 'http' });
    // What messages show of an edge's URL leaves out its query, which may carry a secret.
    expect(parseStoreUrl('https://memory.example.com/base?k=v', '--from', '/')).toEqual({
      kind: 'http',
      url: 'https://memory.example.com/base?k=v',
      shown: 'https://memory.example.com/base',
    });
    expect(parseStoreUrl('https://memory.example.com/base#k=v', '--from', '/')).toMatchObject({
      url: 'https://memory.example.com/base#k=v',
      shown: 'https://memory.example.com/base',
    });
    expect(parseStoreUrl('pglite:./engram-data', '--from', '/work')).toEqual({
      kind: 'pglite',
      path: '/work/engram-data',
      shown: 'pglite:./engram-data',
    });
    expect(parseStoreUrl('pglite:///srv/engram/pglite', '--from', '/work')).toMatchObject({
      path: '/srv/engram/pglite',
    });
  });

  it('refuses what it cannot read with a UsageError naming the flag', () => {
    for (const [value, message] of [
      ['mysql://db', /^--from: unknown store URL scheme "mysql:"/],
      ['memory.sqlite', /^--from: expected a store URL .* \(did you mean sqlite:memory\.sqlite\?\)$/],
      ['dump.jsonl', /did you mean jsonl:dump\.jsonl\?/],
      ['memory.sqlite3', /did you mean sqlite:memory\.sqlite3\?/],
      ['./data/memory.db', /did you mean sqlite:\.\/data\/memory\.db\?/],
      ['dump.json', /did you mean jsonl:dump\.json\?/],
      ['C:\\data\\memory.db', /^--from: expected a store URL/],
      ['jsonl://', /needs a file path/],
      ['pglite:', /^--from: pglite: needs a directory, e\.g\. pglite:\.\/data /],
      ['postgres://[bad', /not a valid URL/],
      [
        'https://[bad',
        /^--from: expected an http\(s\) URL like https:\/\/engram\.example\.com, got "https:\/\/\[bad"$/,
      ],
      // fetch refuses credentials in a URL; the token authenticates.
      [
        'https://me:s3cret@edge.example',
        /^--from: expected a URL without user:password@ .*, got "https:\/\/…@edge\.example"$/,
      ],
    ] as const) {
      expect(() => parseStoreUrl(value, '--from', '/')).toThrow(UsageError);
      expect(() => parseStoreUrl(value, '--from', '/')).toThrow(message);
    }
  });

  it('keeps the password of a URL it cannot parse out of the refusal', () => {
    // A raw / or @ in the password makes the URL invalid; the refusal still must not print it.
    for (const [value, shown] of [
      ['postgres://me:s3/cret@[bad/app', '"postgres://…@[bad/app"'],
      ['postgres://me:s3@cret@[bad/app', '"postgres://…@[bad/app"'],
    ] as const) {
      expect(() => parseStoreUrl(value, '--from', '/')).toThrow(`--from: not a valid URL: ${shown}`);
    }
    for (const value of ['https://me:s3cret@[bad', 'https://me:s3/cret@edge.example']) {
      expect(() => parseStoreUrl(value, '--from', '/'), value).toThrow(UsageError);
      expect(() => parseStoreUrl(value, '--from', '/'), value).not.toThrow(/s3|cret/);
    }
  });

  it('import refuses a terminal on stdin rather than waiting for typing', async () => {
    const stdin = Object.assign(Readable.from([]), { isTTY: true });
    const run = cli(['import', '--to', 'sqlite:never.db'], {}, '/nonexistent', { stdin });
    expect(await run.exit).toBe(2);
    expect(run.err).toEqual([expect.stringMatching(/expects JSON Lines on stdin/)]);
  });
});
