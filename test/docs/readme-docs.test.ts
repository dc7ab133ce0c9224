import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

// README.md's "Use it" example, run as written against the built package, with what its comments
// promise checked: IndexedDB is fake-indexeddb's, and the sync URL a local port nothing listens on
// (the example's own host is not reached from a test).
const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const scripts = join(root, 'test-artifacts/docs');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const example = /## Use it\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];

beforeAll(async () => {
  mkdirSync(scripts, { recursive: true });
  // npm test builds first; a bare `vitest run` may not have.
  if (!existsSync(join(root, 'dist/backends/indexeddb/index.js')))
    await run('npx', ['tsup'], { cwd: root, timeout: 180_000 });
}, 200_000);

describe("README.md's example", () => {
  it('runs, and its question, typo and neighbors find what the comments say', async () => {
    expect(example, 'README.md has a "Use it" ts block').toBeDefined();
    const question = /await mem\.search\(('[^']*\?'), \{ explain: true \}\)/.exec(example!)?.[1];
    expect(question, 'the example asks a question with explain').toBeDefined();
    const source = `import 'fake-indexeddb/auto';
const token = 'unused';
const rendered = [];
const render = (hits) => rendered.push(hits.map((h) => h.memory.content));
${example!.replace("'https://engram.example.com'", "'http://127.0.0.1:9'")}
const contents = (hits) => hits.map((h) => h.memory.content);
const asked = await mem.search(${question}, { explain: true });
console.log(JSON.stringify({
  question: contents(asked),
  explained: asked.every((h) => h.explain !== undefined),
  typo: contents(await mem.search('cofee')),
  neighbors: (await mem.neighbors(mornings.id)).map((m) => m.content),
  rendered,
}));
stop();
await mem.close();
`;
    const file = join(scripts, 'readme-use-it.mjs');
    writeFileSync(file, source);
    const { stdout } = await run(process.execPath, [file], { cwd: root, timeout: 60_000 });
    // The example logs status changes to stdout too: the results are the last line.
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({
      question: ['Prefers dark roast coffee'],
      explained: true,
      typo: ['Prefers dark roast coffee'],
      neighbors: ['Prefers dark roast coffee'],
      rendered: [['Prefers dark roast coffee']],
    });
  }, 90_000);
});
