import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { LANGUAGE_META } from '../../src/core/text/index.js';
import { cli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'engram-mcp-open-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('engram mcp, when the memory does not open', () => {
  it('closes the store it opened: the file is free for the next opener', async () => {
    const file = join(dir, 'bad-language.db');
    // A namespace whose recorded language no release knows (written by hand, or by a newer Engram).
    const writer = new SqlJsStore({ persist: file });
    await writer.open();
    await writer.apply('default', { meta: { [LANGUAGE_META]: 'klingon' } });
    await writer.close();

    const run = cli(['mcp', '--store', `sqlite:${file}`], {}, dir);
    expect(await run.exit).not.toBe(0);
    expect(run.err.join('\n')).toMatch(/language/);
    // Still held by the failed run, this open would be refused (one writer per file).
    const next = new SqlJsStore({ persist: file });
    await expect(next.open()).resolves.toBeUndefined();
    await next.close();
  });
});
