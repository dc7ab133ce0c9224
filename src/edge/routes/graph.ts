import { Hono } from 'hono';
import type { Json, LinkOptions } from '../../core/model.js';
import type { EdgeEnv, FacadeFor } from '../env.js';
import { notFound } from '../errors.js';
import { LINKS_QUERY, NEIGHBORS_QUERY, PATH_QUERY } from '../query-shapes.js';
import { linkRecords, withClocks } from '../record-reads.js';
import { queryObject, readInstant, readObject, refuseOtherQuery, wantsClocks } from '../request.js';

/** Links and walks: `POST /links`, `DELETE /links/:id`, `/memories/:id/{links,neighbors}`, `GET /path`. */
export function graphRoutes(facadeFor: FacadeFor): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();

  app.post('/links', async (c) => {
    refuseOtherQuery(c, 'link');
    const body = await readObject(c, 'link', '{ "from": "...", "to": "...", "type": "related_to" }');
    const { from, to, type, ...options } = body as Record<string, Json>;
    const link = await facadeFor(c).link(
      from as string,
      to as string,
      type as string,
      options as LinkOptions,
    );
    return c.json(link, 201);
  });

  app.delete('/links/:id', async (c) => {
    refuseOtherQuery(c, 'unlink');
    const id = c.req.param('id');
    if (!(await facadeFor(c).unlink(id))) throw notFound(`link with id ${JSON.stringify(id)}`, 'unlink.id');
    return c.body(null, 204);
  });

  app.get('/memories/:id/links', async (c) => {
    const id = c.req.param('id');
    if (wantsClocks(c)) return c.json({ items: await linkRecords(c, id) });
    const options = queryObject(c, LINKS_QUERY);
    return c.json({ items: await facadeFor(c, readInstant(c)).links(id, options) });
  });

  app.get('/memories/:id/neighbors', async (c) => {
    const clocks = wantsClocks(c);
    const options = queryObject(c, NEIGHBORS_QUERY);
    const items = await facadeFor(c, readInstant(c)).neighbors(c.req.param('id'), options);
    return c.json({ items: clocks ? await withClocks(c, items) : items });
  });

  app.get('/path', async (c) => {
    const clocks = wantsClocks(c);
    const { from, to, ...options } = queryObject(c, PATH_QUERY);
    const path = await facadeFor(c, readInstant(c)).path(from as string, to as string, options);
    if (!path || !clocks) return c.json({ path });
    const records = await withClocks(c, path);
    // A node deleted while we read the clocks breaks the route; the honest answer is then "no path".
    return c.json({ path: records.length === path.length ? records : null });
  });

  return app;
}
