import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import initSqlJs from 'sql.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemory, exportJsonl, InMemoryStore } from '../../src/index.js';
import { buildBinary, runBinary } from './fixtures.js';
import { cli } from './helpers.js';

// The files behind sqlite: and jsonl: ends: what the CLI writes (through symbolic links, keeping modes,
// even for nothing), what it refuses before anything moves, and what it only reads.
const dir = mkdtempSync(join(tmpdir(), 'engram-store-files-'));
let dump: string;
let lines: string[];
let n = 0;
const caseDir = () => {
  const path = join(dir, `case-${++n}`);
  mkdirSync(path);
  return path;
};

beforeAll(async () => {
  const store = new InMemoryStore();
  const mem = await createMemory({ store, namespace: 'notes' });
  await mem.addMany([{ content: 'one' }, { content: 'two' }, { content: 'three' }]);
  lines = [];
  for await (const line of exportJsonl(store)) lines.push(line);
  dump = `${lines.join('\n')}\n`;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SQL = await initSqlJs();
/** Memory contents read from the file with sql.js directly. */
function contents(path: string): string[] {
  const db = new SQL.Database(readFileSync(path));
  try {
    const rows = db.exec('SELECT content FROM engram_memories ORDER BY content')[0]?.values ?? [];
    return rows.map(([content]) => String(content));
  } finally {
    db.close();
  }
}

const modeOf = (path: string) => (statSync(path).mode & 0o7777).toString(8);

describe('sqlite: and jsonl: files', () => {
  it('import into a sqlite: symlink updates the file it points to, keeping the link and the mode', async () => {
    const root = caseDir();
    mkdirSync(join(root, 'vol'));
    const first = cli(['import', '--to', 'sqlite:./vol/real.db'], {}, root, { stdin: `${lines[0]}\n` });
    expect(await first.exit).toBe(0);
    chmodSync(join(root, 'vol', 'real.db'), 0o444);
    symlinkSync('vol/real.db', join(root, 'app.db'));

    const run = cli(['import', '--to', 'sqlite:./app.db'], {}, root, { stdin: dump });
    expect(await run.exit, run.err.join('\n')).toBe(0);
    expect(lstatSync(join(root, 'app.db')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(root, 'app.db'))).toBe('vol/real.db');
    expect(contents(join(root, 'vol', 'real.db'))).toEqual(['one', 'three', 'two']);
    expect(modeOf(join(root, 'vol', 'real.db'))).toBe('444');
    expect(readdirSync(join(root, 'vol'))).toEqual(['real.db']);
  });

  it('migrate to a jsonl: symlink replaces the file it points to, keeping the link and the mode', async () => {
    const root = caseDir();
    const source = cli(['import', '--to', 'sqlite:./source.db'], {}, root, { stdin: dump });
    expect(await source.exit).toBe(0);
    mkdirSync(join(root, 'backups'));
    writeFileSync(join(root, 'backups', 'latest.jsonl'), 'old\n');
    chmodSync(join(root, 'backups', 'latest.jsonl'), 0o640);
    symlinkSync('backups/latest.jsonl', join(root, 'dump.jsonl'));

    const run = cli(['migrate', '--from', 'sqlite:./source.db', '--to', 'jsonl:./dump.jsonl'], {}, root);
    expect(await run.exit, run.err.join('\n')).toBe(0);
    expect(lstatSync(join(root, 'dump.jsonl')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(root, 'backups', 'latest.jsonl'), 'utf8')).toBe(dump);
    expect(modeOf(join(root, 'backups', 'latest.jsonl'))).toBe('640');
    expect(readdirSync(join(root, 'backups'))).toEqual(['latest.jsonl']);
  });

  it('a jsonl: target that cannot be a file is exit 2 before anything moves', async () => {
    const root = caseDir();
    const source = cli(['import', '--to', 'sqlite:./source.db'], {}, root, { stdin: dump });
    expect(await source.exit).toBe(0);
    mkdirSync(join(root, 'a-directory'));
    writeFileSync(join(root, 'a-file'), 'x');
    const before = readdirSync(root).sort();
    for (const [target, message] of [
      ['jsonl:./a-directory', /^engram migrate: cannot write jsonl:\.\/a-directory: is a directory$/],
      ['jsonl:./a-file/dump.jsonl', /^engram migrate: cannot write jsonl:\.\/a-file\/dump\.jsonl: .*ENOTDIR/],
    ] as const) {
      const run = cli(['migrate', '--from', 'sqlite:./source.db', '--to', target], {}, root);
      expect(await run.exit, target).toBe(2);
      expect(run.err, target).toEqual([expect.stringMatching(message)]);
    }
    expect(readdirSync(root).sort()).toEqual(before);
    expect(readdirSync(join(root, 'a-directory'))).toEqual([]);
  });

  it('an import whose sqlite: file cannot be saved when it closes fails with exit 1, not success', async () => {
    const root = caseDir();
    const stdin = new PassThrough();
    const run = cli(['import', '--to', 'sqlite:./sub/x.db', '--batch', '1'], {}, root, {
      stdin,
      terminal: true,
    });
    stdin.write(dump);
    // Drawn once the first entry is written: the store is open and the import under way.
    for (let i = 0; i < 500 && run.terminal.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const sub = join(root, 'sub');
    // Its directory becomes a file while the import runs: the save on close cannot write there.
    rmSync(sub, { recursive: true, force: true });
    writeFileSync(sub, '');
    stdin.end();
    expect(await run.exit).toBe(1);
    expect(run.err).toEqual([expect.stringMatching(/^engram import: .*(ENOTDIR|EEXIST)/)]);
  });

  it('an import of nothing still creates the sqlite: file it names', async () => {
    const root = caseDir();
    const run = cli(['import', '--to', 'sqlite:./sub/empty.db'], {}, root, { stdin: '' });
    expect(await run.exit, run.err.join('\n')).toBe(0);
    expect(contents(join(root, 'sub', 'empty.db'))).toEqual([]);
    const back = cli(['export', '--from', 'sqlite:./sub/empty.db'], {}, root);
    expect(await back.exit).toBe(0);
    expect(back.stdout()).toBe('');
  });
});

// Permissions do not stop root: the commands run as `nobody` then, in a directory root owns (0755).
// Skipped on Windows: POSIX modes, uids and `nobody` do not exist there.
const asRoot = process.getuid?.() === 0;
describe.skipIf(process.platform === 'win32')('a sqlite: file in a directory this user cannot write', () => {
  let bin: string;
  beforeAll(async () => {
    bin = await buildBinary('store-files');
  });

  it('export reads it without the lock; an import or a jsonl: file there is exit 2, touching nothing', async () => {
    const root = caseDir();
    const made = cli(['import', '--to', 'sqlite:./ro/y.db'], {}, root, { stdin: dump });
    expect(await made.exit).toBe(0);
    const ro = join(root, 'ro');
    chmodSync(dir, 0o755);
    chmodSync(root, 0o755);
    chmodSync(ro, asRoot ? 0o755 : 0o555);
    const as = asRoot ? { uid: 65534 } : {};
    try {
      const exported = await runBinary(bin, ['export', '--from', 'sqlite:./ro/y.db'], { cwd: root, ...as });
      expect(exported.stderr).toBe('');
      expect(exported.code).toBe(0);
      expect(exported.stdout).toBe(dump);

      for (const argv of [
        ['import', '--to', 'sqlite:./ro/y.db'],
        ['import', '--to', 'sqlite:./ro/new.db'],
        ['migrate', '--from', 'sqlite:./ro/y.db', '--to', 'jsonl:./ro/out.jsonl'],
      ]) {
        const run = await runBinary(bin, argv, { cwd: root, input: dump, ...as });
        expect(run.code, argv.join(' ')).toBe(2);
        expect(run.stderr, argv.join(' ')).toMatch(/^engram \w+: cannot (open|write) .*EACCES.*\n$/);
      }
    } finally {
      chmodSync(ro, 0o755);
    }
    expect(readdirSync(ro)).toEqual(['y.db']);
    expect(contents(join(ro, 'y.db'))).toEqual(['one', 'three', 'two']);
    expect(existsSync(join(ro, 'y.db.lock'))).toBe(false);
  });
});
