import { Hono } from 'hono';
import type { MemoryInput, MemoryPatch, MemoryStore } from '../../core/types.js';
import { idSchema, listOptionsSchema, parse } from '../../core/validate.js';
import type { EdgeEnv, FacadeFor } from '../env.js';
import { notFound } from '../errors.js';
import { queryObject, readInstant, readJson, wantsClocks } from '../request.js';
import { LIST_QUERY } from './queries.js';
import { listRecords } from './records.js';

/** `/memories` and `/memories/:id`: the CRUD half of the façade. */
export function memoryRoutes(store: MemoryStore, facadeFor: FacadeFor): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();

  app.get('/', async (c) => {
    const at = readInstant(c);
    if (wantsClocks(c)) return c.json({ items: await listRecords(store, c.var.namespace, c, at) });
    const options = parse(listOptionsSchema, queryObject(c, LIST_QUERY), 'list');
    return c.json(await facadeFor(c.var.namespace, at).list(options));
  });

  app.post('/', async (c) => {
    const body = await readJson(c);
    const mem = facadeFor(c.var.namespace);
    const made = Array.isArray(body)
      ? await mem.addMany(body as MemoryInput[])
      : await mem.add(body as MemoryInput);
    return c.json(made, 201);
  });

  app.get('/:id', async (c) => {
    const id = c.req.param('id');
    const memory = await facadeFor(c.var.namespace, readInstant(c)).get(id);
    if (!memory) throw notFound(`memory with id ${JSON.stringify(id)}`, 'get.id');
    return c.json(memory);
  });

  app.patch('/:id', async (c) => {
    const patch = (await readJson(c)) as MemoryPatch;
    return c.json(await facadeFor(c.var.namespace).update(c.req.param('id'), patch));
  });

  app.delete('/:id', async (c) => {
    const id = parse(idSchema, c.req.param('id'), 'remove.id');
    if (!(await facadeFor(c.var.namespace).remove(id)))
      throw notFound(`memory with id ${JSON.stringify(id)}`, 'remove.id');
    return c.body(null, 204);
  });

  return app;
}
