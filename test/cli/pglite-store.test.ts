import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, pglite } from '../../src/backends/postgres/index.js';
import { createMemory } from '../../src/index.js';
import { cli } from './helpers.js';

// `pglite:<dir>` names a PGlite directory, or the data directory `engram serve --data` keeps one in: the
// way to copy a server's memories out without running it (and across PGlite releases, docs/stores.md).
const root = await mkdtemp(join(tmpdir(), 'engram-cli-pglite-'));
afterAll(() => rm(root, { recursive: true, force: true }));

const lines = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { type: string; record?: { memory?: { content: string } } });

describe('pglite: stores', () => {
  it("exports engram serve's data directory, imports into a new one (its pglite/, as engram serve keeps it), and reads the same back", async () => {
    const data = join(root, 'served');
    const served = await createMemory({
      store: new PostgresStore(pglite(join(data, 'pglite'))),
      namespace: 'a',
    });
    const first = await served.add({ content: 'kept in a served PGlite', tags: ['x'] });
    const second = await served.add({ content: 'linked to the first' });
    await served.link(second.id, first.id, 'about');
    await served.close();

    const out = cli(['export', '--from', `pglite:${data}`]);
    expect(await out.exit, out.err.join('\n')).toBe(0);
    const dump = out.stdout();
    const memories = lines(dump).filter((line) => line.type === 'memory');
    expect(memories.map((m) => m.record?.memory?.content).sort()).toEqual([
      'kept in a served PGlite',
      'linked to the first',
    ]);
    expect(lines(dump).filter((line) => line.type === 'link')).toHaveLength(1);

    const copy = join(root, 'copy');
    const into = cli(['import', '--to', `pglite:${copy}`], {}, process.cwd(), { stdin: dump });
    expect(await into.exit, into.err.join('\n')).toBe(0);
    // Made where engram serve --data finds it.
    expect(existsSync(join(copy, 'pglite', 'PG_VERSION'))).toBe(true);
    const back = cli(['export', '--from', `pglite:${copy}`]);
    expect(await back.exit, back.err.join('\n')).toBe(0);
    expect(back.stdout()).toBe(dump);
  }, 120_000);

  it('a source without a database, or a file, is exit 2 naming it; nothing there is changed', async () => {
    const empty = join(root, 'empty');
    await mkdir(empty);
    for (const from of [`pglite:${empty}`, `pglite:${join(root, 'missing')}`]) {
      const run = cli(['export', '--from', from]);
      expect(await run.exit, from).toBe(2);
      expect(run.err.at(-1)).toBe(
        `engram export: ${from}: no PGlite database there (neither it nor its pglite/ directory holds PG_VERSION)`,
      );
    }
    // A file is no directory, as a source or as a target.
    const file = join(root, 'a-file');
    await writeFile(file, 'not a database');
    for (const argv of [
      ['export', '--from', `pglite:${file}`],
      ['import', '--to', `pglite:${file}`],
    ]) {
      const run = cli(argv);
      expect(await run.exit, argv[0]).toBe(2);
      expect(run.err.at(-1)).toBe(`engram ${argv[0]}: pglite:${file}: not a directory`);
    }
    expect(await readFile(file, 'utf8')).toBe('not a database');
    expect(await readdir(empty)).toEqual([]);
    expect(existsSync(join(root, 'missing'))).toBe(false);
  });

  it('a directory another opener holds is exit 2 saying who, and nothing is written', async () => {
    const dir = join(root, 'held');
    const holder = await createMemory({ store: new PostgresStore(pglite(dir)), namespace: 'a' });
    await holder.add({ id: 'mine', content: 'held open by another opener' });
    const run = cli(['import', '--to', `pglite:${dir}`], {}, process.cwd(), {
      stdin: `${JSON.stringify({ type: 'memory', namespace: 'a', id: 'theirs', content: 'x' })}\n`,
    });
    expect(await run.exit).toBe(2);
    expect(run.err.at(-1)).toMatch(/ is in use by the other end of this command \(engram serve\?\)/);
    expect((await holder.list()).items.map((m) => m.id)).toEqual(['mine']);
    await holder.close();
  }, 60_000);
});
