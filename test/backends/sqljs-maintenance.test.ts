import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import initSqlJs from 'sql.js';
import { afterAll, describe, expect, it } from 'vitest';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory } from '../../src/index.js';
import { sqlJsChildScript } from './child-script.js';

// One writer per sql.js file: before the lock, a second store on the same file silently lost the first
// one's writes (each saves its whole in-memory copy over the other's).
const dir = await mkdtemp(join(tmpdir(), 'engram-lock-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const sqlJs = initSqlJs();

const HOLDER = `
import { createMemory, SqlJsStore } from './engram.mjs';
import initSqlJs from ${JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve('sql.js')).href)};
const store = new SqlJsStore({ persist: process.argv[2], sqlJs: initSqlJs() });
try {
  const mem = await createMemory({ store, namespace: 'lock' });
  await mem.add({ content: 'from the child process' });
  await store.flush();
  process.stdout.write('open\\n');
  process.stdin.on('data', async () => { await mem.close(); process.stdout.write('closed\\n'); process.exit(0); });
} catch (error) {
  process.stdout.write('refused ' + error.code + ' ' + error.message + '\\n');
  process.exit(3);
}
`;

function holderScript(): Promise<string> {
  return sqlJsChildScript(dir, 'holder.mjs', HOLDER);
}

/** Starts a process holding the file open; resolves with it once it says `open` (or what it said instead). */
function startHolder(script: string, path: string): Promise<{ child: ChildProcess; said: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, path], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve({ child, said: out.trim() });
    });
    child.once('error', reject);
  });
}

const exited = (child: ChildProcess) => new Promise((resolve) => child.once('exit', resolve));

