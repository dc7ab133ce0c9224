import { migrateToVersion3 } from './migrate-v3.js';
import type { EngramDatabase, UpgradeTransaction } from './schema.js';

/**
 * v3 -> v4, inside the upgrade transaction: stems move to shards of their own, hashed on the whole
 * term (see shardOf in text-shards.ts), so a search reads far smaller rows. The text index is rebuilt
 * from the stored content by v3's step, which writes today's layout; records, the change feed and
 * sequence numbers stay as they are.
 */
export function migrateToVersion4(db: EngramDatabase, tx: UpgradeTransaction): Promise<void> {
  return migrateToVersion3(db, tx);
}
