import { expect } from 'vitest';
import { createMemory, type MemoryStore } from '../../src/index.js';

/** `usage` (a store that has it) counts a namespace's memories and the UTF-8 bytes of their content and metadata JSON. */
export async function expectUsageCounted(store: MemoryStore & Required<Pick<MemoryStore, 'usage'>>) {
  const mem = await createMemory({ store, namespace: 'usage' });
  expect(await store.usage('usage')).toEqual({ memories: 0, bytes: 0 });
  await mem.add({ content: 'café', metadata: { k: 'ü' } });
  await mem.add({ content: 'plain' });
  const utf8 = (text: string) => new TextEncoder().encode(text).length;
  const bytes = utf8('café') + utf8(JSON.stringify({ k: 'ü' })) + utf8('plain') + utf8('{}');
  expect(await store.usage('usage')).toEqual({ memories: 2, bytes });
  expect(await store.usage('other')).toEqual({ memories: 0, bytes: 0 });
  await mem.close();
}
