import { Hono } from 'hono';
import { EngramError } from '../../core/errors.js';
import type { MemoryInput, MemoryPatch } from '../../core/model.js';
import { idSchema, listOptionsSchema, parse } from '../../core/validate.js';
import type { EdgeEnv, FacadeFor } from '../env.js';
import { notFound } from '../errors.js';
import { LIST_QUERY } from '../query-shapes.js';
import { listRecords } from '../record-reads.js';
import { queryObject, readInstant, readJson, readObject, refuseOtherQuery, wantsClocks } from '../request.js';

/** `?dedupe=true` on `POST /memories`: the SDK's `add(input, { dedupe: true })`. */
function readDedupe(value: string | undefined): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new EngramError(
    'VALIDATION',
    `add.options.dedupe: expected true or false, got ${JSON.stringify(value)}`,
    {
      field: 'add.options.dedupe',
    },
  );
}

/** `/memories` and `/memories/:id`: the CRUD half of the façade. */
export function memoryRoutes(facadeFor: FacadeFor): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();

  app.get('/', async (c) => {
    const at = readInstant(c);
    if (wantsClocks(c)) return c.json({ items: await listRecords(c, at) });
    const options = parse(listOptionsSchema, queryObject(c, LIST_QUERY), 'list');
    return c.json(await facadeFor(c, at).list(options));
  });

  app.post('/', async (c) => {
    refuseOtherQuery(c, 'add', ['dedupe']);
    const body = await readJson(c);
    const mem = facadeFor(c);
    const dedupe = readDedupe(c.req.query('dedupe'));
    if (dedupe && Array.isArray(body)) {
      // As addMany(inputs, { dedupe }): adding the copies anyway would mislead.
      throw new EngramError(
        'VALIDATION',
        'add.options.dedupe: expected one memory (an object body) with dedupe, which adds one at a time, got an array',
        { field: 'add.options.dedupe' },
      );
    }
    const made = Array.isArray(body)
      ? await mem.addMany(body as MemoryInput[])
      : await mem.add(body as MemoryInput, dedupe ? { dedupe } : {});
    return c.json(made, 201);
  });

  app.get('/:id', async (c) => {
    refuseOtherQuery(c, 'get', ['now']);
    const id = c.req.param('id');
    const memory = await facadeFor(c, readInstant(c)).get(id);
    if (!memory) throw notFound(`memory with id ${JSON.stringify(id)}`, 'get.id');
    return c.json(memory);
  });

  app.patch('/:id', async (c) => {
    refuseOtherQuery(c, 'update');
    const patch = await readObject<MemoryPatch>(c, 'update.patch', '{ "tags": ["x"] }');
    return c.json(await facadeFor(c).update(c.req.param('id'), patch));
  });

  app.delete('/:id', async (c) => {
    refuseOtherQuery(c, 'remove');
    const id = parse(idSchema, c.req.param('id'), 'remove.id');
    if (!(await facadeFor(c).remove(id))) throw notFound(`memory with id ${JSON.stringify(id)}`, 'remove.id');
    return c.body(null, 204);
  });

  return app;
}
