import { describe, expect, it } from 'vitest';
import { createMemory } from '../../src/index.js';
import { freshNamespace, type SuiteContext } from './harness.js';

/** Runs only for stores that declare `persistent`; an in-memory store has no reopen to test. */
export function persistenceCases(ctx: SuiteContext): void {
  const { capabilities, reopen } = ctx.options;
  if (!capabilities?.persistent) return;
  describe('persistence', () => {
    it('keeps memories, links, search index, tombstones and the change feed across a reopen', async () => {
      if (!reopen) throw new Error(`${ctx.options.name}: a persistent store must provide reopen()`);
      const namespace = freshNamespace('persist');
      const scratch = await ctx.options.create();
      const mem = await createMemory({ store: scratch, namespace });
      const [a, b, c] = await mem.addMany([
        { content: 'persistent penguin facts', tags: ['bird'], embedding: [1, 0] },
        { content: 'another penguin' },
        { content: 'doomed' },
      ]);
      const link = await mem.link(a!.id, b!.id, 'rel');
      await mem.remove(c!.id);
      const feed = await scratch.changes(namespace, 0, 100);
      const reopened = await reopen(scratch);
      const again = await createMemory({ store: reopened, namespace });
      expect(await again.get(a!.id)).toEqual(a);
      expect((await again.links(a!.id)).map((l) => l.id)).toEqual([link.id]);
      expect((await again.search('penguin')).map((h) => h.memory.id).sort()).toEqual([a!.id, b!.id].sort());
      expect(await reopened.getTombstones(namespace, [c!.id])).toHaveLength(1);
      expect(await reopened.changes(namespace, 0, 100)).toEqual(feed);
      await again.close();
    });
  });
}
