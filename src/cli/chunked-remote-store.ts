import { RemoteStore } from '../backends/remote/index.js';
import { isEngramError } from '../core/errors.js';
import type { ApplyResult, WriteBatch } from '../core/store-contract.js';

/** Half the edge's default body limit (1 MiB): room for the envelope and a server set lower than default. */
const BODY_BUDGET = 512 * 1024;

type Kind = 'memories' | 'links' | 'tombstones';
const KINDS: readonly Kind[] = ['memories', 'links', 'tombstones'];

/**
 * A RemoteStore for bulk imports. An import batch counts records, not bytes: 500 memories with
 * 1536-dimension embeddings are ~15 MB, far over the server's body limit. Batches are cut to fit a
 * byte budget, and a part the server still refuses as too large is halved until it fits. Splitting is
 * safe because imports merge by clock: a re-applied or partly applied batch ends in the same state.
 */
export class ChunkedRemoteStore extends RemoteStore {
  override async apply(namespace: string, batch: WriteBatch): Promise<ApplyResult> {
    const total: ApplyResult = { memories: [], links: [], deleted: [], rejected: [] };
    for (const part of byBudget(batch)) {
      const result = await this.applyHalving(namespace, part);
      total.memories.push(...result.memories);
      total.links.push(...result.links);
      total.deleted.push(...result.deleted);
      total.rejected.push(...result.rejected);
    }
    return total;
  }

  private async applyHalving(namespace: string, part: WriteBatch): Promise<ApplyResult> {
    try {
      return await super.apply(namespace, part);
    } catch (error) {
      const halves = isEngramError(error, 'PAYLOAD_TOO_LARGE') ? halve(part) : null;
      if (!halves) throw error;
      const first = await this.applyHalving(namespace, halves[0]);
      const second = await this.applyHalving(namespace, halves[1]);
      return {
        memories: [...first.memories, ...second.memories],
        links: [...first.links, ...second.links],
        deleted: [...first.deleted, ...second.deleted],
        rejected: [...first.rejected, ...second.rejected],
      };
    }
  }
}

/** Consecutive parts, in order, each under the byte budget (a single larger item goes alone); meta rides with the last. */
function byBudget(batch: WriteBatch): WriteBatch[] {
  const empty = (): WriteBatch => ({ ...batch, memories: [], links: [], tombstones: [], meta: undefined });
  const parts = [empty()];
  let bytes = 0;
  for (const kind of KINDS) {
    for (const item of batch[kind] ?? []) {
      const size = JSON.stringify(item).length;
      if (bytes > 0 && bytes + size > BODY_BUDGET) {
        parts.push(empty());
        bytes = 0;
      }
      (parts[parts.length - 1]![kind] as unknown[]).push(item);
      bytes += size;
    }
  }
  parts[parts.length - 1]!.meta = batch.meta;
  return parts;
}

function halve(batch: WriteBatch): [WriteBatch, WriteBatch] | null {
  const items = KINDS.flatMap((kind) => (batch[kind] ?? []).map((item) => [kind, item] as const));
  if (items.length < 2) return null;
  const middle = Math.ceil(items.length / 2);
  const collect = (slice: typeof items, meta: WriteBatch['meta']): WriteBatch => {
    const part: WriteBatch = { ...batch, memories: [], links: [], tombstones: [], meta };
    for (const [kind, item] of slice) (part[kind] as unknown[]).push(item);
    return part;
  };
  return [collect(items.slice(0, middle), undefined), collect(items.slice(middle), batch.meta)];
}
