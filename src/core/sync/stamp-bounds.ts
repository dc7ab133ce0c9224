import { EngramError } from '../errors.js';
import { hlcWallMs } from '../hlc.js';
import { CLOCK_SKEW_REFUSAL, type SyncRequest } from './protocol.js';

/**
 * Refuses a push carrying a stamp (or a creation time) more than `maxSkewMs` ahead of the server's
 * clock. Such a stamp would win every later edit until the world caught up with it: a device whose
 * clock runs a day ahead, or a client forging year-2100 stamps, would freeze the field.
 */
export function assertStampsInBounds(
  push: NonNullable<SyncRequest['push']>,
  nowMs: number,
  maxSkewMs: number,
): void {
  const limit = nowMs + maxSkewMs;
  // Compared before the field path is spelled out: building it for every stamp of a 10K push cost more
  // than the check.
  const refuse = (wallMs: number, field: string, what: string): never => {
    throw new EngramError(
      'VALIDATION',
      `${field}: ${what} is ${describeAhead(wallMs - nowMs)} ${CLOCK_SKEW_REFUSAL} (at most ${maxSkewMs} ms allowed); check the device's clock`,
      { field },
    );
  };
  const writes = [
    ['memories', push.memories ?? []],
    ['links', push.links ?? []],
  ] as const;
  for (const [kind, list] of writes) {
    for (let i = 0; i < list.length; i++) {
      const write = list[i]!;
      for (const key of Object.keys(write.clocks)) {
        const wallMs = hlcWallMs(write.clocks[key]!) ?? 0;
        if (wallMs > limit) refuse(wallMs, `sync.push.${kind}.${i}.clocks.${key}`, 'the stamp');
      }
      const createdMs = write.create ? Date.parse(write.create.createdAt) : Number.NaN;
      if (createdMs > limit) refuse(createdMs, `sync.push.${kind}.${i}.create.createdAt`, 'createdAt');
    }
  }
  const tombstones = push.tombstones ?? [];
  for (let i = 0; i < tombstones.length; i++) {
    const wallMs = hlcWallMs(tombstones[i]!.clock) ?? 0;
    if (wallMs > limit) refuse(wallMs, `sync.push.tombstones.${i}.clock`, 'the stamp');
  }
}

function describeAhead(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} days`;
}
