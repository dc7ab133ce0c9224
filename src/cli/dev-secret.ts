import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomHex } from '../core/ids.js';

/**
 * The secret of a dev server: made once, kept in the data directory (owner-only) so tokens printed
 * yesterday still work today. Never used when a secret is given.
 */
export function devSecret(dataDir: string): { secret: string; file: string; created: boolean } {
  const file = join(dataDir, 'dev-secret');
  try {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret) return { secret, file, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomHex(32);
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return { secret, file, created: true };
}
