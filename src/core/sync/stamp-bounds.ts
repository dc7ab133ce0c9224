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
  // The field path is only spelled out for a refusal: building it for every stamp of a 10K push cost more
  // than the check.
  const check = (wallMs: number, field: () => string, what: string) => {
    if (wallMs <= limit) return;
    const ahead = wallMs - nowMs;
    const path = field();
    throw new EngramError(
      'VALIDATION',
      `${path}: ${what} is ${describeAhead(ahead)} ${CLOCK_SKEW_REFUSAL} (at most ${maxSkewMs} ms allowed); check the device's clock`,
      { field: path },
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
        check(hlcWallMs(write.clocks[key]!) ?? 0, () => `sync.push.${kind}.${i}.clocks.${key}`, 'the stamp');
      }
      if (write.create) {
        check(
          Date.parse(write.create.createdAt),
          () => `sync.push.${kind}.${i}.create.createdAt`,
          'createdAt',
        );
      }
    }
  }
  const tombstones = push.tombstones ?? [];
  for (let i = 0; i < tombstones.length; i++) {
    check(hlcWallMs(tombstones[i]!.clock) ?? 0, () => `sync.push.tombstones.${i}.clock`, 'the stamp');
  }
}

function describeAhead(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} days`;
}