describe('SqlJsStore: one writer per file', () => {
  it('a second store in the same process gets a STORAGE error until the first closes', async () => {
    const path = join(dir, 'same-process.db');
    const first = await createMemory({ store: new SqlJsStore({ persist: path, sqlJs }), namespace: 'n' });
    await first.add({ content: 'kept by the first store' });
    await expect(
      createMemory({ store: new SqlJsStore({ persist: path, sqlJs }), namespace: 'n' }),
    ).rejects.toMatchObject({
      code: 'STORAGE',
      message: expect.stringMatching(/another SqlJsStore of this process/),
    });
    await first.close();
    const second = await createMemory({ store: new SqlJsStore({ persist: path, sqlJs }), namespace: 'n' });
    expect((await second.list()).items.map((m) => m.content)).toEqual(['kept by the first store']);
    await second.close();
  });

  it('two processes: the second is refused while the first holds the file, and nothing is lost', async () => {
    const script = await holderScript();
    const path = join(dir, 'two-processes.db');
    const holder = await startHolder(script, path);
    expect(holder.said).toBe('open');

    const refused = await startHolder(script, path);
    expect(refused.said).toMatch(/^refused STORAGE .*open in process \d+/);
    await exited(refused.child);
    await expect(createMemory({ store: new SqlJsStore({ persist: path, sqlJs }) })).rejects.toMatchObject({
      code: 'STORAGE',
    });

    holder.child.stdin!.write('close\n');
    await exited(holder.child);
    const after = await createMemory({ store: new SqlJsStore({ persist: path, sqlJs }), namespace: 'lock' });
    expect((await after.list()).items.map((m) => m.content)).toEqual(['from the child process']);
    await after.close();
  });

  it('a lock left by a process that died is taken over', async () => {
    const path = join(dir, 'stale.db');
    const script = await holderScript();
    const holder = await startHolder(script, path);
    expect(holder.said).toBe('open');
    holder.child.kill('SIGKILL');
    await exited(holder.child);
    expect(JSON.parse(await readFile(`${path}.lock`, 'utf8'))).toMatchObject({ pid: holder.child.pid });
    const mem = await createMemory({ store: new SqlJsStore({ persist: path, sqlJs }), namespace: 'lock' });
    expect((await mem.list()).items.map((m) => m.content)).toEqual(['from the child process']);
    await mem.close();
    await expect(readFile(`${path}.lock`, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a lock naming this process, which it no longer holds (a restarted container reuses pids), is taken over, twice', async () => {
    const path = join(dir, 'own-pid.db');
    for (const content of ['first opening', 'second opening']) {
      await writeFile(`${path}.lock`, JSON.stringify({ pid: process.pid, token: 'before the restart' }));
      const mem = await createMemory({ store: new SqlJsStore({ persist: path, sqlJs }), namespace: 'lock' });
      await mem.add({ content });
      await mem.close();
    }
    const mem = await createMemory({ store: new SqlJsStore({ persist: path, sqlJs }), namespace: 'lock' });
    expect((await mem.list()).items.map((m) => m.content).sort()).toEqual([
      'first opening',
      'second opening',
    ]);
    await mem.close();
  });

  it('a lock whose holder is no process (cut short, or pid 0) is stale', async () => {
    for (const [name, text] of [
      ['cut.db', '{"pid": 12'],
      ['zero.db', JSON.stringify({ pid: 0, token: 'zero' })],
    ]) {
      const path = join(dir, name!);
      await writeFile(`${path}.lock`, text!);
      const store = new SqlJsStore({ persist: path, sqlJs });
      await store.open();
      await store.close();
    }
  });

  it('a takeover guard left by a taker that died (or cut short) is moved aside, and the stale lock taken over', async () => {
    for (const [name, guard] of [
      ['dead-taker.db', JSON.stringify({ pid: 99_999_999, token: 'dead taker' })],
      ['cut-taker.db', '{"pid": 12'],
      // This process's pid on a guard it does not hold: a restarted container reuses pids.
      ['own-taker.db', JSON.stringify({ pid: process.pid, token: 'before the restart' })],
    ]) {
      const path = join(dir, name!);
      await writeFile(`${path}.lock`, JSON.stringify({ pid: 99_999_999, token: 'dead holder' }));
      await writeFile(`${path}.lock.takeover`, guard!);
      const mem = await createMemory({ store: new SqlJsStore({ persist: path, sqlJs }), namespace: 'n' });
      await mem.add({ content: 'opened' });
      await mem.close();
      expect((await readdir(dir)).filter((file) => file.startsWith(name!))).toEqual([name]);
    }
  });

  it('a takeover guard held by a live process is left alone: the stale lock waits for it', async () => {
    const path = join(dir, 'live-taker.db');
    const stale = JSON.stringify({ pid: 99_999_999, token: 'dead holder' });
    // pid 1 always runs (init).
    const guard = JSON.stringify({ pid: 1, token: 'taking over' });
    await writeFile(`${path}.lock`, stale);
    await writeFile(`${path}.lock.takeover`, guard);
    await expect(new SqlJsStore({ persist: path, sqlJs }).open()).rejects.toMatchObject({ code: 'STORAGE' });
    expect(await readFile(`${path}.lock.takeover`, 'utf8')).toBe(guard);
    expect(await readFile(`${path}.lock`, 'utf8')).toBe(stale);
  });

  it('closing leaves in place a lock that is no longer its own', async () => {
    const path = join(dir, 'taken.db');
    const store = new SqlJsStore({ persist: path, sqlJs });
    await store.open();
    // What a takeover by another opener leaves (it judged this one gone).
    const other = JSON.stringify({ pid: 99_999_999, token: 'other' });
    await writeFile(`${path}.lock`, other);
    await store.close();
    expect(await readFile(`${path}.lock`, 'utf8')).toBe(other);
  });
});

describe('file locks: processes racing for a stale lock', () => {
  it('exactly one of three processes opening at the same instant takes a dead holder’s lock over', async () => {
    // lockFile alone, bundled for child processes that all try at one agreed instant.
    await build({
      entryPoints: [join(import.meta.dirname, '../../src/backends/file-lock.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: join(dir, 'file-lock.mjs'),
      logLevel: 'silent',
    });
    const racer = join(dir, 'racer.mjs');
    await writeFile(
      racer,
      `import { lockFile } from './file-lock.mjs';
const [path, startAt] = [process.argv[2], Number(process.argv[3])];
while (Date.now() < startAt) {}
try {
  const unlock = await lockFile(path, { label: 'race', busy: ({ pid }) => 'held by ' + pid });
  process.stdout.write('got\\n');
  // Held until every racer has tried (they start together; a slow spawn still lands within this).
  await new Promise((r) => setTimeout(r, 2500));
  await unlock();
} catch (error) {
  process.stdout.write('refused ' + error.code + '\\n');
}
`,
    );
    const run = (path: string, startAt: number) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, [racer, path, String(startAt)], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout!.on('data', (chunk) => (out += chunk));
        child.once('error', reject);
        child.once('exit', () => resolve(out.trim()));
      });
    for (let trial = 0; trial < 6; trial++) {
      const path = join(dir, `race-${trial}.db`);
      // Left by a process that is gone (a pid no process has: above the kernel's pid limit).
      await writeFile(`${path}.lock`, JSON.stringify({ pid: 99_999_999, token: 'dead', at: 'long ago' }));
      const startAt = Date.now() + 1000;
      const said = await Promise.all([run(path, startAt), run(path, startAt), run(path, startAt)]);
      expect(
        said.filter((s) => s === 'got'),
        `trial ${trial}: ${said.join(', ')}`,
      ).toHaveLength(1);
      expect(said.filter((s) => s === 'refused STORAGE')).toHaveLength(2);
    }
  }, 120_000);
});

describe('SqlJsStore: compaction', () => {
  it('a save after heavy deletes vacuums: the file shrinks to what is left, and it still reads back', async () => {
    const path = join(dir, 'compact.db');
    const store = new SqlJsStore({ persist: path, sqlJs });
    const mem = await createMemory({ store, namespace: 'compact' });
    const filler = 'lorem ipsum dolor sit amet consectetur adipiscing '.repeat(40);
    const made = await mem.addMany(Array.from({ length: 600 }, (_, i) => ({ content: `${i} ${filler}` })));
    await store.flush();
    const full = (await readFile(path)).length;
    for (const m of made.slice(10)) await mem.remove(m.id);
    await store.flush();
    const after = (await readFile(path)).length;
    expect(after).toBeLessThan(full / 3);
    const raw = new (await sqlJs).Database(await readFile(path));
    expect(raw.exec('PRAGMA freelist_count')[0]!.values[0]![0]).toBe(0);
    expect(raw.exec('SELECT count(*) FROM engram_memories')[0]!.values[0]![0]).toBe(10);
    raw.close();
    await mem.close();
  });

  it('a new file has 8 KiB pages; a 4 KiB file keeps its pages until its next VACUUM moves it to 8 KiB', async () => {
    const SQL = await sqlJs;
    const pageSize = async (file: string) => {
      const raw = new SQL.Database(await readFile(file));
      const size = raw.exec('PRAGMA page_size')[0]!.values[0]![0];
      raw.close();
      return size;
    };
    const fresh = join(dir, 'pages-new.db');
    const store = new SqlJsStore({ persist: fresh, sqlJs });
    await (await createMemory({ store, namespace: 'pages' })).add({ content: 'a first memory' });
    await store.close();
    expect(await pageSize(fresh)).toBe(8192);
    // An older file: the same database with SQLite's default pages, written by sql.js itself.
    const old = join(dir, 'pages-old.db');
    const raw = new SQL.Database(await readFile(fresh));
    raw.run('PRAGMA page_size = 4096');
    raw.run('VACUUM');
    await writeFile(old, raw.export());
    raw.close();
    expect(await pageSize(old)).toBe(4096);
    const reopened = new SqlJsStore({ persist: old, sqlJs });
    const mem = await createMemory({ store: reopened, namespace: 'pages' });
    await mem.add({ content: 'written without a vacuum' });
    await reopened.flush();
    expect(await pageSize(old)).toBe(4096);
    // Heavy deletes make the next save vacuum, which moves the file to 8 KiB pages.
    const filler = 'lorem ipsum dolor sit amet consectetur adipiscing '.repeat(40);
    const made = await mem.addMany(Array.from({ length: 300 }, (_, i) => ({ content: `${i} ${filler}` })));
    await reopened.flush();
    for (const m of made) await mem.remove(m.id);
    await reopened.flush();
    expect(await pageSize(old)).toBe(8192);
    expect((await mem.search('memory')).map((h) => h.memory.content)).toEqual(['a first memory']);
    await mem.close();
  });
});
