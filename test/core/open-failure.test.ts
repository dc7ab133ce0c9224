import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory, isEngramError } from '../../src/index.js';

const dir = await mkdtemp(join(tmpdir(), 'engram-open-failure-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

it('leaves the store open when createMemory fails on it: a retry uses it, and closing it frees the file', async () => {
  const file = join(dir, 'notes.db');
  const german = await createMemory({ store: new SqlJsStore({ persist: file }), language: 'german' });
  await german.add({ content: 'Der Kaffee ist stark' });
  await german.close();
  // The namespace is German: asking for French fails after the store was opened (and locked).
  const store = new SqlJsStore({ persist: file });
  const refused = await createMemory({ store, language: 'french' }).catch((error: unknown) => error);
  expect(isEngramError(refused, 'VALIDATION') && refused.field).toBe('language');
  const retried = await createMemory({ store, language: 'german' });
  expect((await retried.search('Kaffee')).map((h) => h.memory.content)).toEqual(['Der Kaffee ist stark']);
  await retried.close();
  const other = new SqlJsStore({ persist: file });
  await createMemory({ store: other, language: 'french' }).catch(() => undefined);
  await other.close();
  const again = await createMemory({ store: new SqlJsStore({ persist: file }), language: 'german' });
  expect(await again.count()).toBe(1);
  await again.close();
});
