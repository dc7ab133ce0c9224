import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { serve } from '@hono/node-server';
import postgres from 'postgres';
import initSqlJs from 'sql.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { closedPort, NAMESPACES, seedLines, startEdge } from './fixtures.js';
import { cli } from './helpers.js';

// Every store kind the CLI speaks, round-tripped through the real commands and compared line by line
// with a reference dump. Postgres legs need a real server (postgres:// URLs go through postgres.js).
const pgUrl = process.env.DATABASE_URL;
const PG_SKIPPED = pgUrl ? '' : ' (skipped: postgres:// needs a real server and DATABASE_URL is not set)';

type Kind = 'sqlite' | 'postgres' | 'http';
const KINDS: Kind[] = ['sqlite', 'postgres', 'http'];
const skipped = (...kinds: Kind[]) => (kinds.includes('postgres') ? PG_SKIPPED : '');

const dir = mkdtempSync(join(tmpdir(), 'engram-transfer-'));
const edges: Array<Awaited<ReturnType<typeof startEdge>>> = [];
const admin = pgUrl ? postgres(pgUrl, { onnotice: () => {}, max: 2 }) : undefined;
const schemas: string[] = [];
let reference: string[];
let dumpFile: string;
let n = 0;

beforeAll(async () => {
  reference = await seedLines();
  dumpFile = join(dir, 'reference.jsonl');
  writeFileSync(dumpFile, `${reference.join('\n')}\n`);
});
afterAll(async () => {
  await Promise.all(edges.map((e) => e.close()));
  for (const schema of schemas) await admin!.unsafe(`DROP SCHEMA ${schema} CASCADE`);
  await admin?.end();
  rmSync(dir, { recursive: true, force: true });
});

interface Place {
  kind: Kind;
  url: string;
  /** Flags a command needs to reach it. */
  flags: string[];
  schema?: string;
}

/** An empty store of the kind: a new sqlite file, a new Postgres schema, a new edge server. */
async function fresh(kind: Kind): Promise<Place> {
  n++;
  if (kind === 'sqlite') return { kind, url: `sqlite:${join(dir, `store-${n}.db`)}`, flags: [] };
  if (kind === 'postgres') {
    const schema = `engram_cli_${Date.now().toString(36)}_${n}_${Math.random().toString(36).slice(2, 6)}`;
    await admin!.unsafe(`CREATE SCHEMA ${schema}`);
    schemas.push(schema);
    const url = new URL(pgUrl!);
    url.searchParams.set('search_path', schema);
    return { kind, url: url.href, flags: [], schema };
  }
  const edge = await startEdge();
  edges.push(edge);
  return { kind, url: edge.url, flags: ['--token', await edge.token()] };
}

async function exported(place: Place): Promise<string[]> {
  const run = cli(['export', '--from', place.url, ...place.flags]);
  expect(await run.exit, run.err.join('\n')).toBe(0);
  expect(run.err).toEqual([]);
  return run.stdout().split('\n').slice(0, -1);
}

async function imported(place: Place, lines: string[], extra: string[] = []): Promise<void> {
  const run = cli(['import', '--to', place.url, ...place.flags, ...extra], {}, dir, {
    stdin: `${lines.join('\n')}\n`,
  });
  expect(await run.exit, run.err.join('\n')).toBe(0);
  expect(run.out).toEqual([]);
}

async function migrated(from: Place, to: Place): Promise<void> {
  const token = [...from.flags, ...to.flags].slice(0, 2);
  const run = cli(['migrate', '--from', from.url, '--to', to.url, ...token]);
  expect(await run.exit, run.err.join('\n')).toBe(0);
  expect([...run.out, ...run.err]).toEqual([]);
}

