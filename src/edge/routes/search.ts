import { Hono } from 'hono';
import type { SearchOptions } from '../../core/model.js';
import type { EdgeEnv, FacadeFor } from '../env.js';
import { withClocks } from '../record-reads.js';
import { readInstant, readObject, refuseOtherQuery, wantsClocks } from '../request.js';

/** `POST /search` with `{ query, ...options }`: the SDK's `search(query, options)` as one body. */
export function searchRoutes(facadeFor: FacadeFor): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();

  app.post('/', async (c) => {
    refuseOtherQuery(c, 'search', ['now', 'include']);
    const at = readInstant(c);
    const clocks = wantsClocks(c);
    const body = await readObject(c, 'search', '{ "query": "..." }');
    const { query, ...options } = body as { query?: unknown } & SearchOptions;
    const facade = facadeFor(c, at);
    // Embeddings of other models that the search skipped travel back so the client can warn too.
    let otherModels = 0;
    facade.on('warning', (w) => {
      if (w.code === 'EMBEDDING_MODEL_MISMATCH') otherModels += w.count ?? 0;
    });
    const hits = await facade.search(query as string, options);
    const skipped = otherModels > 0 ? { otherModels } : {};
    if (!clocks) return c.json({ hits, ...skipped });
    const records = await withClocks(
      c,
      hits.map((h) => h.memory),
    );
    const byId = new Map(records.map((r) => [r.memory.id, r]));
    return c.json({
      hits: hits.flatMap((h) => {
        const record = byId.get(h.memory.id);
        if (!record) return [];
        return [
          h.explain ? { ...record, score: h.score, explain: h.explain } : { ...record, score: h.score },
        ];
      }),
      ...skipped,
    });
  });

  return app;
}
