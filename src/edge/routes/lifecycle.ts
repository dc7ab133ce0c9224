import { Hono } from 'hono';
import type { ContextOptions, MemoryInput } from '../../core/model.js';
import type { EdgeEnv, FacadeFor } from '../env.js';
import { COUNT_QUERY } from '../query-shapes.js';
import { queryObject, readInstant, readObject, refuseOtherQuery } from '../request.js';

/**
 * The lifecycle half of the façade (docs/lifecycle.md): `DELETE /memories` (clear),
 * `POST /memories/:id/supersede`, `GET /count`, `GET /stats` and `POST /context`.
 */
export function lifecycleRoutes(facadeFor: FacadeFor): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();

  app.delete('/memories', async (c) => {
    // Clear takes no filter: `?kind=x` must be refused, never read as "everything".
    refuseOtherQuery(c, 'clear');
    return c.json({ removed: await facadeFor(c).clear() });
  });

  app.post('/memories/:id/supersede', async (c) => {
    refuseOtherQuery(c, 'supersede');
    const input = await readObject<MemoryInput>(c, 'supersede.input', '{ "content": "..." }');
    return c.json(await facadeFor(c).supersede(c.req.param('id'), input), 201);
  });

  app.get('/count', async (c) => {
    const filter = queryObject(c, COUNT_QUERY);
    return c.json({ count: await facadeFor(c, readInstant(c)).count(filter) });
  });

  app.get('/stats', async (c) => {
    refuseOtherQuery(c, 'stats');
    return c.json(await facadeFor(c).stats());
  });

  app.post('/context', async (c) => {
    refuseOtherQuery(c, 'context', ['now']);
    const body = await readObject(c, 'context', '{ "query": "...", "maxChars": 2000 }');
    const { query, ...options } = body;
    const context = await facadeFor(c, readInstant(c)).context(query as string, options as ContextOptions);
    return c.json({ context });
  });

  return app;
}
