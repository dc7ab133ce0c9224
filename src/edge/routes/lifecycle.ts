import { Hono } from 'hono';
import { EngramError } from '../../core/errors.js';
import type { ContextOptions, MemoryInput } from '../../core/model.js';
import type { EdgeEnv, FacadeFor } from '../env.js';
import { COUNT_QUERY } from '../query-shapes.js';
import { queryObject, readInstant, readJson } from '../request.js';

function objectBody(body: unknown, where: string, example: string): Record<string, unknown> {
  if (typeof body === 'object' && body !== null && !Array.isArray(body))
    return body as Record<string, unknown>;
  throw new EngramError('VALIDATION', `${where}: expected an object like ${example}`, { field: where });
}

/**
 * The lifecycle half of the façade (docs/lifecycle.md): `DELETE /memories` (clear),
 * `POST /memories/:id/supersede`, `GET /count`, `GET /stats` and `POST /context`.
 */
export function lifecycleRoutes(facadeFor: FacadeFor): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();

  app.delete('/memories', async (c) => c.json({ removed: await facadeFor(c).clear() }));

  app.post('/memories/:id/supersede', async (c) => {
    const input = (await readJson(c)) as MemoryInput;
    return c.json(await facadeFor(c).supersede(c.req.param('id'), input), 201);
  });

  app.get('/count', async (c) => {
    const filter = queryObject(c, COUNT_QUERY);
    return c.json({ count: await facadeFor(c, readInstant(c)).count(filter) });
  });

  app.get('/stats', async (c) => c.json(await facadeFor(c).stats()));

  app.post('/context', async (c) => {
    const body = objectBody(await readJson(c), 'context', '{ "query": "...", "maxChars": 2000 }');
    const { query, ...options } = body;
    const context = await facadeFor(c, readInstant(c)).context(query as string, options as ContextOptions);
    return c.json({ context });
  });

  return app;
}
