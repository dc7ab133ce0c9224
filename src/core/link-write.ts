import { NotFoundError } from './errors.js';
import { hlcToIso, observeStamps } from './hlc.js';
import { uuidv7 } from './ids.js';
import { requireLivePair } from './live-records.js';
import type { WritesHost } from './memory-writes.js';
import type { Link, LinkOptions } from './model.js';
import { createLinkWrite } from './writes.js';

/** MemoryWrites.link's write: creates the link, or updates the one of the same memories and type. */
export async function putLink(
  host: WritesHost,
  fromId: string,
  toId: string,
  type: string,
  parsed: LinkOptions,
): Promise<Link> {
  const { store, namespace, clock, now } = host;
  const pair = store.linksBetween
    ? await store.linksBetween(namespace, fromId, toId)
    : await store.linksOf(namespace, [fromId], { direction: 'out', type });
  const existing = pair.find((r) => r.link.to === toId && r.link.type === type);
  if (existing) observeStamps(clock, existing);
  const stamp = clock.tick();
  const write = existing
    ? {
        id: existing.link.id,
        values: { ...parsed },
        clocks: Object.fromEntries(Object.keys(parsed).map((k) => [k, stamp])),
      }
    : createLinkWrite(
        {
          id: uuidv7(now()),
          namespace,
          from: fromId,
          to: toId,
          type,
          createdAt: hlcToIso(stamp),
          ...parsed,
        },
        stamp,
      );
  const result = await host.write(
    existing ? { links: [write] } : { links: [write], newIds: [write.id] },
    'link',
    [write.id],
  );
  const link = result.links[0];
  if (!link) {
    // The store dropped the link: another process removed an end since link() checked both. Name it.
    await requireLivePair(host, [fromId, 'link.from'], [toId, 'link.to']);
    throw new NotFoundError('link: one of its memories was deleted meanwhile', {
      field: 'link.from',
    });
  }
  return link.link;
}
