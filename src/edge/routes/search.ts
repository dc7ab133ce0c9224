import { Hono } from 'hono';
import { validationError } from '../../core/errors.js';
import type { SearchOptions } from '../../core/model.js';
import type { EdgeEnv, FacadeFor } from '../env.js';
import { withClocks } from '../record-reads.js';
import { readInstant, readJson, wantsClocks } from '../request.js';

/** `POST /search` with `{ query, ...options }`: the SDK's `search(query, options)` as one body. */
export function searchRoutes(facadeFor: FacadeFor): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();

  app.post('/', async (c) => {
    const at = readInstant(c);
    const clocks = wantsClocks(c);
    const body = await readJson(c);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw validationError('search', 'an object like { "query": "..." }');
    }
    const { query, ...options } = body as { query?: unknown } & SearchOptions;
    const hits = await facadeFor(c, at).search(query as string, options);
    if (!clocks) return c.json({ hits });
    const records = await withClocks(
      c,
      hits.map((h) => h.memory),
    );
    const byId = new Map(records.map((r) => [r.memory.id, r]));
    return c.json({
      hits: hits.flatMap((h) => {
        const record = byId.get(h.memory.id);
        return record ? [{ ...record, score: h.score }] : [];
      }),
    });
  });

  return app;
}
