import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import initSqlJs from 'sql.js';
import { afterAll, describe, expect, it } from 'vitest';
import { sqlJsChildScript } from './child-script.js';

// A real crash: a child process writes and saves in a loop and is killed with SIGKILL at a random moment,
// often in the middle of writing the file. The file must always open whole, with every acknowledged save.
const dir = await mkdtemp(join(tmpdir(), 'engram-crash-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const SEED = 3000;
const WRITER = `
const SEED = ${SEED};
import { createMemory, SqlJsStore } from './engram.mjs';
import initSqlJs from ${JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve('sql.js')).href)};
const store = new SqlJsStore({ persist: process.argv[2], sqlJs: initSqlJs(), saveDelayMs: 0 });
const mem = await createMemory({ store, namespace: 'crash' });
const filler = 'lorem ipsum dolor sit amet consectetur '.repeat(30);
const add = (count) => mem.addMany(Array.from({ length: count }, (_, i) => ({ content: i + ' ' + filler })));
// A large file makes each save long, so that the kill often lands in the middle of one.
if (process.argv[3] === 'seed') for (let n = 0; n < SEED; n += 1000) await add(1000);
for (;;) {
  await add(1);
  await store.flush();
  process.stdout.write('saved\\n');
}
`;

function bundle(): Promise<string> {
  return sqlJsChildScript(dir, 'writer.mjs', WRITER);
}

/** Runs the writer until it has acknowledged `saves` more saves, then kills it a few random ms later. */
function runAndKill(script: string, path: string, saves: number, seed: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [script, path, seed ? 'seed' : 'continue'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let acknowledged = 0;
    let stderr = '';
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      acknowledged += chunk.toString().split('\n').filter(Boolean).length;
      if (acknowledged >= saves && !child.killed) setTimeout(() => child.kill('SIGKILL'), Math.random() * 40);
    });
    child.on('exit', (_code, signal) => {
      if (signal === 'SIGKILL') resolve(acknowledged);
      else reject(new Error(`writer exited on its own: ${stderr}`));
    });
  });
}

describe('SqlJsStore crash safety (temp file + rename)', () => {
  it('a writer killed at random moments never leaves a corrupt or short file', async () => {
    const SQL = await initSqlJs();
    const script = await bundle();
    const path = join(dir, 'crash.db');
    let durable = SEED;
    for (let run = 0; run < 6; run++) {
      durable += await runAndKill(script, path, 1 + Math.floor(Math.random() * 3), run === 0);
      const db = new SQL.Database(await readFile(path));
      expect(db.exec('PRAGMA integrity_check')[0]!.values).toEqual([['ok']]);
      const [[count]] = db.exec("SELECT count(*) FROM engram_memories WHERE ns = 'crash'")[0]!.values as [
        [number],
      ];
      db.close();
      // Every acknowledged save is there (a save the kill interrupted may be there too, whole).
      expect(count).toBeGreaterThanOrEqual(durable);
      durable = count;
    }
    // Six Node processes, each starting sql.js and loading a file of a few MB: 6 s on a quiet machine,
    // past the default 30 s under load; the bound is for a hang, not for speed.
  }, 120_000);
});