/** Every row of every Engram table, read with the raw driver rather than through the store. */
async function rawRows(place: Place): Promise<string> {
  const tables = ['engram_namespaces', 'engram_memories', 'engram_links', 'engram_tombstones'];
  if (place.kind === 'sqlite') {
    const SQL = await initSqlJs();
    const db = new SQL.Database(readFileSync(place.url.slice('sqlite:'.length)));
    const rows = tables.map((t) => db.exec(`SELECT * FROM ${t} ORDER BY 1, 2`));
    db.close();
    return JSON.stringify(rows);
  }
  const rows = [];
  for (const t of tables) rows.push(await admin!.unsafe(`SELECT * FROM ${place.schema}.${t} ORDER BY 1, 2`));
  return JSON.stringify(rows);
}

describe('engram export / import / migrate', () => {
  it('the reference dump carries embeddings, links, edits and tombstones', () => {
    const types = reference.map((l) => JSON.parse(l).type);
    expect(types.filter((t) => t === 'tombstone')).toHaveLength(6);
    expect(types.filter((t) => t === 'link')).toHaveLength(2);
    // 60 of each namespace's 120 memories have embeddings; one of those was deleted.
    expect(reference.filter((l) => l.includes('"embedding":[')).length).toBe(118);
  });

  for (const kind of KINDS) {
    it.skipIf(kind === 'postgres' && !pgUrl)(
      `import from stdin into ${kind}, export to stdout: identical lines${skipped(kind)}`,
      async () => {
        const place = await fresh(kind);
        await imported(place, reference);
        expect(await exported(place)).toEqual(reference);
      },
    );

    it.skipIf(kind === 'postgres' && !pgUrl)(
      `migrate jsonl → ${kind} → jsonl: identical lines${skipped(kind)}`,
      async () => {
        const place = await fresh(kind);
        await migrated({ kind, url: `jsonl:${dumpFile}`, flags: [] }, place);
        const out = join(dir, `out-${n}.jsonl`);
        await migrated(place, { kind, url: `jsonl:${out}`, flags: [] });
        expect(readFileSync(out, 'utf8')).toBe(readFileSync(dumpFile, 'utf8'));
      },
    );

    it.skipIf(kind === 'postgres' && !pgUrl)(
      `re-running an import into ${kind} changes nothing${skipped(kind)}`,
      async () => {
        const place = await fresh(kind);
        await imported(place, reference);
        const before = kind === 'http' ? undefined : await rawRows(place);
        await imported(place, reference);
        await migrated({ kind, url: `jsonl:${dumpFile}`, flags: [] }, place);
        expect(await exported(place)).toEqual(reference);
        if (before !== undefined) expect(await rawRows(place)).toBe(before);
      },
    );
  }

  for (const from of KINDS) {
    for (const to of KINDS.filter((k) => k !== from)) {
      it.skipIf(!pgUrl && (from === 'postgres' || to === 'postgres'))(
        `migrate ${from} → ${to}: identical lines${skipped(from, to)}`,
        async () => {
          const source = await fresh(from);
          const target = await fresh(to);
          await imported(source, reference);
          await migrated(source, target);
          expect(await exported(target)).toEqual(reference);
        },
      );
    }
  }

  it('the chain jsonl → sqlite → http → jsonl gives back the same file', async () => {
    const out = join(dir, 'chain.jsonl');
    const [sqlite, http] = [await fresh('sqlite'), await fresh('http')];
    await migrated({ kind: 'sqlite', url: `jsonl:${dumpFile}`, flags: [] }, sqlite);
    await migrated(sqlite, http);
    await migrated(http, { kind: 'http', url: `jsonl:${out}`, flags: [] });
    expect(readFileSync(out, 'utf8').split('\n')).toEqual(readFileSync(dumpFile, 'utf8').split('\n'));
  });

  it.skipIf(!pgUrl)(
    `the chain jsonl → sqlite → postgres → http → jsonl gives back the same file${PG_SKIPPED}`,
    async () => {
      const out = join(dir, 'chain-pg.jsonl');
      const [sqlite, pg, http] = [await fresh('sqlite'), await fresh('postgres'), await fresh('http')];
      await migrated({ kind: 'sqlite', url: `jsonl:${dumpFile}`, flags: [] }, sqlite);
      await migrated(sqlite, pg);
      await migrated(pg, http);
      await migrated(http, { kind: 'http', url: `jsonl:${out}`, flags: [] });
      expect(readFileSync(out, 'utf8').split('\n')).toEqual(readFileSync(dumpFile, 'utf8').split('\n'));
    },
  );

  it('--ns picks namespaces on export, on import and on migrate', async () => {
    const [alpha, beta] = [
      reference.filter((l) => JSON.parse(l).namespace === 'alpha'),
      reference.filter((l) => JSON.parse(l).namespace === 'beta.2'),
    ];
    const full = await fresh('sqlite');
    await imported(full, reference);
    const onlyBeta = cli(['export', '--from', full.url, '--ns', 'beta.2']);
    expect(await onlyBeta.exit).toBe(0);
    expect(onlyBeta.stdout().split('\n').slice(0, -1)).toEqual(beta);

    const onlyAlpha = await fresh('sqlite');
    await imported(onlyAlpha, reference, ['--ns', 'alpha']);
    expect(await exported(onlyAlpha)).toEqual(alpha);

    const http = await fresh('http');
    const run = cli(['migrate', '--from', full.url, '--to', http.url, ...http.flags, '--ns', 'beta.2']);
    expect(await run.exit).toBe(0);
    expect(await exported(http)).toEqual(beta);
  });

  it('takes a token from ENGRAM_TOKEN, and --from-token or --to-token over --token for its end', async () => {
    const source = await fresh('http');
    await imported(source, reference);
    const alpha = reference.filter((l) => JSON.parse(l).namespace === 'alpha');
    const viaEnv = cli(['export', '--from', source.url, '--ns', 'alpha'], { ENGRAM_TOKEN: source.flags[1] });
    expect(await viaEnv.exit, viaEnv.err.join('\n')).toBe(0);
    expect(viaEnv.stdout().split('\n').slice(0, -1)).toEqual(alpha);

    // Edges of another secret: a token of one end is refused by the other.
    const elsewhere = async (): Promise<Place> => {
      const edge = await startEdge({ secret: 'another-cli-secret-0123456789abcdef' });
      edges.push(edge);
      return { kind: 'http', url: edge.url, flags: ['--token', await edge.token()] };
    };
    const first = await elsewhere();
    const imp = cli(['import', '--to', first.url], { ENGRAM_TOKEN: first.flags[1] }, dir, {
      stdin: `${alpha.join('\n')}\n`,
    });
    expect(await imp.exit, imp.err.join('\n')).toBe(0);
    expect(await exported(first)).toEqual(alpha);

    const second = await elsewhere();
    for (const tokens of [
      ['--token', second.flags[1]!, '--from-token', source.flags[1]!],
      ['--token', source.flags[1]!, '--to-token', second.flags[1]!],
    ]) {
      const run = cli(['migrate', '--from', source.url, '--to', second.url, '--ns', 'alpha', ...tokens]);
      expect(await run.exit, run.err.join('\n')).toBe(0);
    }
    expect(await exported(second)).toEqual(alpha);
  });

  it('migrate writes --batch entries per store call', async () => {
    const source = await fresh('sqlite');
    await imported(source, reference.filter((l) => JSON.parse(l).namespace === 'alpha').slice(0, 7));
    const writesWith = async (flags: string[]) => {
      const writes: string[] = [];
      const edge = await startEdge({ logger: ({ method, path }) => method === 'POST' && writes.push(path) });
      edges.push(edge);
      const run = cli([
        'migrate',
        '--from',
        source.url,
        '--to',
        edge.url,
        '--token',
        await edge.token(),
        ...flags,
      ]);
      expect(await run.exit, run.err.join('\n')).toBe(0);
      return writes.length;
    };
    // The default batch (500) takes the seven entries in one call, --batch 2 in four.
    expect((await writesWith(['--batch', '2'])) - (await writesWith([]))).toBe(3);
  });

  it('draws progress only on a terminal, never on stdout', async () => {
    const place = await fresh('sqlite');
    await imported(place, reference);
    const piped = cli(['export', '--from', place.url]);
    expect(await piped.exit).toBe(0);
    expect(piped.terminal).toEqual([]);
    expect(piped.err).toEqual([]);

    const onTerminal = cli(['export', '--from', place.url], {}, dir, { terminal: true });
    expect(await onTerminal.exit).toBe(0);
    expect(onTerminal.stdout()).toBe(piped.stdout());
    expect(onTerminal.terminal.join('')).toContain('\r\x1b[2K');
    expect(onTerminal.terminal.at(-1)).toMatch(/^engram export: 246 entries in [\d.]+ s/);
    expect(onTerminal.err).toEqual([]);

    const fromFile = cli(
      ['migrate', '--from', `jsonl:${dumpFile}`, '--to', (await fresh('sqlite')).url],
      {},
      dir,
      {
        terminal: true,
      },
    );
    expect(await fromFile.exit).toBe(0);
    expect(fromFile.terminal.join('')).toMatch(/migrate {2}█+░* \d+% {2}\d+ entries/);
    expect(fromFile.terminal.at(-1)).toMatch(/^engram migrate: 246 entries/);
  });

  it('a bad line fails the import with exit 1 saying what is wrong; what came before it is kept', async () => {
    const place = await fresh('sqlite');
    const empty = JSON.parse(reference[3]!);
    empty.record.memory.content = '';
    const lines = [...reference.slice(0, 3), JSON.stringify(empty), ...reference.slice(3)];
    const run = cli(['import', '--to', place.url, '--batch', '1'], {}, dir, { stdin: lines.join('\n') });
    expect(await run.exit).toBe(1);
    expect(run.err).toHaveLength(1);
    expect(run.err[0]).toMatch(/^engram import: .*content.* \(after 3 entries; re-running is safe\)$/);
    expect(await exported(place)).toEqual(reference.slice(0, 3));

    const notJson = cli(['import', '--to', place.url], {}, dir, { stdin: `${reference[0]}\nnot json\n` });
    expect(await notJson.exit).toBe(1);
    expect(notJson.err[0]).toMatch(/line 2: expected JSON/);
  });

  it('with --ns, a refused line is named by its number in the file, lines of other namespaces counted', async () => {
    const place = await fresh('sqlite');
    const beta = reference.filter((l) => JSON.parse(l).namespace === 'beta.2').slice(0, 2);
    const alpha = reference.find((l) => JSON.parse(l).namespace === 'alpha')!;
    const run = cli(['import', '--to', place.url, '--ns', 'alpha'], {}, dir, {
      stdin: `${[...beta, alpha, 'not json'].join('\n')}\n`,
    });
    expect(await run.exit).toBe(1);
    expect(run.err).toEqual([expect.stringMatching(/^engram import: line 4: expected JSON/)]);
  });

  it('on a terminal, a failed import clears its progress line and gives no summary', async () => {
    const place = await fresh('sqlite');
    const run = cli(['import', '--to', place.url], {}, dir, {
      stdin: `${reference[0]}\nnot json\n`,
      terminal: true,
    });
    expect(await run.exit).toBe(1);
    // Nothing was written yet: no "after N entries" either.
    expect(run.err).toEqual([expect.stringMatching(/^engram import: line 2: expected JSON[^(]*$/)]);
    expect(run.terminal.at(-1)).toBe('\r\x1b[2K');
    expect(run.terminal.join('')).not.toMatch(/entries in/);
  });

  it('a bad line after full batches keeps every full batch written', async () => {
    const place = await fresh('sqlite');
    const run = cli(['import', '--to', place.url, '--batch', '2'], {}, dir, {
      stdin: `${reference.slice(0, 4).join('\n')}\n{"broken\n`,
    });
    expect(await run.exit).toBe(1);
    expect(run.err).toEqual([
      expect.stringMatching(
        /^engram import: line 5: expected JSON.* \(after 4 entries; re-running is safe\)$/,
      ),
    ]);
    expect(await exported(place)).toEqual(reference.slice(0, 4));
  });

  it('an interrupt while waiting for input keeps the full batch read before it', async () => {
    const place = await fresh('http');
    const input = new PassThrough();
    input.write(`${reference.slice(0, 2).join('\n')}\n`);
    const run = cli(['import', '--to', place.url, ...place.flags, '--batch', '2'], {}, dir, { stdin: input });
    const edge = edges.at(-1)!;
    // The two lines make a full batch: it is written without waiting for a third line that never comes.
    await vi.waitFor(async () => expect(await edge.store.changes(NAMESPACES[0]!, 0, 10)).toHaveLength(2), {
      timeout: 10_000,
    });
    run.stop();
    expect(await run.exit).toBe(130);
    expect(run.err).toEqual([expect.stringMatching(/^engram import: interrupted by SIGTERM/)]);
    expect(await exported(place)).toEqual(reference.slice(0, 2));
    input.destroy();
  });

  it('an interrupt while stdout is not being read is exit 130, not the aborted write', async () => {
    const place = await fresh('sqlite');
    // The reference dump is many 64 KiB chunks of output: the export waits on a reader that never reads.
    await imported(place, reference);
    const err: string[] = [];
    const written: string[] = [];
    const stopper = new AbortController();
    const exit = runCli(['export', '--from', place.url], {
      out: () => {},
      err: (line) => err.push(line),
      env: {},
      cwd: dir,
      stop: stopper.signal,
      stdin: Readable.from([]),
      stdout: new Writable({
        highWaterMark: 1024,
        write(chunk: Buffer, _encoding, _done) {
          written.push(chunk.toString()); // never done: the reader stalls
        },
      }),
    });
    await vi.waitFor(() => expect(written.length).toBeGreaterThan(0), { timeout: 10_000 });
    stopper.abort('SIGTERM');
    expect(await exit).toBe(130);
    expect(err).toEqual([expect.stringMatching(/^engram export: interrupted by SIGTERM/)]);
  });

  it('exits 2 with one line for a store that cannot be used, touching nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['export', '--from', 'mysql://db/x'], /unknown store URL scheme "mysql:"/],
      [['export', '--from', './memory.db'], /did you mean sqlite:\.\/memory\.db\?/],
      [['import', '--to', 'sqlite:'], /needs a file path/],
      [['migrate', '--from', 'jsonl:a', '--to', 'jsonl:b'], /both ends are JSON Lines/],
      [['export', '--from', `sqlite:${join(dir, 'missing.db')}`], /missing\.db: no such file/],
      [['migrate', '--from', `jsonl:${join(dir, 'missing.jsonl')}`, '--to', 'sqlite:x.db'], /no such file/],
      [['migrate', '--from', `jsonl:${dir}`, '--to', 'sqlite:x.db'], /: not a file$/],
      [['export', '--from', `sqlite:${dir}`], /: not a file$/],
      [['export', '--from', 'http://127.0.0.1:9'], /needs a token: pass --token/],
      [
        ['export', '--from', 'postgres://nobody:secret@127.0.0.1:9/none'],
        /cannot open postgres:\/\/127\.0\.0\.1:9\/none/,
      ],
      [['export', '--from', 'sqlite:x.db', '--batch', '0'], /--batch: expected 1-1000/],
      [['export', '--from', 'sqlite:x.db', '--ns', 'no spaces'], /--ns\.0/],
      [['migrate', '--to', 'sqlite:x.db'], /missing --from/],
      [
        ['migrate', '--from', 'sqlite:x.db', '--to', `sqlite://${join(dir, 'x.db')}`],
        /--from and --to are the same store \(sqlite:\/\/.*x\.db\): there is nothing to copy/,
      ],
      [
        ['migrate', '--from', 'http://127.0.0.1:9/', '--to', 'http://127.0.0.1:9'],
        /--from and --to are the same store \(http:\/\/127\.0\.0\.1:9\/?\): there is nothing to copy/,
      ],
    ];
    for (const [argv, message] of cases) {
      const run = cli(argv, {}, dir);
      expect(await run.exit, argv.join(' ')).toBe(2);
      expect(run.err, argv.join(' ')).toEqual([expect.stringMatching(message)]);
      expect(run.err[0]).not.toContain('secret');
      expect(run.stdout()).toBe('');
    }
    const edge = await fresh('http');
    const wrongToken = cli(['export', '--from', edge.url, '--token', 'not.a.token', '--ns', 'alpha']);
    expect(await wrongToken.exit).toBe(2);
    expect(wrongToken.err).toEqual([expect.stringMatching(/cannot open http.*token is invalid/)]);
    // A token whose namespaces cannot be read, for an import's or a migration's target: the edge judges it
    // before anything moves.
    const lines = await seedLines();
    const seed = join(dir, 'seed-for-token.jsonl');
    writeFileSync(seed, `${lines.join('\n')}\n`);
    for (const argv of [
      ['import', '--to', edge.url, '--token', 'garbage'],
      ['migrate', '--from', `jsonl:${seed}`, '--to', edge.url, '--to-token', 'not.a.token'],
    ]) {
      const refused = cli(argv, {}, dir, { stdin: `${lines.join('\n')}\n` });
      expect(await refused.exit, argv.join(' ')).toBe(2);
      expect(refused.err, argv.join(' ')).toEqual([expect.stringMatching(/token is invalid/)]);
    }
  });

  it('an opaque token the edge accepts writes to it, and reads from it only with --ns', async () => {
    // A gateway in front of the edge trades an opaque key for a real token: the CLI cannot read its namespaces.
    const behind = await fresh('http');
    const gateway = serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: (request: Request) => {
        const headers = new Headers(request.headers);
        headers.set('authorization', `Bearer ${behind.flags[1]}`);
        return fetch(new URL(new URL(request.url).pathname + new URL(request.url).search, behind.url), {
          method: request.method,
          headers,
          body: request.body,
          duplex: 'half',
        } as RequestInit);
      },
    }) as Server;
    await new Promise<void>((ready) => (gateway.listening ? ready() : gateway.once('listening', ready)));
    const url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    try {
      const alpha = reference.filter((l) => JSON.parse(l).namespace === 'alpha');
      const imp = cli(['import', '--to', url, '--token', 'opaque-key'], {}, dir, {
        stdin: `${alpha.join('\n')}\n`,
      });
      expect(await imp.exit, imp.err.join('\n')).toBe(0);
      expect(await exported(behind)).toEqual(alpha);

      const unnamed = cli(['export', '--from', url, '--token', 'opaque-key']);
      expect(await unnamed.exit).toBe(2);
      expect(unnamed.err).toEqual([
        expect.stringMatching(/the token names no namespaces \(no "ns" claim\); pass --ns$/),
      ]);
      const named = cli(['export', '--from', url, '--token', 'opaque-key', '--ns', 'alpha']);
      expect(await named.exit, named.err.join('\n')).toBe(0);
      expect(named.stdout().split('\n').slice(0, -1)).toEqual(alpha);
    } finally {
      gateway.closeAllConnections();
      await new Promise((done) => gateway.close(done));
    }
  });

  it('an edge that cannot be reached is exit 2, whatever the token, before anything is read', async () => {
    const url = await closedPort();
    for (const argv of [
      ['import', '--to', url, '--token', 'garbage'],
      ['export', '--from', url, '--token', 'garbage'],
      ['migrate', '--from', `jsonl:${dumpFile}`, '--to', url, '--token', 'garbage'],
      ['migrate', '--from', url, '--to', `sqlite:${join(dir, 'never.db')}`, '--token', 'garbage'],
    ]) {
      const run = cli(argv, {}, dir, { stdin: `${reference.join('\n')}\n` });
      expect(await run.exit, argv.join(' ')).toBe(2);
      expect(run.err, argv.join(' ')).toEqual([
        expect.stringMatching(/^engram \w+: cannot open http:\/\/127\.0\.0\.1:\d+: .*cannot reach/),
      ]);
      expect(run.stdout()).toBe('');
    }
    expect(existsSync(join(dir, 'never.db'))).toBe(false);
  });
});
