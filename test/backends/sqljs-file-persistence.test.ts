import { spawnSync } from 'node:child_process';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import initSqlJs from 'sql.js';
import { afterAll, describe, expect, it } from 'vitest';
import { filePersistence, SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory, EngramError } from '../../src/index.js';

// The file behind `persist`: a symbolic link is saved through, the file's mode is kept, and a read-only
// opener reads a file whose directory it cannot write, without the lock, and never saves.
const dir = await mkdtemp(join(tmpdir(), 'engram-sqljs-file-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const SQL = await initSqlJs();
/** The memories' contents, read from the file with sql.js directly, not through the store. */
async function contents(path: string): Promise<string[]> {
  const db = new SQL.Database(await readFile(path));
  try {
    const rows = db.exec('SELECT content FROM engram_memories ORDER BY content')[0]?.values ?? [];
    return rows.map(([content]) => String(content));
  } finally {
    db.close();
  }
}

async function addTo(persist: string, ...texts: string[]): Promise<void> {
  const mem = await createMemory({ store: new SqlJsStore({ persist }), namespace: 'notes' });
  await mem.addMany(texts.map((content) => ({ content })));
  await mem.close();
}

let cases = 0;
const caseDir = async () => {
  const path = join(dir, `case-${++cases}`);
  await mkdir(path);
  return path;
};

describe('filePersistence: the file a path names', () => {
  it('saves through a symbolic link into the file it points to, leaving the link a link', async () => {
    const root = await caseDir();
    await mkdir(join(root, 'vol'));
    const real = join(root, 'vol', 'real.db');
    await addTo(real, 'first');
    const link = join(root, 'app.db');
    await symlink('vol/real.db', link);
    // A link to a link, too.
    const outer = join(root, 'outer.db');
    await symlink(link, outer);

    await addTo(link, 'through the link');
    await addTo(outer, 'through two links');

    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe('vol/real.db');
    expect((await lstat(outer)).isSymbolicLink()).toBe(true);
    expect(await contents(real)).toEqual(['first', 'through the link', 'through two links']);
    // Temps and the lock went beside the real file, and are gone.
    expect((await readdir(root)).sort()).toEqual(['app.db', 'outer.db', 'vol']);
    expect(await readdir(join(root, 'vol'))).toEqual(['real.db']);
  });

  it('a link to a file not made yet: the file is made where it points', async () => {
    const root = await caseDir();
    const link = join(root, 'app.db');
    await symlink('data/new.db', link);
    await addTo(link, 'made through the link');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await contents(join(root, 'data', 'new.db'))).toEqual(['made through the link']);
  });

  it('one file under two names is one opener: the lock is the real file’s', async () => {
    const root = await caseDir();
    const real = join(root, 'real.db');
    await addTo(real, 'x');
    const link = join(root, 'link.db');
    await symlink(real, link);
    const first = new SqlJsStore({ persist: real });
    await first.open();
    try {
      await expect(new SqlJsStore({ persist: link }).open()).rejects.toThrow(/is open in another SqlJsStore/);
    } finally {
      await first.close();
    }
  });

  it('a save makes the directories the file needs', async () => {
    const file = join(await caseDir(), 'a', 'b', 'made.db');
    await filePersistence(file).save(new Uint8Array([1, 2, 3]));
    expect([...(await readFile(file))]).toEqual([1, 2, 3]);
  });

  it('a save that fails leaves no temp behind', async () => {
    const root = await caseDir();
    const file = join(root, 'blocked.db');
    // A rename cannot replace a directory that holds something.
    await mkdir(file);
    await writeFile(join(file, 'inside'), 'x');
    await expect(filePersistence(file).save(new Uint8Array([1]))).rejects.toThrow();
    expect(await readdir(root)).toEqual(['blocked.db']);
  });

  it("sweeps only its own file's temps, not those of another file whose name is as long", async () => {
    const root = await caseDir();
    const uuid = '0b9f3c1e-7d2a-4c55-9e10-3f6a8b2d4c71';
    await writeFile(join(root, `mine.db.${uuid}.engram-tmp`), 'left by a crash');
    const others = `your.db.${uuid}.engram-tmp`;
    await writeFile(join(root, others), 'a save of your.db under way');
    await addTo(join(root, 'mine.db'), 'x');
    expect((await readdir(root)).sort()).toEqual(['mine.db', others]);
  });

  it('a file that fails to load or open leaves no lock behind: the next opener, once it is fixed, gets it', async () => {
    const root = await caseDir();
    const dirFile = join(root, 'is-a-dir.db');
    await mkdir(dirFile);
    await expect(new SqlJsStore({ persist: dirFile }).open()).rejects.toThrow(/EISDIR/);
    await rm(dirFile, { recursive: true });
    await addTo(dirFile, 'after the directory went');
    const garbage = join(root, 'garbage.db');
    await writeFile(garbage, 'not an SQLite file, but long enough to have a header of one'.repeat(4));
    await expect(new SqlJsStore({ persist: garbage }).open()).rejects.toThrow(/not a database/);
    await rm(garbage);
    await addTo(garbage, 'after the garbage went');
    expect(await contents(dirFile)).toEqual(['after the directory went']);
    expect(await contents(garbage)).toEqual(['after the garbage went']);
    expect((await readdir(root)).sort()).toEqual(['garbage.db', 'is-a-dir.db']);
  });

  it('keeps the file’s mode across saves (0444, 0600, setgid 2640)', async () => {
    const root = await caseDir();
    for (const mode of [0o444, 0o600, 0o640, 0o2640]) {
      const file = join(root, `mode-${mode.toString(8)}.db`);
      await addTo(file, 'before');
      await chmod(file, mode);
      await addTo(file, 'after');
      expect(((await stat(file)).mode & 0o7777).toString(8)).toBe(mode.toString(8));
      expect(await contents(file)).toEqual(['after', 'before']);
    }
  });
});

describe('filePersistence({ readOnly: true })', () => {
  it('reads the file and refuses every save, leaving the file as it was', async () => {
    const root = await caseDir();
    const file = join(root, 'ro.db');
    await addTo(file, 'kept');
    const before = await readFile(file);
    const persistence = filePersistence(file, { readOnly: true });
    await expect(persistence.save(new Uint8Array([1, 2, 3]))).rejects.toThrow(
      /opened read-only .*it is never saved/,
    );

    const store = new SqlJsStore({ persist: persistence });
    const mem = await createMemory({ store, namespace: 'notes' });
    expect((await mem.list()).items.map((m) => m.content)).toEqual(['kept']);
    await mem.add({ content: 'never saved' });
    const closing = mem.close();
    await expect(closing).rejects.toThrow(EngramError);
    await expect(closing).rejects.toThrow(/never saved/);
    expect(await readFile(file)).toEqual(before);
    expect(await readdir(root)).toEqual(['ro.db']);
  });

  it("a pulled batch of deletes alone is the caller's write: close() reports it unsaved", async () => {
    const root = await caseDir();
    const file = join(root, 'deletes.db');
    await addTo(file, 'kept');
    const before = await readFile(file);
    const store = new SqlJsStore({ persist: filePersistence(file, { readOnly: true }) });
    const tombstone = { entity: 'memory' as const, id: 'gone', namespace: 'notes', clock: '0'.repeat(12) };
    await store.apply('notes', { tombstones: [tombstone] });
    await expect(store.close()).rejects.toThrow(/never saved/);
    expect(await readFile(file)).toEqual(before);
  });

  it("a caller's link alone is a write: close() reports it unsaved", async () => {
    const root = await caseDir();
    const file = join(root, 'links.db');
    const writer = await createMemory({ store: new SqlJsStore({ persist: file }), namespace: 'notes' });
    await writer.addMany([
      { id: 'a', content: 'one' },
      { id: 'b', content: 'two' },
    ]);
    await writer.close();
    const before = await readFile(file);
    const store = new SqlJsStore({ persist: filePersistence(file, { readOnly: true }) });
    const mem = await createMemory({ store, namespace: 'notes' });
    await mem.link('a', 'b', 'related_to');
    await expect(mem.close()).rejects.toThrow(/never saved/);
    expect(await readFile(file)).toEqual(before);
  });

  it("leaves a writer's temps alone: one may be a save under way", async () => {
    const root = await caseDir();
    const file = join(root, 'saving.db');
    await addTo(file, 'kept');
    const temp = `${file}.0b9f3c1e-7d2a-4c55-9e10-3f6a8b2d4c71.engram-tmp`;
    await writeFile(temp, 'a save in progress');
    const store = new SqlJsStore({ persist: filePersistence(file, { readOnly: true }) });
    const query = { tagMode: 'any' as const, now: new Date().toISOString(), limit: 10 };
    expect((await store.list('notes', query)).map((r) => r.memory.content)).toEqual(['kept']);
    await store.close();
    expect(await readFile(temp, 'utf8')).toBe('a save in progress');
  });

  it('a reader that writes nothing closes cleanly: its client id and purges of what expired stay in memory', async () => {
    const root = await caseDir();
    const file = join(root, 'expired.db');
    const writer = await createMemory({ store: new SqlJsStore({ persist: file }), namespace: 'notes' });
    await writer.add({ content: 'gone soon', expiresAt: new Date(Date.now() + 50).toISOString() });
    await writer.add({ content: 'kept' });
    await writer.close();
    await new Promise((resolve) => setTimeout(resolve, 60));
    const before = await readFile(file);
    const reader = new SqlJsStore({ persist: filePersistence(file, { readOnly: true }) });
    // A namespace read through createMemory for the first time (its client id is written), and one whose
    // memory expired (the opening's maintenance purges it).
    const other = await createMemory({ store: reader, namespace: 'other' });
    const notes = await createMemory({ store: reader, namespace: 'notes', maintenance: { intervalMs: 0 } });
    expect(await notes.maintain()).toEqual({ purged: 1, collected: 0 });
    expect((await notes.list()).items.map((m) => m.content)).toEqual(['kept']);
    expect(await other.count()).toBe(0);
    // The store closes with its last user, and saves then if anything is unsaved.
    await notes.close();
    await other.close();
    expect(await readFile(file)).toEqual(before);
  });

  it('still takes the lock when it can: an open writer keeps a reader out', async () => {
    const root = await caseDir();
    const file = join(root, 'busy.db');
    await addTo(file, 'x');
    const writer = new SqlJsStore({ persist: file });
    await writer.open();
    try {
      const reader = new SqlJsStore({ persist: filePersistence(file, { readOnly: true }) });
      await expect(reader.open()).rejects.toThrow(/is open in another SqlJsStore/);
    } finally {
      await writer.close();
    }
  });

  // Permissions do not stop root: the opener runs as `nobody` then, in a directory root owns (0755).
  // Skipped on Windows: POSIX modes, uids and `nobody` do not exist there.
  const asRoot = process.getuid?.() === 0;
  it.skipIf(process.platform === 'win32')(
    'in a directory it cannot write: reads without the lock; a writer there is refused (EACCES)',
    async () => {
      const root = await caseDir();
      const file = join(root, 'shared.db');
      await addTo(file, 'readable by all');
      const script = await childScript(root);
      await chmod(dir, 0o755); // mkdtemp's 0700 would keep the other user out
      await chmod(root, 0o755);
      if (!asRoot) await chmod(root, 0o555);
      try {
        const run = (mode: string) => {
          const child = spawnSync(process.execPath, [script, file, mode], {
            encoding: 'utf8',
            ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
          });
          return { code: child.status, out: child.stdout.trim(), err: child.stderr.trim() };
        };
        expect(run('read')).toEqual({ code: 0, out: '["readable by all"]', err: '' });
        const written = run('write');
        expect(written.code).toBe(0);
        expect(written.out).toMatch(/^refused: .*opened read-only/);
        const writer = run('writer');
        expect(writer.code).toBe(0);
        // Refused at its lock, when it opens: not after taking writes that no save could keep.
        expect(writer.out).toMatch(/^refused: .*EACCES.*shared\.db\.lock/);
      } finally {
        await chmod(root, 0o755);
      }
      expect(await contents(file)).toEqual(['readable by all']);
      expect((await readdir(root)).sort()).toEqual(['child.mjs', 'engram.mjs', 'shared.db']);
    },
  );
});

/** A child process's script: opens the file read-only (`read`, `write`) or as a writer (`writer`). */
async function childScript(root: string): Promise<string> {
  await build({
    stdin: {
      contents: `export { createMemory } from './src/index.ts';
        export { filePersistence, SqlJsStore } from './src/backends/sqljs/index.ts';`,
      resolveDir: resolve(import.meta.dirname, '../..'),
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    external: ['sql.js'],
    outfile: join(root, 'engram.mjs'),
    logLevel: 'silent',
  });
  const sqlJs = pathToFileURL(createRequire(import.meta.url).resolve('sql.js')).href;
  const script = join(root, 'child.mjs');
  await writeFile(
    script,
    `import { createMemory, filePersistence, SqlJsStore } from './engram.mjs';
import initSqlJs from ${JSON.stringify(sqlJs)};
const [file, mode] = process.argv.slice(2);
const persist = mode === 'writer' ? file : filePersistence(file, { readOnly: true });
const store = new SqlJsStore({ persist, sqlJs: initSqlJs() });
try {
  if (mode === 'read') {
    // Store calls only, as an export reads: createMemory writes the replica's client id.
    const query = { tagMode: 'any', now: new Date().toISOString(), limit: 10 };
    console.log(JSON.stringify((await store.list('notes', query)).map((r) => r.memory.content)));
    await store.close();
  } else {
    const mem = await createMemory({ store, namespace: 'notes' });
    await mem.add({ content: 'must not be saved' });
    await mem.close();
  }
} catch (error) {
  console.log('refused: ' + error.message);
}
`,
  );
  return script;
}
