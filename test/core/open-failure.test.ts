import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory, isEngramError } from '../../src/index.js';

const dir = await mkdtemp(join(tmpdir(), 'engram-open-failure-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

it('closes the store it opened when createMemory fails, so the file can be opened again', async () => {
  const file = join(dir, 'notes.db');
  const german = await createMemory({ store: new SqlJsStore({ persist: file }), language: 'german' });
  await german.add({ content: 'Der Kaffee ist stark' });
  await german.close();
  // The namespace is German: asking for French fails after the store was opened (and locked).
  const refused = await createMemory({ store: new SqlJsStore({ persist: file }), language: 'french' }).catch(
    (error: unknown) => error,
  );
  expect(isEngramError(refused, 'VALIDATION')).toBe(true);
  const again = await createMemory({ store: new SqlJsStore({ persist: file }), language: 'german' });
  expect((await again.search('Kaffee')).map((h) => h.memory.content)).toEqual(['Der Kaffee ist stark']);
  await again.close();
});
