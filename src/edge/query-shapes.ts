import {
  countOptionsSchema,
  linksOptionsSchema,
  listOptionsSchema,
  neighborsOptionsSchema,
  pathOptionsSchema,
} from '../core/validate.js';
import type { QueryShape } from './request.js';

/** Options every read takes besides its own: `now` (TTL instant) and `include=clocks` (records). */
const READ_OPTIONS = ['now', 'include'];
const keysOf = (schema: { entries: object }) => Object.keys(schema.entries);

/** The query parameters of each read route: the SDK option names, so the schemas validate them as-is. */
export const LIST_QUERY: QueryShape = {
  where: 'list',
  allowed: keysOf(listOptionsSchema),
  numbers: ['limit'],
  booleans: ['history'],
  lists: ['tags'],
  objects: ['metadata'],
  omit: READ_OPTIONS,
};
/** With `include=clocks` a list pages with `before=<id>`, the store's own cursor, not the opaque one. */
export const LIST_RECORDS_QUERY: QueryShape = {
  ...LIST_QUERY,
  allowed: [...keysOf(listOptionsSchema).filter((k) => k !== 'cursor'), 'before'],
};
export const LINKS_QUERY: QueryShape = {
  where: 'links.options',
  allowed: keysOf(linksOptionsSchema),
  omit: READ_OPTIONS,
};
export const NEIGHBORS_QUERY: QueryShape = {
  where: 'neighbors.options',
  allowed: keysOf(neighborsOptionsSchema),
  numbers: ['depth'],
  omit: READ_OPTIONS,
};
export const PATH_QUERY: QueryShape = {
  where: 'path',
  allowed: ['from', 'to', ...keysOf(pathOptionsSchema)],
  numbers: ['maxDepth'],
  omit: READ_OPTIONS,
};
export const COUNT_QUERY: QueryShape = {
  where: 'count',
  allowed: keysOf(countOptionsSchema),
  booleans: ['history'],
  lists: ['tags'],
  objects: ['metadata'],
  // A count returns no records to carry clocks, so `include` is refused rather than ignored.
  omit: ['now'],
};
