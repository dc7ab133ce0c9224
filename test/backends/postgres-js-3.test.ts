import postgres3 from 'postgres-3';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, postgresJs } from '../../src/backends/postgres/index.js';
import { testStore } from '../conformance/index.js';

// Both postgres.js majors are in the peer range: 4.x, which the rest of the suite (and the Worker suite)
// runs, and 3.x, installed here under an npm alias and handed to postgresJs() as the app's own client.
const url = process.env.DATABASE_URL;

if (!url) {
  describe.skip('PostgresStore over postgres.js 3: skipped because DATABASE_URL is not set', () => {
    it('runs when DATABASE_URL points at a Postgres database', () => {});
  });
} else {
  const schema = `engram_pgjs3_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const client = postgres3(url, { onnotice: () => {}, max: 4, connection: { search_path: schema } });
  await client.unsafe(`CREATE SCHEMA ${schema}`);
  afterAll(async () => {
    await client.unsafe(`DROP SCHEMA ${schema} CASCADE`);
    await client.end();
  });
  const storeOver = () => new PostgresStore(postgresJs(client as never));

  testStore({
    name: 'PostgresStore (postgres.js 3)',
    create: storeOver,
    reopen: async (store) => {
      await store.close();
      return storeOver();
    },
    capabilities: { persistent: true },
  });

  describe('postgres.js 3: the driver beyond the store contract', () => {
    it('delivers notifications to listeners until they stop, and leaves the client open on close', async () => {
      const driver = postgresJs(client as never);
      const heard: string[] = [];
      const stop = await driver.listen!('engram_pgjs3', (payload) => heard.push(payload));
      await driver.notify!('engram_pgjs3', 'one');
      await expect.poll(() => heard).toEqual(['one']);
      // A channel still listened to, on the same LISTEN connection: its later notification arrives after
      // any of the first channel's that were still to be delivered.
      const after: string[] = [];
      const stopAfter = await driver.listen!('engram_pgjs3_after', (payload) => after.push(payload));
      await stop();
      await driver.notify!('engram_pgjs3', 'two');
      await driver.notify!('engram_pgjs3_after', 'done');
      await expect.poll(() => after).toEqual(['done']);
      await stopAfter();
      await driver.close?.();
      expect(await client`SELECT 1 AS one`).toEqual([{ one: 1 }]);
      expect(heard).toEqual(['one']);
    });
  });
}
